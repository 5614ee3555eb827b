"""Network and endpoint records: what is persisted, and the Docker wire shapes built from it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydocker.network.ipam import Pool
from pydocker.network.ports import PortMapping

PREDEFINED = ("bridge", "host", "none")
OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_MTU = "com.docker.network.driver.mtu"
OPT_MASQ = "com.docker.network.bridge.enable_ip_masquerade"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_DEFAULT = "com.docker.network.bridge.default_bridge"
OPT_HOST_IP = "com.docker.network.bridge.host_binding_ipv4"


def now_rfc3339() -> str:
    """RFC 3339 with nanoseconds, like Go's time.RFC3339Nano in UTC."""
    ns = time.time_ns()
    base = datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC)
    return base.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


@dataclass
class Endpoint:
    """One container's attachment to one network (what ``connect`` returns)."""

    network_id: str
    network_name: str
    container_id: str
    endpoint_id: str
    name: str = ""
    ip: str = ""
    prefixlen: int = 0
    gateway: str = ""
    mac: str = ""
    host_veth: str = ""
    ifname: str = ""
    netns_path: str = ""
    aliases: list[str] = field(default_factory=list)
    ports: list[PortMapping] = field(default_factory=list)
    static_ip: str = ""
    # Endpoint links (alias -> the linked container's name): names only this container's
    # queries resolve, to wherever that container is on the network at the time.
    links: dict[str, str] = field(default_factory=dict)
    # On a network with IPv6: the endpoint's address there (static if asked for).
    ip6: str = ""
    prefixlen6: int = 0
    gateway6: str = ""
    static_ip6: str = ""
    link_local: list[str] = field(default_factory=list)  # IPAMConfig.LinkLocalIPs

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["ports"] = [p.to_dict() for p in self.ports]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        data = dict(data)
        data["ports"] = [PortMapping.from_dict(p) for p in data.get("ports", [])]
        return cls(**data)

    def dns_names(self) -> list[str]:
        names = [self.name.lstrip("/")] if self.name else []
        names += [a for a in self.aliases if a not in names]
        short = self.container_id[:12]
        return names + ([short] if short and short not in names else [])

    def settings(self) -> dict[str, Any]:
        """Docker's EndpointSettings (container inspect NetworkSettings.Networks[name])."""
        ipam = {k: v for k, v in (("IPv4Address", self.static_ip),
                                  ("IPv6Address", self.static_ip6)) if v}
        return {
            "IPAMConfig": ipam or None,
            "Links": None, "Aliases": list(self.aliases) or None, "MacAddress": self.mac,
            "DriverOpts": None, "GwPriority": 0, "NetworkID": self.network_id,
            "EndpointID": self.endpoint_id, "Gateway": self.gateway, "IPAddress": self.ip,
            "IPPrefixLen": self.prefixlen, "IPv6Gateway": self.gateway6,
            "GlobalIPv6Address": self.ip6, "GlobalIPv6PrefixLen": self.prefixlen6,
            "DNSNames": self.dns_names() if self.ip else None,
        }

    def target_ip(self, mapping: PortMapping) -> str:
        """Where a published port's traffic goes: an IPv6 host address to the container's
        IPv6 address, or (none, as dockerd's proxy does) to its IPv4 one."""
        return self.ip6 if ":" in mapping.host_ip and self.ip6 else self.ip

    def port_bindings(self) -> dict[str, list[dict[str, str]]]:
        """Docker's NetworkSettings.Ports shape: {"80/tcp": [{"HostIp", "HostPort"}]}."""
        out: dict[str, list[dict[str, str]]] = {}
        for p in self.ports:
            out.setdefault(f"{p.container_port}/{p.proto}", []).append(
                {"HostIp": p.host_ip or "0.0.0.0", "HostPort": str(p.host_port)})
        return out


@dataclass
class Network:
    id: str
    name: str
    driver: str
    created: str
    bridge: str = ""
    pool: Pool | None = None
    mtu: int = 1500
    internal: bool = False
    attachable: bool = False
    masquerade: bool = True
    icc: bool = True
    ip_range: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    ipam_driver: str = "default"
    ipam_options: dict[str, str] | None = None
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    ipv6: bool = False             # EnableIPv6: endpoints get an address of pool6 too
    pool6: Pool | None = None

    def release(self, ep: Endpoint) -> None:
        """Give ``ep``'s addresses back to the pools."""
        if self.pool is not None and ep.ip:
            self.pool.release(ep.ip)
        if self.pool6 is not None and ep.ip6:
            self.pool6.release(ep.ip6)

    @property
    def predefined(self) -> bool:
        return self.name in PREDEFINED

    @property
    def user_defined(self) -> bool:
        return self.driver == "bridge" and self.name != "bridge"

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items()
                if k not in ("pool", "pool6", "endpoints")}
        data["pool"] = self.pool.to_dict() if self.pool else None
        data["pool6"] = self.pool6.to_dict() if self.pool6 else None
        data["endpoints"] = {k: e.to_dict() for k, e in self.endpoints.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Network:
        data = dict(data)
        pool = data.pop("pool", None)
        pool6 = data.pop("pool6", None)
        eps = data.pop("endpoints", {})
        net = cls(**data)
        net.pool = Pool.from_dict(pool) if pool else None
        net.pool6 = Pool.from_dict(pool6) if pool6 else None
        net.endpoints = {k: Endpoint.from_dict(e) for k, e in eps.items()}
        return net

    def inspect(self) -> dict[str, Any]:
        """The body of ``GET /networks/{id}``."""
        config: list[dict[str, Any]] = []
        for pool in (self.pool, self.pool6):
            if pool is None:
                continue
            entry: dict[str, Any] = {"Subnet": str(pool.subnet)}
            if pool.gateway_shown:
                entry["Gateway"] = str(pool.gateway)
            if pool.ip_range:
                entry["IPRange"] = str(pool.ip_range)
            if pool.aux:
                entry["AuxiliaryAddresses"] = {k: str(v) for k, v in pool.aux.items()}
            config.append(entry)
        return {
            "Name": self.name, "Id": self.id, "Created": self.created, "Scope": "local",
            "Driver": self.driver, "EnableIPv4": True, "EnableIPv6": self.ipv6,
            "IPAM": {"Driver": self.ipam_driver, "Options": None if self.ipam_options is None
                     else dict(self.ipam_options),
                     "Config": config},
            "Internal": self.internal, "Attachable": self.attachable, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
            "Containers": {
                cid: {"Name": e.name.lstrip("/"), "EndpointID": e.endpoint_id,
                      "MacAddress": e.mac,
                      "IPv4Address": f"{e.ip}/{e.prefixlen}" if e.ip else "",
                      "IPv6Address": f"{e.ip6}/{e.prefixlen6}" if e.ip6 else ""}
                for cid, e in self.endpoints.items()
            },
            "Options": dict(self.options), "Labels": dict(self.labels),
        }
