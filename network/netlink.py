"""The netlink plumbing shared by bridge.py and veth.py (pyroute2, no forking).

pyroute2's ``IPRoute(netns=...)`` forks, which is unsafe in the multi-threaded daemon. To talk
to a container's network namespace we instead create the AF_NETLINK socket in a short-lived
thread that setns()es into the namespace (setns only affects the calling thread) and hand
the socket to ``IPRoute(fileno=...)``: the socket stays bound to that namespace.

Everything here is synchronous and meant to run on the manager's single kernel thread,
never on the event loop (sync IPRoute raises inside a running loop).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any, TypeVar

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netns import setns

NETLINK_ROUTE = 0
ENODEV = 19
HostNetlink = IPRoute  # the type kernel.py holds without importing pyroute2 itself
EEXIST = 17
T = TypeVar("T")


def in_netns(netns_path: str | os.PathLike[str], work: Callable[[], T]) -> T:
    """``work()`` run inside the network namespace at ``netns_path`` (nsfs path).

    setns() affects only the calling thread, so a short-lived thread enters the namespace,
    runs it and returns. What it creates there (a socket) stays bound to the namespace for
    life; /proc/sys/net, opened there, is that namespace's.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        target = os.open(os.fspath(netns_path), os.O_RDONLY | os.O_CLOEXEC)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
            try:
                box["result"] = work()
            finally:
                setns(home)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
        finally:
            os.close(target)
            os.close(home)

    thread = threading.Thread(target=run, name="netns-work")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


def ns_socket(netns_path: str | os.PathLike[str], family: int, kind: int,
              proto: int = 0) -> socket.socket:
    """A socket created inside the network namespace at ``netns_path``."""
    return in_netns(netns_path, lambda: socket.socket(family, kind, proto))


def enable_ipv6(netns_path: str | os.PathLike[str], ifnames: Iterable[str]) -> None:
    """Turn IPv6 back on for these interfaces of a container's namespace, which starts
    with it off (the runtime's create_netns, as dockerd's sandbox): an endpoint on a
    network with IPv6 needs it on its interface and on lo (for ::1), as dockerd does."""
    def write() -> None:
        for ifname in ifnames:
            with open(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6", "w") as f:
                f.write("0")
    in_netns(netns_path, write)


def host_iproute() -> IPRoute:
    """An IPRoute on the host's namespace (the daemon's own)."""
    return IPRoute()


def ns_iproute(netns_path: str | os.PathLike[str]) -> IPRoute:
    """An IPRoute whose netlink socket lives in the namespace at ``netns_path``."""
    sock = ns_socket(netns_path, socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)
    return IPRoute(fileno=sock.detach())


def link_index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def delete_link(ipr: IPRoute, name: str) -> bool:
    """Delete interface ``name``; False (not an error) if it is already gone."""
    index = link_index(ipr, name)
    if index is None:
        return False
    try:
        ipr.link("del", index=index)
    except NetlinkError as exc:
        if exc.code != ENODEV:
            raise
        return False
    return True


def host_routes(ipr: IPRoute) -> list[tuple[IPv4Network, int | None]]:
    """Every IPv4 destination routed on the host (plus addresses' networks), loopback
    left out, each with the index of its interface (None for a route without one)."""
    found: list[tuple[IPv4Network, int | None]] = []
    for route in ipr.get_routes(family=socket.AF_INET, table=254):
        dst = route.get_attr("RTA_DST")
        if dst:
            found.append((IPv4Network(f"{dst}/{route['dst_len']}", strict=False),
                          route.get_attr("RTA_OIF")))
    for addr in ipr.get_addr(family=socket.AF_INET):
        found.append((IPv4Network(f"{addr.get_attr('IFA_ADDRESS')}/{addr['prefixlen']}",
                                  strict=False), addr["index"]))
    return [(net, index) for net, index in found if not net.is_loopback]


def host_networks(ipr: IPRoute) -> list[IPv4Network]:
    """Every IPv4 destination routed on the host (plus addresses' networks): IPAM avoids them."""
    return [net for net, _ in host_routes(ipr)]


def write_sysctl(path: str, value: str) -> str:
    """Write a /proc/sys value and return what was there before."""
    p = Path("/proc/sys") / path
    old = p.read_text().strip()
    if old != value:
        p.write_text(value)
    return old


def read_sysctl(path: str) -> str:
    return (Path("/proc/sys") / path).read_text().strip()
