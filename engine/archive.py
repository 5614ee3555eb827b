"""``docker cp``: GET/HEAD/PUT /containers/{id}/archive.

Every path is resolved by the kernel inside the container's root (``openat2`` with
``RESOLVE_IN_ROOT`` from an fd of the root) and every file is read or made through the
fd of its parent directory, so a container that swaps a directory for a symlink to ``/``
while we work cannot send us to the host (CVE-2018-15664). A stopped container's
volumes are mounted on its root for the operation, as Docker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import tarfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any, BinaryIO, TypeVar

from pydocker.engine.containers.model import Container
from pydocker.engine.containers.rootfd import container_root
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.errors import InvalidParameter, NotFound
from pydocker.engine.host.fdtar import OwnerNames, UnsafeMember, extract_tar, write_tar
from pydocker.engine.host.inroot import open_in_root

T = TypeVar("T")

# Go's os.FileMode type bits, which the docker CLI decodes from the stat header.
_GO_DIR, _GO_SYMLINK, _GO_DEVICE, _GO_PIPE, _GO_SOCKET, _GO_CHAR = (
    1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24, 1 << 21)


def go_mode(st: os.stat_result) -> int:
    mode = stat.S_IMODE(st.st_mode) & 0o777
    if stat.S_ISDIR(st.st_mode):
        mode |= _GO_DIR
    elif stat.S_ISLNK(st.st_mode):
        mode |= _GO_SYMLINK
    elif stat.S_ISCHR(st.st_mode):
        mode |= _GO_DEVICE | _GO_CHAR
    elif stat.S_ISBLK(st.st_mode):
        mode |= _GO_DEVICE
    elif stat.S_ISFIFO(st.st_mode):
        mode |= _GO_PIPE
    elif stat.S_ISSOCK(st.st_mode):
        mode |= _GO_SOCKET
    return mode


class MissingFile(NotFound):
    """A path the container does not have; ``Archives`` names the container in it."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Could not find the file {path} in container")
        self.path = path


@contextlib.contextmanager
def _naming_container(ref: str) -> Iterator[None]:
    """dockerd's wording names the container as the client did."""
    try:
        yield
    except MissingFile as exc:
        raise NotFound(f"Could not find the file {exc.path} in container {ref}") from None


def _in_root(op: Callable[[], T], path: str) -> T:
    """Run a resolution, turning the kernel's answers into the caller's errors."""
    try:
        return op()
    except FileNotFoundError:
        raise MissingFile(path) from None
    except NotADirectoryError:
        raise InvalidParameter(f"not a directory: {path}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidParameter(f"too many symbolic links in {path}") from None
        if exc.errno == errno.EROFS:  # a read-only volume or bind, /sys: the caller's choice
            raise InvalidParameter(f"{path}: mounted volume is marked read-only") from None
        raise


def open_path(rootfd: int, path: str) -> int:
    """An ``O_PATH`` fd of ``path`` resolved in the root (links in its parents followed
    as the container would; the last one followed only for ``dir/`` and ``dir/.``)."""
    follow = path.endswith(("/", "/."))
    return _in_root(lambda: open_in_root(rootfd, path, os.O_PATH, follow_last=follow), path)


def fd_stat(fd: int, path: str) -> dict[str, Any]:
    st = os.fstat(fd)
    link = os.readlink("", dir_fd=fd) if stat.S_ISLNK(st.st_mode) else ""
    return {"name": os.path.basename(path.rstrip("/")) or "/", "size": st.st_size,
            "mode": go_mode(st), "mtime": _mtime(st), "linkTarget": link}


def path_stat(rootfd: int, path: str) -> dict[str, Any]:
    fd = open_path(rootfd, path)
    try:
        return fd_stat(fd, path)
    finally:
        os.close(fd)


def _mtime(st: os.stat_result) -> str:
    from pydocker.engine.timeutil import rfc3339_nano
    return rfc3339_nano(st.st_mtime_ns)


class Archives:
    def __init__(self, containers: ContainerService) -> None:
        self.containers = containers

    def _root(self, c: Container) -> AbstractAsyncContextManager[int]:
        binds = [m["spec"] for m in c.mounts if "spec" in m]
        return container_root(self.containers.runtime, c, binds)

    async def stat(self, ref: str, path: str) -> dict[str, Any]:
        c = self.containers.store.get(ref)
        with _naming_container(ref):
            async with self._root(c) as rootfd:
                return await asyncio.to_thread(path_stat, rootfd, path)

    async def get(self, ref: str, path: str, start: Callable[[dict[str, Any]], Awaitable[None]],
                  out: BinaryIO) -> None:
        """``start(info)`` sends the headers once the path is known to exist."""
        c = self.containers.store.get(ref)
        async with self._root(c) as rootfd:
            with _naming_container(ref):
                fd = await asyncio.to_thread(open_path, rootfd, path)
            try:
                info = fd_stat(fd, path)
                await start(info)
                self.containers.event(c, "archive-path")  # dockerd's, once the copy begins
                await asyncio.to_thread(lambda: write_tar(
                    fd, info["name"], out, names=OwnerNames.in_root(rootfd)))
            finally:
                os.close(fd)

    async def put(self, ref: str, path: str, stream: BinaryIO, *, copy_uid_gid: bool,
                  no_overwrite_dir_non_dir: bool) -> None:
        c = self.containers.store.get(ref)
        async with self._root(c) as rootfd:
            with _naming_container(ref):
                dest = await asyncio.to_thread(_in_root, lambda: open_in_root(
                    rootfd, path, os.O_PATH | os.O_DIRECTORY), path)
            try:
                if c.host_config.get("ReadonlyRootfs"):
                    raise InvalidParameter("container rootfs is marked read-only")
                owner = None if copy_uid_gid else (0, 0)
                await asyncio.to_thread(_in_root, lambda: extract_tar(
                    dest, stream, owner, no_overwrite_dir_non_dir), path)
            except (UnsafeMember, tarfile.TarError) as exc:
                raise InvalidParameter(str(exc)) from None
            finally:
                os.close(dest)
        self.containers.event(c, "extract-to-dir")
