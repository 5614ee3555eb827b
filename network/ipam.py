"""IP address management: pure logic, no kernel, no files (persistence is the manager's).

Subnets come from Docker's default address pools (172.17-31.0.0/16, then 192.168.0.0/16 in
/20s) minus whatever overlaps a host route or one of our networks. A pool hands out
addresses inside its subnet (or its ip-range), never the network, broadcast or gateway
address, and remembers which are taken so a restarted daemon keeps live containers' IPs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter

NO_FREE_POOL = (
    "could not find an available, non-overlapping IPv4 address pool among the defaults to "
    "assign to the network"
)
POOL_OVERLAP = "Pool overlaps with other one on this address space"
NO_FREE_POOL6 = (
    "could not find an available, non-overlapping IPv6 address pool among the defaults to "
    "assign to the network"
)
IPNetwork = IPv4Network | IPv6Network
IPAddress = IPv4Address | IPv6Address


def default_pools() -> Iterator[IPv4Network]:
    """Docker's default-address-pools, in the order dockerd tries them."""
    for second in range(17, 32):
        yield IPv4Network(f"172.{second}.0.0/16")
    yield from IPv4Network("192.168.0.0/16").subnets(new_prefix=20)


def overlaps(net: IPNetwork, others: Iterable[IPNetwork]) -> bool:
    return any(net.overlaps(o) for o in others)


def choose_subnet(taken: Iterable[IPNetwork]) -> IPv4Network:
    """First default pool overlapping nothing in ``taken`` (host routes + our networks).

    A default route (0.0.0.0/0) is not a conflict: everything overlaps it.
    """
    blocked = [n for n in taken if n.prefixlen > 0]
    for candidate in default_pools():
        if not overlaps(candidate, blocked):
            return candidate
    raise Forbidden(NO_FREE_POOL)


def parse_subnet(text: str, version: int = 4) -> IPNetwork:
    """A CIDR the way Docker accepts it: host bits must be zero."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidParameter(f"invalid CIDR address: {text}") from exc
    if net.version != version:
        raise InvalidParameter(f"invalid CIDR address: {text} is not an IPv{version} subnet")
    if net.network_address != ipaddress.ip_interface(text).ip:
        raise InvalidParameter(
            f"invalid pool request: Pool request for {text} is not a network address "
            f"(did you mean {net}?)"
        )
    return net


def parse_address(text: str, what: str = "address", version: int = 4) -> IPAddress:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError as exc:
        raise InvalidParameter(f"invalid {what}: {text}") from exc
    if addr.version != version:
        raise InvalidParameter(f"invalid {what}: {text}")
    return addr


def mac_for_ip(ip: IPAddress) -> str:
    """Docker's generated MAC: 02:42 followed by the four IPv4 bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ip.packed)


@dataclass
class Pool:
    """The addresses of one network, IPv4 or IPv6: subnet, optional ip-range, gateway,
    allocations."""

    subnet: IPNetwork
    gateway: IPAddress
    ip_range: IPNetwork | None = None
    allocated: set[IPAddress] = field(default_factory=set)
    # IPAM AuxiliaryAddresses: name -> an address of the subnet never handed out (dockerd
    # reserves them for hosts of the network that are not containers).
    aux: dict[str, IPAddress] = field(default_factory=dict)
    # Shown in inspect: dockerd hides the gateway it chose itself for a subnet the
    # create named without one (the config is shown as it was asked for).
    gateway_shown: bool = True

    @classmethod
    def create(cls, subnet: str | IPNetwork, gateway: str | None = None,
               ip_range: str | None = None, aux: dict[str, str] | None = None, *,
               version: int = 4) -> Pool:
        net = parse_subnet(subnet, version) if isinstance(subnet, str) else subnet
        if net.prefixlen > net.max_prefixlen - 2:
            raise InvalidParameter(f"invalid subnet {net}: too small for containers")
        rng = parse_subnet(ip_range, net.version) if ip_range else None
        if rng is not None and not rng.subnet_of(net):  # type: ignore[arg-type]
            raise InvalidParameter(f"Invalid ip-range {rng}: not within subnet {net}")
        gw: IPAddress = (parse_address(gateway, "gateway", net.version) if gateway
                         else next(iter(net.hosts())))  # type: ignore[assignment]
        if gw not in net:
            raise InvalidParameter(f"Invalid gateway {gw}: not within subnet {net}")
        return cls(net, gw, rng, aux=_aux_addresses(aux or {}, net))

    def _usable(self, ip: IPAddress) -> bool:
        return ip not in (self.subnet.network_address, self.subnet.broadcast_address,
                          self.gateway, *self.aux.values())

    def allocate(self, requested: str | IPAddress | None = None) -> IPAddress:
        """Reserve ``requested`` (a static IP) or the lowest free address."""
        if requested is not None:
            ip = parse_address(str(requested), f"IPv{self.subnet.version} address",
                               self.subnet.version)
            if ip not in self.subnet or not self._usable(ip):
                raise InvalidParameter(
                    f"no configured subnet or ip-range contain the IP address {ip}")
            if ip in self.allocated:
                raise Conflict(f"Address already in use: {ip}")
            self.allocated.add(ip)
            return ip
        span = self.ip_range or self.subnet
        first, last = int(span.network_address), int(span.broadcast_address)
        for value in range(first, last + 1):
            ip = IPv6Address(value) if self.subnet.version == 6 else IPv4Address(value)
            if ip not in self.allocated and self._usable(ip):
                self.allocated.add(ip)
                return ip
        raise Conflict(f"no available IPv{self.subnet.version} addresses on this network's "
                       f"address pools: {span}")

    def release(self, ip: str | IPAddress) -> None:
        self.allocated.discard(ipaddress.ip_address(str(ip)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "Subnet": str(self.subnet), "Gateway": str(self.gateway),
            "IPRange": str(self.ip_range) if self.ip_range else "",
            "Allocated": sorted(str(a) for a in self.allocated),
            "AuxiliaryAddresses": {k: str(v) for k, v in self.aux.items()},
            "GatewayShown": self.gateway_shown,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pool:
        version = ipaddress.ip_network(data["Subnet"], strict=False).version
        pool = cls.create(data["Subnet"], data["Gateway"], data.get("IPRange") or None,
                          data.get("AuxiliaryAddresses") or {}, version=version)
        pool.allocated = {ipaddress.ip_address(a) for a in data.get("Allocated", [])}
        pool.gateway_shown = bool(data.get("GatewayShown", True))
        return pool


def _aux_addresses(aux: dict[str, str], subnet: IPNetwork) -> dict[str, IPAddress]:
    """Checked as libnetwork does: each parses, and lies in the subnet."""
    out = {}
    for name, text in aux.items():
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise InvalidParameter(
                f"failed to parse secondary address {name} ({text})") from None
        if addr not in subnet:
            raise Forbidden(f"auxiliary address: ({name}:{text}) must belong to the master "
                            f"pool: {subnet}")
        out[name] = addr
    return out
