"""Bridge interfaces: ensure (idempotent) and remove."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address

from pydocker.network.netlink import EEXIST, delete_link, link_index, write_sysctl
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

IFA_F_NODAD = 0x02


def ensure_bridge(ipr: IPRoute, name: str, gateway: IPv4Address, prefixlen: int,
                  mtu: int = 1500) -> int:
    """Create (or adopt) bridge ``name`` with ``gateway/prefixlen``, up; return its index.

    ``route_localnet=1`` lets a DNAT from 127.0.0.1 leave through the bridge (loopback
    published ports); the interface's sysctls vanish with it, so nothing to restore.
    """
    index = link_index(ipr, name)
    if index is None:
        try:
            ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
        except NetlinkError as exc:
            if exc.code != EEXIST:
                raise
        index = link_index(ipr, name)
        assert index is not None
    else:
        ipr.link("set", index=index, mtu=mtu)
    have = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"])
            for a in ipr.get_addr(family=socket.AF_INET, index=index)}
    if (str(gateway), prefixlen) not in have:
        ipr.addr("add", index=index, address=str(gateway), prefixlen=prefixlen)
    ipr.link("set", index=index, state="up")
    write_sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")
    return index


def ensure_address6(ipr: IPRoute, name: str, address: IPv6Address, prefixlen: int) -> None:
    """The bridge's IPv6 gateway address, without duplicate address detection: the subnet
    is ours, and a tentative address would leave containers without a router at first."""
    index = link_index(ipr, name)
    assert index is not None
    have = {(a.get_attr("IFA_ADDRESS"), a["prefixlen"])
            for a in ipr.get_addr(family=socket.AF_INET6, index=index)}
    if (str(address), prefixlen) not in have:
        ipr.addr("add", index=index, address=str(address), prefixlen=prefixlen,
                 family=socket.AF_INET6, flags=IFA_F_NODAD)


def remove_bridge(ipr: IPRoute, name: str) -> bool:
    """Delete the bridge (its veth ports detach; their addresses and sysctls go with it)."""
    return delete_link(ipr, name)
