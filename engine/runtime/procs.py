"""The processes a shim holds: the container's first process and its execs.

Each is forked blocked on a sync pipe, so that it is in the container's cgroup before it
runs anything, then released; its stdio (pipes, or a pty master passed back over a
socket) stays with the shim, which logs it and relays it to attach and exec clients.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from . import container, tty
from .cgroups import Cgroup
from .spec import ExecSpec, Spec

OUTPUT_CHUNK = 1 << 20  # fewer, larger reads: logging cost is per chunk, not per line
F_SETPIPE_SZ = 1031

Stdio = tuple[int, int, int]
# What runs in the forked child: (sync_r, err_w, stdio, tty socket) -> never returns.
ChildMain = Callable[[int, int, Stdio | None, socket.socket | None], None]


@dataclass(eq=False)
class Proc:
    pid: int
    pidfd: int
    tty: bool
    stdin_fd: int | None
    outs: dict[int, str]  # fd -> "stdout" / "stderr"
    master: int | None = None
    status: int | None = None  # the wait status, once reaped
    exec_id: str = ""  # "" for the container's first process
    # Until release(): the child's go-ahead pipe, the pipe it reports a failure on, and
    # the socket its pty master arrives on.
    sync_w: int = -1
    err_r: int = -1
    tty_sock: socket.socket | None = field(default=None, repr=False)


def spawn_init(spec: Spec, cgroup: Cgroup) -> Proc:
    def child(sync_r: int, err_w: int, stdio: Stdio | None,
              tty_sock: socket.socket | None) -> None:
        container.run_init(spec, sync_r, err_w, stdio, tty_sock)

    return _spawn(child, bool(spec.get("tty")), bool(spec.get("open_stdin")), (), cgroup)


def spawn_exec(spec: ExecSpec, namespaces: list[tuple[int, int]], cgroup: Cgroup) -> Proc:
    def child(sync_r: int, err_w: int, stdio: Stdio | None,
              tty_sock: socket.socket | None) -> None:
        container.run_exec(spec, namespaces, sync_r, err_w, stdio, tty_sock)

    return _spawn(child, bool(spec.get("tty")), bool(spec.get("stdin")),
                  [fd for fd, _ in namespaces], cgroup)


def _spawn(child: ChildMain, use_tty: bool, wants_stdin: bool, inherit: list[int] | tuple[()],
           cgroup: Cgroup) -> Proc:
    """Fork a container process blocked on its sync pipe, placed in the cgroup."""
    sync_r, sync_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    parent_tty = child_tty = None
    stdio: Stdio | None = None
    stdin_w = None
    outs: dict[int, str] = {}
    if use_tty:
        parent_tty, child_tty = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        stdio, stdin_w, outs = _pipes(wants_stdin)
    pid = os.fork()
    if pid == 0:
        try:
            keep = {sync_r, err_w, *(stdio or ()),
                    *([child_tty.fileno()] if child_tty is not None else []), *inherit}
            close_other_fds(keep)
            child(sync_r, err_w, stdio, child_tty)
        finally:
            os._exit(127)
    os.close(sync_r)
    os.close(err_w)
    for fd in stdio or ():
        os.close(fd)
    if child_tty is not None:
        child_tty.close()
    try:
        cgroup.add(pid)
    except OSError:
        pass  # the child reports its own failure, or was already placed
    return Proc(pid, os.pidfd_open(pid), use_tty, stdin_w, outs,
                sync_w=sync_w, err_r=err_r, tty_sock=parent_tty)


def _pipes(wants_stdin: bool) -> tuple[Stdio, int | None, dict[int, str]]:
    """The child's (stdin, stdout, stderr) ends, our stdin end, and our output ends."""
    stdin_w = None
    if wants_stdin:
        in_r, stdin_w = os.pipe2(os.O_CLOEXEC)
    else:
        in_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    errp_r, errp_w = os.pipe2(os.O_CLOEXEC)
    for fd in (out_r, errp_r):
        with contextlib.suppress(OSError):  # bounded by fs.pipe-max-size
            fcntl.fcntl(fd, F_SETPIPE_SZ, OUTPUT_CHUNK)
    return (in_r, out_w, errp_w), stdin_w, {out_r: "stdout", errp_r: "stderr"}


def release(proc: Proc) -> dict[str, str | int]:
    """Let the child run to its exec; returns {} or the failure it reported."""
    os.write(proc.sync_w, b"G")
    os.close(proc.sync_w)
    if proc.tty_sock is not None:
        master = tty.recv_fd(proc.tty_sock)
        proc.tty_sock.close()
        proc.tty_sock = None
        if master is not None:
            os.set_blocking(master, False)
            proc.master = master
            proc.outs = {master: "stdout"}
            proc.stdin_fd = master
    data = b""
    while chunk := os.read(proc.err_r, 4096):
        data += chunk
    os.close(proc.err_r)
    if not data:
        return {}
    try:
        failure: dict[str, str | int] = json.loads(data)
        return failure
    except ValueError:
        return {"error": data.decode(errors="replace"), "exit_code": 128}


def close_other_fds(keep: set[int]) -> None:
    """A container process holds only what it needs: not the daemon's ready pipe (its
    EOF tells the daemon the shim is up), not other clients' sockets."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
