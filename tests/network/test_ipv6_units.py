"""The IPv6 side of rules and published ports: ip6tables rule values, and the host-port
sockets for [::] next to 0.0.0.0 (real sockets on this host, no firewall touched)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pydocker.engine.main import parse_args
from pydocker.network import ip6rules
from pydocker.network import iptables as ipt
from pydocker.network.ipam import Pool
from pydocker.network.kernel import Kernel
from pydocker.network.model import Endpoint, Network
from pydocker.network.ports import (
    PortAllocated,
    PortHolder,
    PortMapping,
    PortSpec,
    parse_publish,
    v6_listenable,
)

NAMES = ipt.Names("PYD")


def test_port_rules_for_an_ipv6_container_are_ip6tables_rules() -> None:
    rules = ipt.port_rules(NAMES, "br0", "::", 8080, "fd00::2", 80, "tcp")
    assert {r.family for r in rules} == {6}
    assert ipt.render_batch(add=rules) == (
        "*nat\n-A PYD ! -i br0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
        "[fd00::2]:80\nCOMMIT\n*filter\n-A PYD -d fd00::2/128 ! -i br0 -o br0 -p tcp -m tcp "
        "--dport 80 -j ACCEPT\nCOMMIT\n")
    bound = ipt.port_rules(NAMES, "br0", "fd00::1", 8080, "fd00::2", 80, "udp")[0]
    assert bound.args[:2] == ("-d", "fd00::1/128")
    assert {r.family for r in ipt.port_rules(NAMES, "br0", "", 80, "10.0.0.2", 80, "tcp")} == {4}


def test_ip6tables_layout_mirrors_iptables_but_loopback_skips_dnat() -> None:
    assert [(c.table, c.name) for c in ip6rules.chains(NAMES)] == \
        [(c.table, c.name) for c in NAMES.chains()]
    assert {c.family for c in ip6rules.chains(NAMES)} == {6}
    jumps = {r.chain: r for r in ip6rules.jumps(NAMES)}
    assert jumps["OUTPUT"].args[-3:] == ("!", "-d", "::1/128")
    assert jumps["PREROUTING"].args == NAMES.jumps()[1].args
    assert {r.family for r in jumps.values()} == {6}


def test_network_rules_only_for_networks_with_ipv6() -> None:
    net = Network("id", "n", "bridge", "now", bridge="br1", pool=Pool.create("10.5.0.0/24"))
    assert ip6rules.network_rules(NAMES, net) == []
    net.pool6 = Pool.create("fd00:5::/64", version=6)
    rules = ip6rules.network_rules(NAMES, net)
    assert {r.family for r in rules} == {6}
    masq = ipt.Rule("nat", "PYD-POSTROUTING",
                    ("-s", "fd00:5::/64", "!", "-o", "br1", "-j", "MASQUERADE"), family=6)
    assert masq in rules
    assert ipt.Rule("filter", "PYD-ISOLATION-STAGE-2", ("-o", "br1", "-j", "DROP"),
                    family=6) in rules


def test_publish_syntax_and_targets() -> None:
    assert parse_publish("[::]:8080:80") == [PortSpec(80, "tcp", "::", 8080, 8080)]
    assert parse_publish("[::1]::80/udp") == [PortSpec(80, "udp", "::1", 0, 0)]
    ep = Endpoint("n", "net", "c", "e", ip="10.0.0.2")
    v6 = PortMapping(80, "tcp", "::", 8080)
    assert ep.target_ip(v6) == "10.0.0.2"  # no IPv6 address: the proxy carries it to IPv4
    ep.ip6 = "fd00::2"
    assert ep.target_ip(v6) == "fd00::2"
    assert ep.target_ip(PortMapping(80, "tcp", "", 8080)) == "10.0.0.2"


@pytest.mark.skipif(not v6_listenable(), reason="this host cannot listen on IPv6")
def test_unaddressed_port_is_held_on_both_families_with_one_number() -> None:
    holder = PortHolder(proxy=False)
    try:
        both = holder.reserve_all(PortSpec(80))
        assert [m.host_ip for m in both] == ["", "::"]
        assert both[0].host_port == both[1].host_port
        for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            with socket.socket(family) as other, pytest.raises(OSError):
                other.bind((address, both[0].host_port))
        with pytest.raises(PortAllocated):  # the [::] twin is taken: the request fails whole
            holder.reserve_all(PortSpec(81, "tcp", "", both[0].host_port, both[0].host_port))
        only6 = holder.reserve_all(PortSpec(81, "tcp", "::1"))
        assert [m.host_ip for m in only6] == ["::1"]
    finally:
        asyncio.run(holder.close())


@pytest.mark.skipif(not v6_listenable(), reason="this host cannot listen on IPv6")
def test_a_twin_that_cannot_be_held_releases_its_ipv4_port() -> None:
    holder = PortHolder(proxy=False)
    with socket.socket(socket.AF_INET6) as squatter:
        squatter.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        squatter.bind(("::", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        try:
            with pytest.raises(PortAllocated):
                holder.reserve_all(PortSpec(80, "tcp", "", port, port))
            with socket.socket() as probe:
                probe.bind(("0.0.0.0", port))  # the IPv4 half was given back
        finally:
            asyncio.run(holder.close())


def test_ip6tables_off_leaves_ipv6_to_the_proxy() -> None:
    assert parse_args([]).ip6tables is True
    assert parse_args(["--ip6tables", "false"]).ip6tables is False
    net = Network("id", "n", "bridge", "now", bridge="br1", pool=Pool.create("10.5.0.0/24"),
                  pool6=Pool.create("fd00:5::/64", version=6))
    ep = Endpoint("id", "n", "c", "e", ip="10.5.0.2", ip6="fd00:5::2",
                  ports=[PortMapping(80, "tcp", "", 8080), PortMapping(80, "tcp", "::", 8080)])
    on = Kernel(NAMES, iptables=True, ip_forward=False)
    off = Kernel(NAMES, iptables=True, ip_forward=False, ip6tables=False)
    try:
        assert {r.family for r in on.port_rules(net, ep)} == {4, 6}
        assert {r.family for r in off.port_rules(net, ep)} == {4}
        assert {r.family for r in off._network_rules(net)} == {4}
        ep.ip6 = ""  # an IPv4-only container: [::] reaches it through the proxy alone
        assert {r.family for r in on.port_rules(net, ep)} == {4}
    finally:
        asyncio.run(on.close())
        asyncio.run(off.close())
