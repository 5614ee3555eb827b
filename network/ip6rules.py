"""The IPv6 half of our firewall, as dockerd's bridge driver programs it with ip6tables on.

ip6tables gets the same chains as iptables (names.chains(), jumps from the built-in chains,
the isolation stages), and each network with IPv6 the same rules for its v6 subnet:
MASQUERADE of the subnet leaving by another interface, FORWARD accept in and out of its
bridge, bridge-to-bridge isolation. Published ports whose host address is IPv6 (``-p
[::]:8080:80``) DNAT to the container's IPv6 address (iptables.port_rules picks the family
from that address), except from ::1 (see ``jumps``).

Host forwarding: dockerd (libnetwork's setupIPv6Forwarding, run when ip-forward is on and the
network has an IPv6 subnet) writes 1 to net.ipv6.conf.{default,all}.forwarding and never puts
the old values back; we do the same, so ``teardown`` leaves them as they are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pydocker.network import iptables as ipt
from pydocker.network.model import Network
from pydocker.network.netlink import write_sysctl

FORWARDING = ("net/ipv6/conf/default/forwarding", "net/ipv6/conf/all/forwarding")


def as_v6(rules: Iterable[ipt.Rule]) -> list[ipt.Rule]:
    return [dataclasses.replace(r, family=6) for r in rules]


def chains(names: ipt.Names) -> list[ipt.Chain]:
    return [dataclasses.replace(c, family=6) for c in names.chains()]


def ensure_base(names: ipt.Names) -> None:
    """Our ip6tables chains, their base rules and the jumps to them."""
    for chain in chains(names):
        chain.ensure()
    ipt.ensure_all(as_v6(names.base_rules()))
    ipt.ensure_all(jumps(names))


def jumps(names: ipt.Names) -> list[ipt.Rule]:
    """The v4 jumps, but the host's own connections to ::1 skip our DNAT (dockerd's OUTPUT
    rule with the userland proxy on): IPv6 has no route_localnet, the kernel drops a packet
    from ::1 leaving by the bridge, so the port's proxy (listening on [::]) carries them."""
    return [dataclasses.replace(r, family=6, args=(*r.args, "!", "-d", "::1/128"))
            if r.chain == "OUTPUT" else dataclasses.replace(r, family=6)
            for r in names.jumps()]


def remove_base(names: ipt.Names) -> None:
    ipt.remove_all(jumps(names))
    ipt.remove_chains(chains(names))


def network_rules(names: ipt.Names, net: Network) -> list[ipt.Rule]:
    """The v4 rule set of a bridge network, for its IPv6 subnet (none without one)."""
    if net.pool6 is None:
        return []
    return as_v6(ipt.network_rules(names, net.bridge, str(net.pool6.subnet),
                                   internal=net.internal, masquerade=net.masquerade,
                                   icc=net.icc))


def enable_forwarding() -> None:
    """As dockerd: on, and left on (see the module's docstring)."""
    for path in FORWARDING:
        write_sysctl(path, "1")
