"""Paths inside a container's root, resolved by the kernel so nothing can be swapped under us.

``openat2(2)`` with ``RESOLVE_IN_ROOT`` walks a path from a directory fd as if that fd were
``/``: ``..`` stops at it and absolute symlinks restart from it, atomically against
renames (the kernel answers EAGAIN when one raced, and we retry). A container that swaps
a directory for a symlink to ``/`` while we work (CVE-2018-15664) can only ever send us
somewhere else *inside* its root. Never ``realpath`` then ``open``: that leaves a window.

Stdlib and ctypes only: the zygote (``python -I -S``) imports this to create volume mount
points; ``pydocker.engine.host.inroot`` re-exports it for the rest of the engine.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from collections.abc import Iterator

from .syscalls import libc

SYS_OPENAT2 = 437  # the same number on x86_64 and aarch64 (kernel >= 5.6)
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10
IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
_RETRIES = 10_000  # EAGAIN only repeats while a rename races us; a swap loop is finite work


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64),
                ("resolve", ctypes.c_uint64)]


def openat2(dirfd: int, path: str, flags: int, mode: int = 0, resolve: int = IN_ROOT) -> int:
    how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
    raw = os.fsencode(path or ".")
    if b"\0" in raw:  # ctypes would cut the path there: refuse it as the kernel would
        raise OSError(errno.EINVAL, f"path contains a NUL byte: {path!r}")
    for _ in range(_RETRIES):
        fd = libc.syscall(SYS_OPENAT2, dirfd, raw, ctypes.byref(how), ctypes.sizeof(how))
        if fd >= 0:
            return int(fd)
        err = ctypes.get_errno()
        if err not in (errno.EAGAIN, errno.EINTR):
            raise OSError(err, f"{os.strerror(err)}: {path}")
    raise OSError(errno.EAGAIN, f"path kept changing while resolving it: {path}")


@contextlib.contextmanager
def closing_fd(fd: int) -> Iterator[int]:
    """``with closing_fd(os.open(...)) as fd:`` for the fds every walk here holds."""
    try:
        yield fd
    finally:
        os.close(fd)


def open_root(root: str) -> int:
    """A directory fd that stands for ``/`` of the container (``/proc/PID/root`` is fine:
    the magic link is followed here, by us, once)."""
    return os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)


def split(path: str) -> tuple[str, str]:
    """``(parent, last)`` of a container path; last is "" for the root itself."""
    parts = [p for p in path.split("/") if p and p != "."]
    if not parts or parts[-1] == "..":
        return "/".join(parts), ""
    return "/".join(parts[:-1]), parts[-1]


def open_in_root(rootfd: int, path: str, flags: int, *, follow_last: bool = True,
                 mode: int = 0) -> int:
    """Open ``path`` as the container sees it. With ``follow_last=False`` a symlink in the
    last component is opened itself (``O_PATH|O_NOFOLLOW``), as ``docker cp`` copies links."""
    if follow_last:
        return openat2(rootfd, path, flags, mode)
    parent, last = split(path)
    if not last:
        return openat2(rootfd, parent, flags, mode)
    pfd = openat2(rootfd, parent, os.O_PATH | os.O_DIRECTORY)
    try:
        return os.open(last, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=pfd)
    finally:
        os.close(pfd)


def makedirs_in_root(rootfd: int, path: str, mode: int = 0o755) -> int:
    """``mkdir -p`` inside the root, each prefix resolved from the root again (so a link
    met on the way is taken as the container would take it); an ``O_PATH`` fd of the
    directory."""
    parts = [p for p in path.split("/") if p and p != "."]
    try:  # nearly always there already (a tar's members, mount points): one lookup
        return openat2(rootfd, "/".join(parts), os.O_PATH | os.O_DIRECTORY)
    except FileNotFoundError:
        pass
    for i in range(len(parts)):
        prefix = "/".join(parts[:i + 1])
        try:
            os.close(openat2(rootfd, prefix, os.O_PATH | os.O_DIRECTORY))
        except FileNotFoundError:
            parent = openat2(rootfd, "/".join(parts[:i]), os.O_PATH | os.O_DIRECTORY)
            try:
                os.mkdir(parts[i], mode, dir_fd=parent)
            except FileExistsError:
                pass
            finally:
                os.close(parent)
    return openat2(rootfd, "/".join(parts), os.O_PATH | os.O_DIRECTORY)


def open_mount_point(rootfd: int, path: str, is_dir: bool) -> int:
    """An ``O_PATH`` fd of the mount point ``path`` inside the root, created (directory or
    empty file) when missing: mount onto ``/proc/self/fd/N`` of it and the target is that
    inode, whatever a shared volume's other user renames meanwhile (CVE-2021-30465)."""
    parent, last = split(path)
    if last:
        pfd = makedirs_in_root(rootfd, parent)
        try:
            if is_dir:
                try:
                    os.mkdir(last, 0o755, dir_fd=pfd)
                except FileExistsError:
                    pass
            else:
                try:
                    os.close(os.open(last, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW
                                     | os.O_CLOEXEC, 0o644, dir_fd=pfd))
                except FileExistsError:
                    pass
        finally:
            os.close(pfd)
    return openat2(rootfd, path, os.O_PATH)
