"""What the builder needs from the engine (the engine implements it with its services), and
the build's options. The builder never imports engine.containers: containers are run for
it through this Protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

JSON = dict[str, Any]


class BuildHost(Protocol):
    async def image_id(self, ref: str, *, pull: bool, platform: str) -> str:
        """The local image ``ref`` names (pulled first if asked or missing)."""

    async def create(self, image_id: str, config: JSON, host_config: JSON) -> str:
        """A container of ``image_id`` with the step's config; its ID."""

    def run(self, container_id: str) -> AsyncIterator[tuple[int, bytes]]:
        """Start it and yield its output ((1|2, bytes)) until it exits."""

    async def wait(self, container_id: str) -> int:
        """The exit code once it stopped."""

    def upper_dir(self, container_id: str) -> str:
        """Its writable layer's directory (to commit from)."""

    async def remove(self, container_id: str) -> None: ...


@dataclass
class BuildOptions:
    tags: list[str] = field(default_factory=list)
    dockerfile: str = ""
    build_args: dict[str, str | None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    rm: bool = True
    force_rm: bool = False
    quiet: bool = False
    pull: bool = False
    target: str = ""
    platform: str = ""
    cache_from: list[str] = field(default_factory=list)
    # The RUN containers' HostConfig: network mode, extra hosts, limits.
    host_config: JSON = field(default_factory=dict)
