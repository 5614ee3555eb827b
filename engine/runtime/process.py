"""The last steps of any container process (first process or exec): find the program,
become the user, drop privileges, load seccomp, exec. Failures go back to the shim on
the error pipe as one JSON line, with the exit code Docker would report."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat

from . import caps, seccomp
from . import syscalls as sc
from .errors import StartError
from .spec import ExecSpec, Rlimit, Spec

# Every RLIMIT_* this Python knows (RLIMIT_LOCKS, for one, is missing in some builds).
_RLIMITS = {name: getattr(resource, name) for name in dir(resource)
            if name.startswith("RLIMIT_")}


class ExecError(StartError):
    """Raised in the forked child before its exec; reported to the shim on the error pipe."""


def report(err_fd: int, message: str, exit_code: int) -> None:
    try:
        os.write(err_fd, json.dumps({"error": message, "exit_code": exit_code}).encode())
    except OSError:
        pass


def lookup(argv0: str, env: list[str]) -> str:
    """PATH resolution as runc does it, with Docker's messages and exit codes."""
    if "/" in argv0:
        candidates = [argv0]
    else:
        path = next((e[5:] for e in env if e.startswith("PATH=")),
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        candidates = [os.path.join(d or ".", argv0) for d in path.split(":")]
    for cand in candidates:
        try:
            st = os.stat(cand)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if "/" in argv0:
                raise ExecError(f'exec: "{argv0}": permission denied', 126)
            continue
        return cand
    if "/" in argv0:
        raise ExecError(f'exec: "{argv0}": stat {argv0}: no such file or directory', 127)
    raise ExecError(f'exec: "{argv0}": executable file not found in $PATH', 127)


def set_rlimits(limits: list[Rlimit]) -> None:
    for lim in limits:
        name = lim["type"].upper()
        name = name if name.startswith("RLIMIT_") else "RLIMIT_" + name
        kind = _RLIMITS.get(name)
        if kind is None:
            continue
        soft, hard = lim["soft"], lim["hard"]
        _, host_hard = resource.getrlimit(kind)
        # Without CAP_SYS_RESOURCE the hard limit cannot be raised: clamp, don't fail.
        if host_hard != resource.RLIM_INFINITY:
            hard = min(hard, host_hard) if hard >= 0 else host_hard
            soft = min(soft, hard) if soft >= 0 else hard
        try:
            resource.setrlimit(kind, (soft, hard))
        except (ValueError, OSError):
            pass


def become(spec: Spec | ExecSpec) -> None:
    """User, capabilities, no_new_privs, seccomp — then exec. Never returns."""
    user = spec.get("user") or {}
    env = with_home(list(spec.get("env") or []), user.get("home"))
    args = list(spec["args"])
    path = lookup(args[0], env)
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    keep = caps.mask(list(spec.get("capabilities") or []), bool(spec.get("privileged")))
    caps.drop_bounding(keep)
    nnp = bool(spec.get("no_new_privileges"))
    # The default profile relaxes by what is really held (all of it when privileged).
    held = [name for name, bit in caps.NUMBERS.items() if keep & (1 << bit)]
    filt = seccomp.build(spec.get("seccomp", "default"), held)
    if filt is not None and not nnp:
        filt.load()  # while we still hold CAP_SYS_ADMIN, as runc does without NNP
    os.setgroups([int(g) for g in user.get("additional_gids") or []])
    os.setgid(gid)
    os.setuid(uid)  # for a non-root user the kernel clears the permitted set, as in Docker
    if uid == 0:
        caps.apply(keep)
    else:
        try:
            sc.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_CLEAR_ALL)
        except OSError:
            pass
    if nnp:
        sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
        if filt is not None:
            filt.load()
    # Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across
    # exec: give the container's program the default dispositions it expects.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        os.execve(path, args, dict(e.split("=", 1) for e in env if "=" in e))
    except PermissionError:
        raise ExecError(f'exec: "{args[0]}": permission denied', 126) from None
    except OSError as exc:
        raise ExecError(f'exec: "{args[0]}": {(exc.strerror or str(exc)).lower()}', 127) from None


def with_home(env: list[str], home: str | None) -> list[str]:
    """runc's rule: an unset or empty HOME becomes the user's home from the image's passwd."""
    if not home or any(e.startswith("HOME=") and e != "HOME=" for e in env):
        return env
    return [e for e in env if e != "HOME="] + [f"HOME={home}"]


def chdir_creating(cwd: str, uid: int, gid: int) -> None:
    """Docker creates a missing working directory."""
    try:
        os.chdir(cwd)
    except FileNotFoundError:
        os.makedirs(cwd, 0o755, exist_ok=True)
        os.chdir(cwd)
