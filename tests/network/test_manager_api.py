"""NetworkManager's Docker-facing rules (names, errors, inspect shape), on a real kernel."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter, NotFound
from pydocker.network.manager import NetworkManager

from tests.network.conftest import Names, free_subnet, ns_name, sh

pytestmark = pytest.mark.root

CID = "f0" * 32


async def test_predefined_networks_and_lookup(
        manager_factory: Callable[..., NetworkManager], names: Names) -> None:
    mgr = manager_factory()
    await mgr.start()
    listed = {n["Name"]: n for n in await mgr.list_networks()}
    assert {k: v["Driver"] for k, v in listed.items()} == {
        "bridge": "bridge", "host": "host", "none": "null"}
    bridge = listed["bridge"]
    assert re.fullmatch(r"[0-9a-f]{64}", bridge["Id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", bridge["Created"])
    assert bridge["Options"]["com.docker.network.bridge.name"] == names.bridge
    assert bridge["IPAM"]["Config"][0]["Gateway"].endswith(".1")
    assert listed["host"]["IPAM"]["Config"] == []
    assert (await mgr.get_network(bridge["Id"][:12]))["Name"] == "bridge"
    with pytest.raises(NotFound, match="^network nope not found$"):
        await mgr.get_network("nope")
    for name in ("bridge", "host", "none"):
        with pytest.raises(Forbidden,
                           match=f"^{name} is a pre-defined network and cannot be removed$"):
            await mgr.remove_network(name)


async def test_create_rules_and_errors(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str]) -> None:
    mgr = manager_factory()
    await mgr.start()
    subnet = free_subnet()
    bridge = "pydtb" + CID[:6]
    net = await mgr.create_network(
        "mine", ipam={"Driver": "default", "Config": [{"Subnet": subnet}]},
        labels={"com.docker.compose.project": "p"}, attachable=True,
        options={"com.docker.network.bridge.name": bridge,
                 "com.docker.network.driver.mtu": "1400"})
    # shown as asked: the gateway the engine chose stays out, as with dockerd
    assert net["IPAM"]["Config"] == [{"Subnet": subnet}]
    assert net["IPAM"]["Options"] is None  # none were sent
    assert net["Attachable"] is True and net["Labels"] == {"com.docker.compose.project": "p"}
    link = sh(f"ip -o link show {bridge}").stdout
    assert "mtu 1400" in link
    assert sh(f"cat /proc/sys/net/ipv4/conf/{bridge}/route_localnet").stdout.strip() == "1"
    with pytest.raises(Conflict, match="^network with name mine already exists$"):
        await mgr.create_network("mine")
    with pytest.raises(Forbidden, match="^Pool overlaps with other one on this address space$"):
        await mgr.create_network("other", ipam={"Config": [{"Subnet": subnet}]})
    with pytest.raises(InvalidParameter):
        await mgr.create_network("bad", ipam={"Config": [{"Subnet": "10.0.0.0/99"}]})
    with pytest.raises(Forbidden, match='only one instance of "host"'):
        await mgr.create_network("h2", driver="host")
    ns = netns()
    ep = await mgr.connect("mine", CID, ns, name="/box", aliases=["db"],
                           ipv4=subnet[:-4] + "77")
    assert ep.ip == subnet[:-4] + "77" and ep.settings()["IPAMConfig"] == {
        "IPv4Address": ep.ip}
    assert "mtu 1400" in sh(f"ip -n {ns_name(ns)} -o link show eth0").stdout
    with pytest.raises(Forbidden, match="already exists in network mine"):
        await mgr.connect("mine", CID, ns)
    with pytest.raises(InvalidParameter, match="user defined networks only"):
        await mgr.connect("bridge", CID, ns, ipv4="10.0.0.5")
    second = await mgr.connect("bridge", CID, ns)  # a second network: eth1
    assert second.ifname == "eth1"
    assert "eth1" in sh(f"ip -n {ns_name(ns)} -o link").stdout
    assert set(mgr.endpoints_of(CID)) == {"mine", "bridge"}
    with pytest.raises(Forbidden, match=f"^error while removing network: network mine id "
                                        f"{net['Id']} has active endpoints$"):
        await mgr.remove_network("mine")
    await mgr.disconnect("mine", CID)
    with pytest.raises(Forbidden, match="is not connected to network mine"):
        await mgr.disconnect("mine", CID)
    await mgr.remove_network(net["Id"])
    assert sh(f"ip link show {bridge}", check=False).returncode != 0
    assert bridge not in sh("iptables-save").stdout
    with pytest.raises(NotFound):
        await mgr.get_network("mine")


async def test_default_pool_subnets_avoid_host_routes(
        manager_factory: Callable[..., NetworkManager]) -> None:
    mgr = manager_factory()
    await mgr.start()
    net = await mgr.create_network("auto")
    subnet = net["IPAM"]["Config"][0]["Subnet"]
    assert subnet.startswith(("172.", "192.168."))
    routes = sh("ip -4 route").stdout
    assert routes.count(subnet) == 1  # only its own bridge's route
    net2 = await mgr.create_network("auto2")
    assert net2["IPAM"]["Config"][0]["Subnet"] != subnet


async def test_none_and_host_networks(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str]) -> None:
    mgr = manager_factory()
    await mgr.start()
    ns = netns()
    ep = await mgr.connect("none", CID, ns)
    assert ep.ip == "" and "LOOPBACK,UP" in sh(f"ip -n {ns_name(ns)} -o link show lo").stdout
    assert CID in (await mgr.get_network("none"))["Containers"]
    await mgr.disconnect("none", CID)


async def test_a_host_bridge_it_did_not_make_is_never_adopted(
        manager_factory: Callable[..., NetworkManager]) -> None:
    """moby's swagger example names docker0: creating, then removing, such a network must
    not take a bridge that belongs to someone else (a dockerd beside us) with it."""
    foreign = "pydtforeign0"
    sh(f"ip link add {foreign} type bridge")
    try:
        mgr = manager_factory()
        await mgr.start()
        with pytest.raises(Conflict, match=f"bridge name {foreign} is already in use"):
            await mgr.create_network("adopter", options={
                "com.docker.network.bridge.name": foreign})
        await mgr.teardown()
        assert sh(f"ip -o link show {foreign}").stdout
    finally:
        sh(f"ip link del {foreign}")
