"""The network endpoints' backend: Docker's list filters, create/remove events, prune."""

from __future__ import annotations

import builtins
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.events import EventBus
from pydocker.engine.filters import labels_match, prune_filter
from pydocker.network.manager import NetworkManager

BUILTIN = {"bridge", "host", "none"}


def _matches(net: dict[str, Any], f: dict[str, list[str]]) -> bool:
    if f.get("driver") and net["Driver"] not in f["driver"]:
        return False
    if f.get("id") and not any(net["Id"].startswith(v) for v in f["id"]):
        return False
    if f.get("name") and not any(v in net["Name"] for v in f["name"]):
        return False
    if f.get("scope") and net["Scope"] not in f["scope"]:
        return False
    if f.get("type"):
        for t in f["type"]:
            if t not in ("custom", "builtin"):
                raise InvalidParameter(f"invalid filter: 'type'='{t}'")
        kind = "builtin" if net["Name"] in BUILTIN else "custom"
        if kind not in f["type"]:
            return False
    if not labels_match(net.get("Labels") or {}, f.get("label", [])):
        return False
    if f.get("dangling"):
        dangling = f["dangling"][0] in ("true", "1")
        unused = not net.get("Containers") and net["Name"] not in BUILTIN
        if dangling != unused:
            return False
    return True


class NetworkService:
    def __init__(self, manager: NetworkManager, events: EventBus) -> None:
        self.manager = manager
        self.events = events

    async def list(self, f: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Since API 1.28 dockerd's list leaves each network's Containers empty (inspect
        shows them); the dangling filter still reads them."""
        return [{**n, "Containers": {}} for n in await self.manager.list_networks()
                if _matches(n, f)]

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        net = await self.manager.create_network(
            body["Name"], driver=body.get("Driver") or "bridge", ipam=body.get("IPAM"),
            internal=bool(body.get("Internal")), attachable=bool(body.get("Attachable")),
            labels=body.get("Labels") or {}, options=body.get("Options") or {},
            check_duplicate=body.get("CheckDuplicate", True),
            ipv6=bool(body.get("EnableIPv6")))
        self.events.publish("network", "create", net["Id"],
                            {"name": net["Name"], "type": net["Driver"]})
        return net

    async def remove(self, ref: str) -> None:
        net = await self.manager.get_network(ref)
        await self.manager.remove_network(ref)
        self.events.publish("network", "destroy", net["Id"],
                            {"name": net["Name"], "type": net["Driver"]})

    async def prune(self, f: dict[str, builtins.list[str]]) -> dict[str, Any]:
        selects = prune_filter(f)
        deleted = []
        for net in await self.manager.list_networks():
            if net["Name"] in BUILTIN or net.get("Containers"):
                continue
            if not selects(net.get("Labels") or {}, net.get("Created") or ""):
                continue
            await self.remove(net["Id"])
            deleted.append(net["Name"])
        self.events.publish("network", "prune", "", {"reclaimed": "0"})  # as dockerd: always 0
        return {"NetworksDeleted": deleted or None}
