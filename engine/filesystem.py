"""docker diff, export and commit: a container's filesystem.

A running container can rename its files while we read them: export walks the root
through directory fds from an ``openat2(RESOLVE_IN_ROOT)`` root fd (never a host path),
and diff and commit, which read the overlay's upper directory by path, do so with the
container frozen, so nothing can be swapped for a symlink to the host under them
(CVE-2018-15664).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

from pydocker.engine.containers.config import merge_image_config
from pydocker.engine.containers.model import Container
from pydocker.engine.containers.rootfd import container_root
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.containers.state import ContainerState
from pydocker.engine.errors import Conflict
from pydocker.engine.events import EventBus
from pydocker.engine.host.fdtar import OwnerNames, write_tar
from pydocker.images import layerdiff
from pydocker.images.changes import apply_changes
from pydocker.images.store import ImageStore

# What an image config keeps of a container's Config when committing.
IMAGE_CONFIG_KEYS = ("Hostname", "Domainname", "User", "AttachStdin", "AttachStdout",
                     "AttachStderr", "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env",
                     "Cmd", "Healthcheck", "ArgsEscaped", "Image", "Volumes", "WorkingDir",
                     "Entrypoint", "OnBuild", "Labels", "StopSignal", "Shell")


class Filesystem:
    def __init__(self, containers: ContainerService, images: ImageStore,
                 events: EventBus) -> None:
        self.containers = containers
        self.images = images
        self.events = events

    @contextlib.asynccontextmanager
    async def _still(self, c: Container) -> AsyncIterator[None]:
        """The container frozen for the block if it runs (no events: not a docker pause)."""
        shim = self.containers.shims.get(c.id)
        if shim is None or c.state.status is not ContainerState.RUNNING:
            yield
            return
        try:
            await shim.pause()
        except OSError:  # it exited meanwhile (its cgroup is gone): nothing moves any more
            yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                await shim.resume()

    async def changes(self, ref: str) -> list[dict[str, Any]] | None:
        c = self.containers.store.get(ref)
        async with self._still(c):
            out = await asyncio.to_thread(layerdiff.changes, c.rootfs["upper"],
                                          list(c.rootfs.get("lower", [])))
        return out or None

    async def export(self, ref: str, out: BinaryIO) -> None:
        """The merged root as the container sees it (its own overlay mounted when it is
        stopped), without what is mounted on it: /proc, /dev, volumes, binds."""
        c = self.containers.store.get(ref)
        async with container_root(self.containers.runtime, c) as rootfd:
            await asyncio.to_thread(lambda: write_tar(
                rootfd, ".", out, stay_on_mount=True, names=OwnerNames.in_root(rootfd)))
        self.containers.event(c, "export")

    async def commit(self, ref: str, *, repo: str, tag: str, comment: str, author: str,
                     pause: bool, changes: list[str], config: dict[str, Any] | None) -> str:
        c = self.containers.store.get(ref)
        if c.state.status is ContainerState.REMOVING:
            raise Conflict(f"cannot commit container {c.id}: it is being removed")
        if c.state.status is ContainerState.DEAD:
            raise Conflict(f"You cannot commit container {c.id} which is Dead")
        image_config = {k: c.config.get(k) for k in IMAGE_CONFIG_KEYS}
        if config:
            image_config = merge_image_config(config, image_config)
        image_config = apply_changes(image_config, changes)
        paused_here = False
        if pause and c.state.status.can_pause():
            with contextlib.suppress(Conflict):  # it may exit meanwhile: commit it anyway
                await self.containers.pause(c.id)
                paused_here = True
        try:
            repo_tag = f"{repo}:{tag}" if repo and tag else (repo or None)
            async with self._still(c):  # --pause=false still must not read a moving tree
                image_id = await asyncio.to_thread(
                    self.images.commit, c.rootfs["upper"], c.image_id, image_config,
                    created_by=" ".join([c.path, *c.args]), comment=comment, author=author,
                    repo_tag=repo_tag)
            # dockerd's events, still paused: the new name's ``image tag`` (there is no
            # image commit event), then the container's ``commit``.
            if repo_tag:
                self.events.publish("image", "tag", image_id, {"name": repo_tag})
            self.containers.event(c, "commit", comment=comment, imageID=image_id,
                                  imageRef=repo_tag or "")
        finally:
            if paused_here and c.state.status is ContainerState.PAUSED:
                await self.containers.unpause(c.id)
        return image_id
