"""The volume endpoints' methods, delegated to the volume service."""

from __future__ import annotations

from typing import Any

from pydocker.api.models.volumes import VolumeCreateRequest
from pydocker.engine.volumes import VolumeService

JSON = dict[str, Any]


class VolumeMethods:
    _volume_service: VolumeService

    async def volume_create(self, body: VolumeCreateRequest) -> JSON:
        return await self._volume_service.create(body.wire())

    async def volumes_list(self, filters: dict[str, list[str]]) -> JSON:
        return await self._volume_service.list_volumes(filters)

    async def volume_inspect(self, name: str) -> JSON:
        return await self._volume_service.inspect(name)

    async def volume_remove(self, name: str, force: bool) -> None:
        await self._volume_service.remove(name, force)

    async def volumes_prune(self, filters: dict[str, list[str]]) -> JSON:
        return await self._volume_service.prune(filters)
