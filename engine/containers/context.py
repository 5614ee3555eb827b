"""What the parts of the container service share.

``Collaborators`` are fixed at construction (the store, the subsystems behind their
Protocols, the paths, the event sink); ``LiveState`` is what exists only in memory
while the daemon runs: shim handles, per-container locks, waiters, and attaches parked
until the next start. Lifecycle, supervision and health each take these, never the
service itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydocker.engine.events import EventBus

from .model import Container
from .paths import ContainerPaths
from .protocols import ContainerRuntime, ImageSource, Networking, ShimHandle, Volumes
from .store import ContainerStore
from .waiters import Waiters

# Called with the shim right before the process is released, or None if it never starts.
Connect = Callable[[ShimHandle | None], Awaitable[None]]


class ContainerEvents:
    """``container`` events with the attributes dockerd gives them: name, image, labels."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def publish(self, c: Container, action: str, **extra: str) -> None:
        attrs = {"name": c.name, "image": c.config.get("Image", "")}
        attrs.update(c.config.get("Labels") or {})
        attrs.update(extra)
        self.bus.publish("container", action, c.id, attrs)


@dataclass(frozen=True)
class Collaborators:
    store: ContainerStore
    images: ImageSource
    runtime: ContainerRuntime
    network: Networking | None   # None: a daemon without bridge networking
    volumes: Volumes | None      # None: binds and volumes are not available
    paths: ContainerPaths
    events: ContainerEvents


class LiveState:
    def __init__(self) -> None:
        self.shims: dict[str, ShimHandle] = {}
        self.waiters = Waiters()
        self._locks: dict[str, asyncio.Lock] = {}
        self._parked: dict[str, list[Connect]] = {}

    def lock(self, container_id: str) -> asyncio.Lock:
        """Serialises start, restart and the restart policy's own start."""
        return self._locks.setdefault(container_id, asyncio.Lock())

    def park(self, container_id: str, connect: Connect) -> None:
        self._parked.setdefault(container_id, []).append(connect)

    async def connect_parked(self, container_id: str, shim: ShimHandle) -> None:
        for connect in self._parked.pop(container_id, []):
            await connect(shim)

    async def cancel_parked(self, container_id: str) -> None:
        """The start failed: whoever attached must learn nothing will be streamed."""
        for connect in self._parked.pop(container_id, []):
            with contextlib.suppress(Exception):
                await connect(None)

    def forget(self, container_id: str) -> None:
        self._locks.pop(container_id, None)
        self._parked.pop(container_id, None)
