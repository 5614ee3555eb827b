"""``docker cp``: GET/HEAD/PUT /containers/{id}/archive.

Paths are resolved inside the container's root with every symlink taken as the
container sees it (never the host's), and uploads go through the same safe extractor
as image layers: nothing is read or written outside the container.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import tarfile
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, BinaryIO

from pydocker.engine.containers.model import Container
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.errors import InvalidParameter, NotFound
from pydocker.engine.runtime.mounts import secure_join
from pydocker.images.archive import extract_into

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


def resolve(root: str, path: str, follow_last: bool) -> str:
    """``secure_join``, with a symlink loop reported as the caller's error."""
    try:
        return secure_join(root, path, follow_last)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise InvalidParameter(f"too many symbolic links in {path}") from None


def path_stat(root: str, path: str) -> tuple[str, dict[str, Any]]:
    target = resolve(root, path, follow_last=path.endswith(("/", "/.")))
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container") from None
    link = os.readlink(target) if stat.S_ISLNK(st.st_mode) else ""
    return target, {"name": os.path.basename(path.rstrip("/")) or "/", "size": st.st_size,
                    "mode": go_mode(st), "mtime": _mtime(st), "linkTarget": link}


def _mtime(st: os.stat_result) -> str:
    from pydocker.engine.timeutil import rfc3339_nano
    return rfc3339_nano(st.st_mtime_ns)


def tar_path(target: str, name: str, out: BinaryIO) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.add(target, arcname=name, recursive=True)


class Archives:
    def __init__(self, containers: ContainerService) -> None:
        self.containers = containers

    def _rootfs(self, ref: str) -> tuple[Container, AbstractAsyncContextManager[Path]]:
        c = self.containers.store.get(ref)
        pid = c.state.pid if c.state.running else 0
        return c, self.containers.runtime.mounted_rootfs(c.id, c.rootfs, pid)

    async def stat(self, ref: str, path: str) -> dict[str, Any]:
        _, mounted = self._rootfs(ref)
        async with mounted as root:
            _, info = await asyncio.to_thread(path_stat, str(root), path)
        return info

    async def get(self, ref: str, path: str, start: Callable[[dict[str, Any]], Awaitable[None]],
                  out: BinaryIO) -> None:
        """``start(info)`` sends the headers once the path is known to exist."""
        _, mounted = self._rootfs(ref)
        async with mounted as root:
            target, info = await asyncio.to_thread(path_stat, str(root), path)
            await start(info)
            await asyncio.to_thread(tar_path, target, info["name"], out)

    async def put(self, ref: str, path: str, stream: BinaryIO, *, copy_uid_gid: bool,
                  no_overwrite_dir_non_dir: bool) -> None:
        c, mounted = self._rootfs(ref)
        async with mounted as root:
            target = await asyncio.to_thread(resolve, str(root), path, True)
            if not os.path.isdir(target):
                raise NotFound(f"Could not find the file {path} in container")
            if c.host_config.get("ReadonlyRootfs"):
                raise InvalidParameter("container rootfs is marked read-only")
            owner = None if copy_uid_gid else (0, 0)
            await asyncio.to_thread(extract_into, stream, Path(target), owner)
        self.containers.event(c, "extract-to-dir")
