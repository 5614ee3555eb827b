"""The spawner: a single-threaded interpreter started once, forking on request.

Forking the multi-threaded asyncio daemon is unsafe (locks held by other threads stay
locked in the child), and a fresh interpreter per container costs 15–50 ms; a fork of
this preloaded process costs a few. Requests arrive on a SOCK_SEQPACKET socket with
the file descriptors they need (SCM_RIGHTS).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any

from . import container, inroot, mounts, process, seccomp, shim  # noqa: F401 - preloaded for forks
from . import syscalls as sc
from .spec import DirRootfs, OverlayRootfs, Spec
from .sysctls import disable_ipv6

MAX_MESSAGE = 1 << 22


def _detach_stdio(bundle: str) -> None:
    """The shim must not hold the daemon's stdout/stderr (a pipe to a supervisor or a
    test harness would never see EOF while any container lives): /dev/null in, its own
    log file for anything it prints."""
    null = os.open("/dev/null", os.O_RDWR)
    log = os.open(os.path.join(bundle, "shim.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                  0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)


def spawn(spec: Spec, fds: list[int], zygote_sock: socket.socket) -> None:
    ready_fd = fds[0]
    pid = os.fork()
    if pid == 0:
        try:
            zygote_sock.close()  # the daemon's channel is not the shim's business
            os.setsid()
            if os.fork() != 0:
                os._exit(0)  # the shim is orphaned to init: it must outlive the daemon
            _detach_stdio(spec["bundle"])
            shim.main(spec, ready_fd)
        except BaseException as exc:  # noqa: BLE001
            try:
                os.write(ready_fd, json.dumps({"error": f"shim: {exc}"}).encode())
            except OSError:
                pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def create_netns(path: str) -> None:
    """A named network namespace: a bind mount of nsfs that keeps it alive."""
    os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o444))
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        sc.unshare(sc.CLONE_NEWNET)
        try:
            disable_ipv6()
            sc.mount("/proc/self/ns/net", path, None, sc.MS_BIND)
        finally:
            sc.setns(home, sc.CLONE_NEWNET)
    except OSError:
        os.unlink(path)
        raise
    finally:
        os.close(home)


def remove_netns(path: str) -> None:
    try:
        sc.umount2(path, sc.MNT_DETACH)
    except OSError:
        pass
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def mount_rootfs(rootfs: OverlayRootfs | DirRootfs, target: str,
                 binds: list[dict[str, Any]]) -> None:
    """A container's overlay on the host for a moment (docker cp of a stopped container),
    with its volumes and binds on their mount points as it would see them running.

    Mount points are made and opened inside the root (``RESOLVE_IN_ROOT``) and mounted on
    through their fd, so a link the container left at a mount point stays inside it."""
    os.makedirs(target, exist_ok=True)
    mounts.mount_rootfs(rootfs, target)
    rootfd = inroot.open_root(target)
    try:
        for m in binds:
            if m.get("type") != "bind":
                continue  # tmpfs: empty while stopped, as in Docker
            fd = inroot.makedirs_in_root(rootfd, m["destination"])
            try:
                sc.mount(m["source"], f"/proc/self/fd/{fd}", None, sc.MS_BIND | sc.MS_REC)
            finally:
                os.close(fd)
            if "ro" in m.get("options", []):
                fd = inroot.openat2(rootfd, m["destination"], os.O_PATH)  # the new mount
                try:
                    sc.mount("", f"/proc/self/fd/{fd}", None,
                             sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
                finally:
                    os.close(fd)
    except BaseException:
        sc.umount2(target, sc.MNT_DETACH)
        raise
    finally:
        os.close(rootfd)


def umount(target: str) -> None:
    sc.umount2(target, sc.MNT_DETACH)
    try:
        os.rmdir(target)
    except OSError:
        pass


def _dispatch(req: dict[str, Any], fds: list[int], sock: socket.socket) -> None:
    op = req["op"]
    if op == "spawn":
        spawn(req["spec"], fds, sock)
    elif op == "netns_create":
        create_netns(req["path"])
    elif op == "netns_remove":
        remove_netns(req["path"])
    elif op == "mount_rootfs":
        mount_rootfs(req["rootfs"], req["target"], req.get("binds", []))
    elif op == "umount":
        umount(req["target"])
    else:
        raise ValueError(f"unknown op {op}")


def serve(sock: socket.socket) -> None:
    import pyseccomp  # noqa: F401 - loading libseccomp once here makes every fork cheaper
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, 8)
        except OSError:
            return
        if not msg:
            return  # the daemon is gone; running shims are not ours to stop
        reply: dict[str, str] = {}
        try:
            _dispatch(json.loads(msg), fds, sock)
        except Exception as exc:  # noqa: BLE001 - every failure is an answer
            reply = {"error": str(exc)}
        finally:
            for fd in fds:
                os.close(fd)
        sock.send(json.dumps(reply).encode())


def main(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    serve(sock)
    sys.exit(0)
