"""The container's root as a directory fd, for the file operations that must resolve
paths inside it (docker cp, archive, export): never a host path that could be swapped."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydocker.engine.host.inroot import closing_fd, open_root

from .model import Container
from .protocols import ContainerRuntime


@contextlib.asynccontextmanager
async def container_root(runtime: ContainerRuntime, c: Container,
                         binds: Sequence[dict[str, Any]] = ()) -> AsyncIterator[int]:
    """An ``O_PATH`` fd of the container's root (its rootfs mounted while it is stopped,
    with ``binds``) for the length of one operation."""
    pid = c.state.pid if c.state.running else 0
    async with runtime.mounted_rootfs(c.id, c.rootfs, pid, binds) as root:
        with closing_fd(open_root(str(root))) as rootfd:
            yield rootfd
