"""Pure logic of the network subsystem: IPAM, rule rendering, port parsing, wire shapes."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter
from pydocker.network import iptables as ipt
from pydocker.network.ipam import Pool, choose_subnet, default_pools, mac_for_ip, parse_subnet
from pydocker.network.model import Endpoint, Network
from pydocker.network.ports import (
    PortAllocated,
    PortMapping,
    PortSpec,
    from_port_bindings,
    parse_publish,
)


def test_default_pools_follow_dockers_order() -> None:
    pools = list(default_pools())
    assert pools[0] == IPv4Network("172.17.0.0/16") and pools[14] == IPv4Network("172.31.0.0/16")
    assert pools[15] == IPv4Network("192.168.0.0/20") and pools[-1] == IPv4Network(
        "192.168.240.0/20")
    assert len(pools) == 15 + 16


@pytest.mark.parametrize(("taken", "expected"), [
    ([], "172.17.0.0/16"),
    (["0.0.0.0/0", "192.0.2.0/24"], "172.17.0.0/16"),  # the default route blocks nothing
    (["172.17.0.0/16"], "172.18.0.0/16"),
    (["172.16.0.0/12"], "192.168.0.0/20"),
    (["172.17.5.0/24", "172.18.0.1/32"], "172.19.0.0/16"),
    (["172.16.0.0/12", "192.168.0.0/19"], "192.168.32.0/20"),
])
def test_choose_subnet_skips_overlaps(taken: list[str], expected: str) -> None:
    assert choose_subnet([IPv4Network(t) for t in taken]) == IPv4Network(expected)


def test_choose_subnet_exhausted() -> None:
    with pytest.raises(Forbidden, match="non-overlapping IPv4 address pool"):
        choose_subnet([IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/16")])


def test_allocation_skips_network_gateway_broadcast_and_reuses_released() -> None:
    pool = Pool.create("10.0.0.0/29")
    assert pool.gateway == IPv4Address("10.0.0.1")
    got = [pool.allocate() for _ in range(5)]
    assert [str(g) for g in got] == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(Conflict, match="no available IPv4 addresses"):
        pool.allocate()
    pool.release("10.0.0.4")
    assert str(pool.allocate()) == "10.0.0.4"


def test_static_addresses_and_ip_range() -> None:
    pool = Pool.create("10.1.0.0/24", gateway="10.1.0.254", ip_range="10.1.0.128/25")
    assert str(pool.allocate()) == "10.1.0.128"
    assert str(pool.allocate("10.1.0.7")) == "10.1.0.7"  # static may be outside the range
    with pytest.raises(Conflict, match="Address already in use"):
        pool.allocate("10.1.0.7")
    for bad in ("10.2.0.1", "10.1.0.254", "10.1.0.255", "10.1.0.0"):
        with pytest.raises(InvalidParameter):
            pool.allocate(bad)
    with pytest.raises(InvalidParameter):
        pool.allocate("not-an-ip")


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "banana", "10.0.0.1/24", "fd00::/64"])
def test_bad_subnets(bad: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_subnet(bad)


def test_bad_gateway_and_range() -> None:
    with pytest.raises(InvalidParameter):
        Pool.create("10.0.0.0/24", gateway="10.0.1.1")
    with pytest.raises(InvalidParameter):
        Pool.create("10.0.0.0/24", ip_range="10.0.1.0/25")


def test_pool_round_trips_through_json_dict() -> None:
    pool = Pool.create("10.3.0.0/24", ip_range="10.3.0.64/26")
    pool.allocate()
    pool.allocate("10.3.0.9")
    again = Pool.from_dict(pool.to_dict())
    assert again == pool


def test_mac_like_docker() -> None:
    assert mac_for_ip(IPv4Address("172.17.0.2")) == "02:42:ac:11:00:02"


def test_rules_render_for_iptables_restore() -> None:
    names = ipt.Names("PYD")
    rules = ipt.port_rules(names, "br0", "", 8080, "10.0.0.2", 80, "tcp")
    script = ipt.render_batch(add=rules)
    assert script == (
        "*nat\n-A PYD ! -i br0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination "
        "10.0.0.2:80\nCOMMIT\n*filter\n-A PYD -d 10.0.0.2/32 ! -i br0 -o br0 -p tcp -m tcp "
        "--dport 80 -j ACCEPT\nCOMMIT\n")
    bound = ipt.port_rules(names, "br0", "127.0.0.1", 8080, "10.0.0.2", 80, "udp")[0]
    assert bound.args[:2] == ("-d", "127.0.0.1/32") and "udp" in bound.args
    assert ipt.render_batch(delete=rules[:1]).startswith("*nat\n-D PYD ! -i br0")
    assert ipt.Rule("filter", "FORWARD", ("-j", "X"), insert=True).render() == \
        "-I FORWARD 1 -j X"


def test_chain_layout_and_prefix_limit() -> None:
    names = ipt.Names("PYDOCKER")
    assert [c.name for c in names.chains()] == [
        "PYDOCKER", "PYDOCKER-FORWARD", "PYDOCKER-ISOLATION-STAGE-1",
        "PYDOCKER-ISOLATION-STAGE-2", "PYDOCKER", "PYDOCKER-POSTROUTING"]
    assert [(r.table, r.chain) for r in names.jumps()] == [
        ("filter", "FORWARD"), ("nat", "PREROUTING"), ("nat", "OUTPUT"), ("nat", "POSTROUTING")]
    with pytest.raises(ValueError):
        ipt.Names("WAY-TOO-LONG-PREFIX")


def test_network_rules_internal_and_no_masquerade() -> None:
    names = ipt.Names("P")
    normal = ipt.network_rules(names, "br1", "10.5.0.0/24")
    internal = ipt.network_rules(names, "br1", "10.5.0.0/24", internal=True)
    no_masq = ipt.network_rules(names, "br1", "10.5.0.0/24", masquerade=False)
    out = ipt.Rule("filter", "P-FORWARD", ("-i", "br1", "!", "-o", "br1", "-j", "ACCEPT"))
    masq = ipt.Rule("nat", "P-POSTROUTING",
                    ("-s", "10.5.0.0/24", "!", "-o", "br1", "-j", "MASQUERADE"))
    assert out in normal and masq in normal
    assert out not in internal and masq not in internal
    assert masq not in no_masq
    assert any("DROP" in r.args and r.chain == "P-ISOLATION-STAGE-1" for r in internal)


@pytest.mark.parametrize(("text", "expected"), [
    ("80", [PortSpec(80)]),
    ("8080:80", [PortSpec(80, "tcp", "", 8080, 8080)]),
    ("127.0.0.1:8080:80/udp", [PortSpec(80, "udp", "127.0.0.1", 8080, 8080)]),
    ("127.0.0.1::80", [PortSpec(80, "tcp", "127.0.0.1", 0, 0)]),
    ("8000-8001:80-81", [PortSpec(80, "tcp", "", 8000, 8000), PortSpec(81, "tcp", "", 8001, 8001)]),
    ("9000-9010:80", [PortSpec(80, "tcp", "", 9000, 9010)]),
])
def test_parse_publish(text: str, expected: list[PortSpec]) -> None:
    assert parse_publish(text) == expected


@pytest.mark.parametrize("bad", ["80/icmp", "x:80", "8000-8002:80-81", "70000"])
def test_parse_publish_rejects(bad: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_publish(bad)


def test_port_bindings_from_host_config() -> None:
    specs = from_port_bindings({"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                                "53/udp": None})
    assert specs == [PortSpec(80, "tcp", "", 8080, 8080), PortSpec(53, "udp", "", 0, 0)]


def test_port_allocated_message() -> None:
    assert str(PortAllocated("", 8080)) == \
        "Bind for 0.0.0.0:8080 failed: port is already allocated"


def test_network_inspect_shape() -> None:
    net = Network("ab" * 32, "n1", "bridge", "2024-01-01T00:00:00.000000000Z", bridge="br-x",
                  pool=Pool.create("10.9.0.0/24"), labels={"a": "b"})
    ep = Endpoint(net.id, "n1", "cd" * 32, "ef" * 32, name="/web", ip="10.9.0.2", prefixlen=24,
                  gateway="10.9.0.1", mac="02:42:0a:09:00:02",
                  ports=[PortMapping(80, "tcp", "", 8080)], aliases=["w"])
    net.endpoints[ep.container_id] = ep
    body = net.inspect()
    assert body["IPAM"] == {"Driver": "default", "Options": None,
                            "Config": [{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.1"}]}
    assert body["Containers"]["cd" * 32] == {
        "Name": "web", "EndpointID": "ef" * 32, "MacAddress": "02:42:0a:09:00:02",
        "IPv4Address": "10.9.0.2/24", "IPv6Address": ""}
    assert body["Scope"] == "local" and body["Labels"] == {"a": "b"}
    assert ep.settings()["DNSNames"] == ["web", "w", "cd" * 6]
    assert ep.port_bindings() == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    assert Network.from_dict(net.to_dict()) == net
