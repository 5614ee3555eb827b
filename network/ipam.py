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
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter

NO_FREE_POOL = (
    "could not find an available, non-overlapping IPv4 address pool among the defaults to "
    "assign to the network"
)
POOL_OVERLAP = "Pool overlaps with other one on this address space"


def default_pools() -> Iterator[IPv4Network]:
    """Docker's default-address-pools, in the order dockerd tries them."""
    for second in range(17, 32):
        yield IPv4Network(f"172.{second}.0.0/16")
    yield from IPv4Network("192.168.0.0/16").subnets(new_prefix=20)


def overlaps(net: IPv4Network, others: Iterable[IPv4Network]) -> bool:
    return any(net.overlaps(o) for o in others)


def choose_subnet(taken: Iterable[IPv4Network]) -> IPv4Network:
    """First default pool overlapping nothing in ``taken`` (host routes + our networks).

    A default route (0.0.0.0/0) is not a conflict: everything overlaps it.
    """
    blocked = [n for n in taken if n.prefixlen > 0]
    for candidate in default_pools():
        if not overlaps(candidate, blocked):
            return candidate
    raise Forbidden(NO_FREE_POOL)


def parse_subnet(text: str) -> IPv4Network:
    """A CIDR the way Docker accepts it: host bits must be zero."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise InvalidParameter(f"invalid CIDR address: {text}") from exc
    if net.version != 4:
        raise InvalidParameter(f"IPv6 is not supported here: {text}")
    if net.network_address != ipaddress.ip_interface(text).ip:
        raise InvalidParameter(
            f"invalid pool request: Pool request for {text} is not a network address "
            f"(did you mean {net}?)"
        )
    return net


def parse_address(text: str, what: str = "address") -> IPv4Address:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError as exc:
        raise InvalidParameter(f"invalid {what}: {text}") from exc
    if addr.version != 4:
        raise InvalidParameter(f"invalid {what}: {text}")
    return addr


def mac_for_ip(ip: IPv4Address) -> str:
    """Docker's generated MAC: 02:42 followed by the four IPv4 bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ip.packed)


@dataclass
class Pool:
    """The addresses of one network: subnet, optional ip-range, gateway, allocations."""

    subnet: IPv4Network
    gateway: IPv4Address
    ip_range: IPv4Network | None = None
    allocated: set[IPv4Address] = field(default_factory=set)
    # IPAM AuxiliaryAddresses: name -> an address of the subnet never handed out (dockerd
    # reserves them for hosts of the network that are not containers).
    aux: dict[str, IPv4Address] = field(default_factory=dict)

    @classmethod
    def create(cls, subnet: str | IPv4Network, gateway: str | None = None,
               ip_range: str | None = None, aux: dict[str, str] | None = None) -> Pool:
        net = parse_subnet(subnet) if isinstance(subnet, str) else subnet
        if net.prefixlen > 30:
            raise InvalidParameter(f"invalid subnet {net}: too small for containers")
        rng = parse_subnet(ip_range) if ip_range else None
        if rng is not None and not rng.subnet_of(net):
            raise InvalidParameter(f"Invalid ip-range {rng}: not within subnet {net}")
        gw = parse_address(gateway, "gateway") if gateway else next(net.hosts())
        if gw not in net:
            raise InvalidParameter(f"Invalid gateway {gw}: not within subnet {net}")
        return cls(net, gw, rng, aux=_aux_addresses(aux or {}, net))

    def _usable(self, ip: IPv4Address) -> bool:
        return ip not in (self.subnet.network_address, self.subnet.broadcast_address,
                          self.gateway, *self.aux.values())

    def allocate(self, requested: str | IPv4Address | None = None) -> IPv4Address:
        """Reserve ``requested`` (a static IP) or the lowest free address."""
        if requested is not None:
            ip = parse_address(str(requested), "IPv4 address")
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
            ip = IPv4Address(value)
            if ip not in self.allocated and self._usable(ip):
                self.allocated.add(ip)
                return ip
        raise Conflict(f"no available IPv4 addresses on this network's address pools: {span}")

    def release(self, ip: str | IPv4Address) -> None:
        self.allocated.discard(IPv4Address(str(ip)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "Subnet": str(self.subnet), "Gateway": str(self.gateway),
            "IPRange": str(self.ip_range) if self.ip_range else "",
            "Allocated": sorted(str(a) for a in self.allocated),
            "AuxiliaryAddresses": {k: str(v) for k, v in self.aux.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pool:
        pool = cls.create(data["Subnet"], data["Gateway"], data.get("IPRange") or None,
                          data.get("AuxiliaryAddresses") or {})
        pool.allocated = {IPv4Address(a) for a in data.get("Allocated", [])}
        return pool


def _aux_addresses(aux: dict[str, str], subnet: IPv4Network) -> dict[str, IPv4Address]:
    """Checked as libnetwork does: each parses, and lies in the subnet."""
    out = {}
    for name, text in aux.items():
        try:
            addr = IPv4Address(text)
        except ValueError:
            raise InvalidParameter(
                f"failed to parse secondary address {name} ({text})") from None
        if addr not in subnet:
            raise Forbidden(f"auxiliary address: ({name}:{text}) must belong to the master "
                            f"pool: {subnet}")
        out[name] = addr
    return out
