"""The network endpoints' methods: the network service, plus connect and disconnect, which
change a container's record too."""

from __future__ import annotations

from typing import Any

from pydocker.api.models.networks import (
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkDisconnectRequest,
)
from pydocker.engine.config import DaemonConfig
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.events import EventBus
from pydocker.engine.network_service import NetworkService
from pydocker.engine.networking import ContainerNetworking
from pydocker.network.manager import NetworkManager

JSON = dict[str, Any]


class NetworkMethods:
    _config: DaemonConfig
    _events: EventBus
    _containers: ContainerService
    _networking: ContainerNetworking
    _network_manager: NetworkManager
    _network_service: NetworkService

    async def networks_list(self, filters: dict[str, list[str]]) -> list[JSON]:
        return await self._network_service.list(filters)

    async def network_inspect(self, ref: str) -> JSON:
        return await self._network_manager.get_network(ref)

    async def network_create(self, body: NetworkCreateRequest) -> JSON:
        if not body.name:
            raise InvalidParameter("network name must not be empty")
        return await self._network_service.create(body.wire())

    async def network_remove(self, ref: str) -> None:
        await self._network_service.remove(ref)

    async def networks_prune(self, filters: dict[str, list[str]]) -> JSON:
        return await self._network_service.prune(filters)

    async def network_connect(self, ref: str, body: NetworkConnectRequest) -> None:
        c = self._containers.store.get(body.container or "")
        netns = None
        if c.state.running:
            netns = str(self._containers.paths.netns(c.id))
        endpoint_config = body.endpoint_config.wire() if body.endpoint_config else {}
        await self._networking.connect(c, ref, endpoint_config, netns)
        self._containers.store.save(c)

    async def network_disconnect(self, ref: str, body: NetworkDisconnectRequest) -> None:
        c = self._containers.store.get(body.container or "")
        await self._networking.disconnect(c, ref, c.state.running)
        self._containers.store.save(c)
