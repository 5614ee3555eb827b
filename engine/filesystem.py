"""docker diff, export and commit: a container's filesystem, read from its layers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, BinaryIO

from pydocker.engine.containers.config import merge_image_config
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.containers.state import ContainerState
from pydocker.engine.errors import Conflict
from pydocker.engine.events import EventBus
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

    async def changes(self, ref: str) -> list[dict[str, Any]] | None:
        c = self.containers.store.get(ref)
        out = await asyncio.to_thread(layerdiff.changes, c.rootfs["upper"],
                                      list(c.rootfs.get("lower", [])))
        return out or None

    async def export(self, ref: str, out: BinaryIO) -> None:
        c = self.containers.store.get(ref)
        await asyncio.to_thread(layerdiff.merged_tar, layerdiff.layers_of(c.rootfs), out)
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
            image_id = await asyncio.to_thread(
                self.images.commit, c.rootfs["upper"], c.image_id, image_config,
                created_by=" ".join([c.path, *c.args]), comment=comment, author=author,
                repo_tag=repo_tag)
        finally:
            if paused_here and c.state.status is ContainerState.PAUSED:
                await self.containers.unpause(c.id)
        self.containers.event(c, "commit", comment=comment)
        self.events.publish("image", "commit", image_id, {"name": repo_tag or image_id})
        return image_id
