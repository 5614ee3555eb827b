"""The container's first process and exec processes, between fork and exec.

Runs in a child forked by the shim, already inside the new pid namespace.
"""

from __future__ import annotations

import os
import socket

from . import mounts, process, sysctls, tty
from . import syscalls as sc
from .spec import ExecSpec, Mount, Spec

NS_FILES = (("ipc", sc.CLONE_NEWIPC), ("uts", sc.CLONE_NEWUTS), ("net", sc.CLONE_NEWNET),
            ("mnt", sc.CLONE_NEWNS))


def _wait_go(sync_r: int) -> None:
    if os.read(sync_r, 1) != b"G":
        os._exit(120)  # the shim went away before releasing us
    os.close(sync_r)


def _stdio(stdio: tuple[int, int, int] | None, tty_sock: socket.socket | None,
           size: list[int] | None) -> None:
    if tty_sock is not None:
        master, slave = tty.open_pty()
        if size:
            tty.set_size(master, size[0], size[1])
        tty.send_fd(tty_sock, master)
        os.close(master)
        tty_sock.close()
        tty.make_controlling(slave)
    elif stdio is not None:
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)


def run_init(spec: Spec, sync_r: int, err_w: int,
             stdio: tuple[int, int, int] | None, tty_sock: socket.socket | None) -> None:
    """Never returns: execs the container's program or exits with Docker's code."""
    try:
        ns = spec.get("namespaces") or {}
        flags = sc.CLONE_NEWNS
        if ns.get("uts", "new") == "new":
            flags |= sc.CLONE_NEWUTS
        if ns.get("ipc", "new") == "new":
            flags |= sc.CLONE_NEWIPC
        net = ns.get("net", "none")
        if net == "none":
            flags |= sc.CLONE_NEWNET
        sc.unshare(flags)
        if flags & sc.CLONE_NEWNET:
            sc.loopback_up()  # --network none: lo up with 127.0.0.1/8, as dockerd's sandbox
            sysctls.disable_ipv6()  # and no ::1; before the user's sysctls, which may undo it
        # A path joins an existing namespace (netns file, --ipc/--uts container:<id>).
        for target, nstype, keep in ((net, sc.CLONE_NEWNET, ("none", "host")),
                                     (ns.get("ipc", "new"), sc.CLONE_NEWIPC, ("new", "host")),
                                     (ns.get("uts", "new"), sc.CLONE_NEWUTS, ("new", "host"))):
            if target not in keep:
                fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
                sc.setns(fd, nstype)
                os.close(fd)
        _wait_go(sync_r)
        sysctl_map = spec.get("sysctls") or {}
        for key in sysctl_map:  # refused as runc does, before anything is set up
            why = sysctls.refusal(key, ns)
            if why is not None:
                raise process.ExecError(why, 128)
        sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
        root = os.path.join(spec["bundle"], "rootfs")
        os.makedirs(root, exist_ok=True)
        mounts.mount_rootfs(spec["rootfs"], root)
        mounts.mount_standard(root, spec)
        user_mounts: list[Mount] = list(spec.get("mounts") or [])
        init = spec.get("init")
        if init:
            user_mounts.append({"destination": "/dev/init", "type": "bind",
                                "source": init, "options": ["bind", "ro"]})
        for m in user_mounts:
            mounts.mount_user(root, m)
        mounts.pivot(root)
        if flags & sc.CLONE_NEWUTS:
            sc.sethostname(spec.get("hostname") or "")
            if spec.get("domainname"):
                sc.setdomainname(spec["domainname"])
        sysctls.write(sysctl_map)
        mounts.mask_paths(list(spec.get("masked_paths") or []),
                          list(spec.get("readonly_paths") or []))
        if spec.get("readonly_rootfs"):
            mounts.readonly_root()
        _stdio(stdio, tty_sock, spec.get("console_size"))
        process.set_rlimits(list(spec.get("rlimits") or []))
        if spec.get("oom_score_adj"):
            _set_oom_score_adj(spec["oom_score_adj"])
        user = spec.get("user") or {}
        process.chdir_creating(spec.get("cwd") or "/", user.get("uid", 0), user.get("gid", 0))
        if init:
            spec = spec.copy()
            spec["args"] = ["/dev/init", "--", *spec["args"]]
        process.become(spec)
    except process.ExecError as exc:
        process.report(err_w, str(exc), exc.exit_code)
        os._exit(exc.exit_code)
    except BaseException as exc:  # noqa: BLE001 - everything must reach the shim
        process.report(err_w, f"unable to start container process: {exc}", 128)
        os._exit(128)


def _set_oom_score_adj(value: int) -> None:
    """The daemon already raised a value the host refuses (with a warning at create);
    should the host have changed since, the container still starts, as a pod must."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(value))
    except PermissionError:
        pass


def open_namespaces(pid: int) -> list[tuple[int, int]]:
    """Open before joining any: after setns(mnt), /proc is the container's."""
    return [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC), kind)
            for name, kind in NS_FILES]


def run_exec(spec: ExecSpec, namespaces: list[tuple[int, int]], sync_r: int,
             err_w: int, stdio: tuple[int, int, int] | None,
             tty_sock: socket.socket | None) -> None:
    try:
        _wait_go(sync_r)
        for fd, kind in namespaces:
            sc.setns(fd, kind)
            os.close(fd)
        _stdio(stdio, tty_sock, spec.get("console_size"))
        os.chdir(spec.get("cwd") or "/")
        process.become(spec)
    except process.ExecError as exc:
        process.report(err_w, str(exc), exc.exit_code)
        os._exit(exc.exit_code)
    except BaseException as exc:  # noqa: BLE001
        process.report(err_w, f"exec failed: {exc}", 126)
        os._exit(126)
