"""The default bridge's persisted subnet against the host's routes, at start.

The subnet chosen at the first start is kept in the data root and reused. Another engine
started meanwhile (a dockerd's docker0 on 172.17.0.0/16) may now route the same subnet:
both bridges would then carry the same gateway address and neither's containers nor
published ports would answer. dockerd itself chooses its pools away from routes in use, so
at start a persisted subnet that a route of another interface overlaps is replaced, when
no running container holds an address in it, and refused with a clear message when one does
(those containers cannot be renumbered under their feet).
"""

from __future__ import annotations

from collections.abc import Collection

from pydocker.engine.errors import SystemFailure
from pydocker.network.ipam import IPNetwork
from pydocker.network.model import Network
from pydocker.network.netlink import HostNetlink, host_routes


class SubnetRoutedElsewhere(SystemFailure):
    """The default bridge's subnet is routed by another interface and containers hold it."""


def foreign_route(ipr: HostNetlink, subnet: IPNetwork, own_links: Collection[str]
                  ) -> str | None:
    """The name of an interface not in ``own_links`` that routes (or is addressed in)
    something overlapping ``subnet``, or None. Default routes do not count."""
    names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
    for net, index in host_routes(ipr):
        link = names.get(index, "") if index is not None else ""
        if net.prefixlen > 0 and link not in own_links and net.overlaps(subnet):
            return link or "a route without an interface"
    return None


def refusal(net: Network, link: str, holders: list[str], data_root_file: str
            ) -> SubnetRoutedElsewhere:
    assert net.pool is not None
    return SubnetRoutedElsewhere(
        f"the default bridge's subnet {net.pool.subnet} (kept in {data_root_file}) is now "
        f"also routed by {link}, an interface pydocker does not own, and running "
        f"container(s) {', '.join(holders)} hold addresses in it: stop them (or remove "
        f"that route) and start again, or give the default bridge a subnet with --bip")
