"""/dev/shm by IpcMode, as dockerd's setupIpcDirs and IpcMounts: ``private`` gets a tmpfs
of its own inside the container (the runtime makes it), ``none`` none at all,
``shareable`` a tmpfs mounted on the host under its state directory and bound in, so
that a container joining its IPC namespace (``container:<id>``) binds the same one and
POSIX shared memory is shared with System V's; ``host`` binds the host's /dev/shm.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any

from pydocker.engine.errors import SystemFailure
from pydocker.engine.host import mount as host_mount

from . import namespaces
from .model import Container
from .paths import ContainerPaths

log = logging.getLogger(__name__)

DEFAULT_SHM_SIZE = 64 * 1024 * 1024
HOST_SHM = "/dev/shm"


def own_tmpfs(hc: dict[str, Any], mounts: list[dict[str, Any]]) -> bool:
    """Whether the runtime mounts a /dev/shm tmpfs of the container's own."""
    if (hc.get("IpcMode") or namespaces.DEFAULT_IPC_MODE) == "none":
        return False
    return not any(m.get("destination") == "/dev/shm" for m in mounts)


def _user_mounts_shm(c: Container) -> bool:
    return any(m.get("spec", {}).get("destination") == "/dev/shm" for m in c.mounts)


def _source(c: Container, get: namespaces.GetContainer, paths: ContainerPaths) -> str | None:
    """The host directory bound on the container's /dev/shm, or None."""
    ipc = c.host_config.get("IpcMode") or namespaces.DEFAULT_IPC_MODE
    if ipc == "host":
        return HOST_SHM
    if ipc == "shareable":
        return str(paths.shm(c.id))
    donor = namespaces.ipc_donor(c, get)
    if donor is not None:
        return _source(donor, get, paths)
    return None


async def enter(c: Container, get: namespaces.GetContainer, paths: ContainerPaths,
                undo: contextlib.AsyncExitStack) -> list[dict[str, Any]]:
    """Mount a shareable container's tmpfs; the runtime mounts that bind /dev/shm."""
    if _user_mounts_shm(c):
        return []  # a volume or tmpfs of the client's own wins, as in dockerd
    source = _source(c, get, paths)
    if source is None:
        return []
    if source == str(paths.shm(c.id)):
        size = c.host_config.get("ShmSize") or DEFAULT_SHM_SIZE
        os.makedirs(source, 0o700, exist_ok=True)
        if not os.path.ismount(source):
            try:
                host_mount.mount("shm", source, "tmpfs", host_mount.MS_NOEXEC
                                 | host_mount.MS_NOSUID | host_mount.MS_NODEV,
                                 f"mode=1777,size={size}")
            except OSError as exc:
                raise SystemFailure(f"mounting shm tmpfs: {exc}") from None
        undo.callback(leave, c, paths)
    return [{"destination": "/dev/shm", "type": "bind", "source": source,
             "options": ["rbind", "rprivate"]}]


def leave(c: Container, paths: ContainerPaths) -> None:
    """Unmount a shareable /dev/shm (lazily: joiners still running keep theirs, as when
    dockerd unmounts it at the donor's exit). Never fails."""
    target = paths.shm(c.id)
    if not os.path.ismount(target):
        return
    try:
        host_mount.umount2(str(target), host_mount.MNT_DETACH)
    except OSError as exc:
        log.warning("container %s: unmounting %s: %s", c.short_id, target, exc)
