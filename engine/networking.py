"""Between containers and the network manager: which networks, aliases, IPs and ports.

The network package knows bridges and endpoints; this module knows a container's
HostConfig.NetworkMode, NetworkingConfig and PortBindings, and keeps the container's
NetworkSettings in step with the endpoints.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from typing import Any

from pydocker.engine.errors import InvalidParameter, NotFound
from pydocker.engine.events import EventBus
from pydocker.network.manager import NetworkManager
from pydocker.network.ports import PortSpec, from_port_bindings

from .containers import links, namespaces
from .containers.model import Container

NON_BRIDGE_MODES = ("host", "none")
_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}")


def network_mode(c: Container) -> str:
    return namespaces.network_mode(c.host_config)


def _blank_settings(network_id: str, endpoint_config: dict[str, Any]) -> dict[str, Any]:
    return _with_request({
        "IPAMConfig": None, "Links": None, "Aliases": endpoint_config.get("Aliases"),
        "MacAddress": endpoint_config.get("MacAddress") or "", "DriverOpts": None,
        "GwPriority": 0, "NetworkID": network_id, "EndpointID": "", "Gateway": "",
        "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0, "DNSNames": None}, endpoint_config)


def _with_request(settings: dict[str, Any], endpoint_config: dict[str, Any]
                  ) -> dict[str, Any]:
    """EndpointSettings as dockerd shows them: what the network gave (address, MAC ...)
    plus what the request asked for and the network keeps no use of: its IPAMConfig as
    sent (LinkLocalIPs too), DriverOpts and Links."""
    if endpoint_config.get("IPAMConfig"):
        settings["IPAMConfig"] = endpoint_config["IPAMConfig"]
    settings["DriverOpts"] = endpoint_config.get("DriverOpts") or None
    settings["Links"] = endpoint_config.get("Links") or None
    return settings


def endpoint_links(endpoint_config: dict[str, Any]) -> dict[str, str]:
    """EndpointSettings.Links (``name:alias``) as alias -> container name."""
    parsed = (links.parse(spec) for spec in endpoint_config.get("Links") or [])
    return {link.alias: link.target for link in parsed}


def link_local_ips(ipam: dict[str, Any]) -> list[str]:
    """IPAMConfig.LinkLocalIPs, each an address in 169.254.0.0/16 or fe80::/10 (a 400
    with dockerd's words otherwise)."""
    out = []
    for text in ipam.get("LinkLocalIPs") or []:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise InvalidParameter(f"invalid link-local IP address: {text}") from None
        if not addr.is_link_local:
            raise InvalidParameter(f"invalid link-local IP address: {text}")
        out.append(str(addr))
    return out


def check_mac(mac: str) -> None:
    """A MAC address as Go's net.ParseMAC takes it (48-bit, ``:`` or ``-``), else a 400
    with its wording, before anything is created."""
    if not _MAC.fullmatch(mac):
        raise InvalidParameter(f"address {mac}: invalid MAC address")


class ContainerNetworking:
    """Containers on networks. Every endpoint made or removed is a ``network connect`` /
    ``disconnect`` event, whether the API asked or a start or exit did, as dockerd's."""

    def __init__(self, manager: NetworkManager, events: EventBus | None = None) -> None:
        self.manager = manager
        self.events = events

    def _announce(self, action: str, network: str, container_id: str) -> None:
        if self.events is None:
            return
        with contextlib.suppress(NotFound):
            net = self.manager.lookup(network)
            self.events.publish("network", action, net.id, {"container": container_id,
                                                            "name": net.name,
                                                            "type": net.driver})

    def networks_of(self, c: Container) -> list[str]:
        mode = network_mode(c)
        if mode.startswith("container:"):
            return []
        names = [mode]
        names += [n for n in c.endpoints_config if n not in names and mode not in NON_BRIDGE_MODES]
        return names

    def validate(self, c: Container) -> None:
        """Unknown networks are a 404 at create, before anything exists."""
        for name in self.networks_of(c):
            self.manager.lookup(name)
        for ec in c.endpoints_config.values():
            _check_endpoint(ec or {})

    def planned(self, c: Container) -> dict[str, dict[str, Any]]:
        out = {}
        for name in self.networks_of(c):
            net = self.manager.lookup(name)
            out[net.name] = _blank_settings(net.id, c.endpoints_config.get(name) or {})
        return out

    def port_specs(self, c: Container) -> list[PortSpec]:
        specs = from_port_bindings(c.host_config.get("PortBindings") or {})
        if c.host_config.get("PublishAllPorts"):
            bound = {(s.container_port, s.proto) for s in specs}
            for key in c.config.get("ExposedPorts") or {}:
                port, _, proto = key.partition("/")
                if (int(port), proto or "tcp") not in bound:
                    specs.append(PortSpec(int(port), proto or "tcp"))
        return specs

    async def attach_container(self, c: Container, netns: str) -> None:
        ports = self.port_specs(c)
        c.networks = {}
        try:
            for i, name in enumerate(self.networks_of(c)):
                ec = c.endpoints_config.get(name) or {}
                ep = await self.manager.connect(name, c.id, netns, name=c.name,
                                                ports=ports if i == 0 else (),
                                                **_endpoint_request(ec))
                c.networks[ep.network_name] = _with_request(ep.settings(), ec)
                self._announce("connect", ep.network_name, c.id)
        except BaseException:
            await self.detach_container(c)
            raise
        c.ports = self._ports_view(c)

    def _ports_view(self, c: Container) -> dict[str, Any]:
        view: dict[str, Any] = {key: None for key in c.config.get("ExposedPorts") or {}}
        for ep in self.manager.endpoints_of(c.id).values():
            view.update(ep.port_bindings())
        return view

    async def detach_container(self, c: Container) -> None:
        for name, ep in list(self.manager.endpoints_of(c.id).items()):
            with contextlib.suppress(NotFound):
                await self.manager.disconnect(name, c.id)
                self._announce("disconnect", name, c.id)
            if name in c.networks:
                c.networks[name] = _blank_settings(ep.network_id, c.endpoints_config.get(name)
                                                   or {})
        c.ports = {}

    async def connect(self, c: Container, network: str, endpoint_config: dict[str, Any],
                      netns: str | None) -> None:
        """``POST /networks/{id}/connect``: now when running, at next start otherwise."""
        net = self.manager.lookup(network)
        if network_mode(c) in NON_BRIDGE_MODES or network_mode(c).startswith("container:"):
            raise InvalidParameter(
                "container cannot be disconnected from host network or connected to host "
                "network")
        _check_endpoint(endpoint_config)
        c.endpoints_config[net.name] = endpoint_config
        if netns is None:
            c.networks[net.name] = _blank_settings(net.id, endpoint_config)
            return
        ep = await self.manager.connect(net.name, c.id, netns, name=c.name,
                                        **_endpoint_request(endpoint_config))
        c.networks[net.name] = _with_request(ep.settings(), endpoint_config)
        self._announce("connect", net.name, c.id)

    async def disconnect(self, c: Container, network: str, running: bool) -> None:
        net = self.manager.lookup(network)
        if net.name not in c.networks and c.id not in net.endpoints:
            raise InvalidParameter(
                f"container {c.id} is not connected to network {net.name}")
        if running and c.id in net.endpoints:
            await self.manager.disconnect(net.name, c.id)
        c.networks.pop(net.name, None)
        c.endpoints_config.pop(net.name, None)
        self._announce("disconnect", net.name, c.id)  # stopped or not, as dockerd


def _check_endpoint(ec: dict[str, Any]) -> None:
    """An endpoint config's MAC, links and link-local addresses: a 400 before anything
    is made."""
    if ec.get("MacAddress"):
        check_mac(ec["MacAddress"])
    endpoint_links(ec)
    link_local_ips(ec.get("IPAMConfig") or {})


def _endpoint_request(ec: dict[str, Any]) -> dict[str, Any]:
    """What an endpoint config asks of ``NetworkManager.connect``."""
    ipam = ec.get("IPAMConfig") or {}
    return {"aliases": list(ec.get("Aliases") or []),
            "ipv4": ipam.get("IPv4Address") or None, "ipv6": ipam.get("IPv6Address") or None,
            "mac": ec.get("MacAddress") or None, "links": endpoint_links(ec),
            "link_local": link_local_ips(ipam)}
