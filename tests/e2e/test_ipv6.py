"""IPv6 on user-defined bridge networks (issue 15): EnableIPv6 with a fixed subnet, the
bridge's v6 gateway, containers' v6 addresses (static ones too), shown as dockerd shows
them. Traffic stays on the bridge: the host's IPv6 forwarding is left as it is."""

from __future__ import annotations

import docker
import pytest

from tests.e2e.harness import detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]

SUBNET = "fd42:7e57:15::/64"


def _v6_network(client: docker.DockerClient, name: str) -> docker.models.networks.Network:
    pool = docker.types.IPAMPool(subnet=SUBNET, gateway="fd42:7e57:15::ffff")
    return client.networks.create(name, enable_ipv6=True,
                                  ipam=docker.types.IPAMConfig(pool_configs=[pool]))


def test_ipv6_network_addresses_and_traffic(client: docker.DockerClient, busybox: str
                                            ) -> None:
    net = _v6_network(client, "v6-net")
    try:
        attrs = client.api.inspect_network(net.id)
        assert attrs["EnableIPv6"] is True
        v6 = [c for c in attrs["IPAM"]["Config"] if ":" in c["Subnet"]]
        assert v6 == [{"Subnet": SUBNET, "Gateway": "fd42:7e57:15::ffff"}]
        assert any("." in c["Subnet"] for c in attrs["IPAM"]["Config"])  # and IPv4 too
        api = client.api
        fixed = api.create_container(
            "busybox", ["sleep", "60"], host_config=api.create_host_config(network_mode="v6-net"),
            networking_config=api.create_networking_config({
                "v6-net": api.create_endpoint_config(ipv6_address="fd42:7e57:15::f00d")}))
        try:
            api.start(fixed)
            shown = api.inspect_container(fixed)["NetworkSettings"]["Networks"]["v6-net"]
            assert shown["IPAMConfig"]["IPv6Address"] == "fd42:7e57:15::f00d"
            assert shown["GlobalIPv6Address"] == "fd42:7e57:15::f00d"
            assert shown["GlobalIPv6PrefixLen"] == 64
            assert shown["IPv6Gateway"] == "fd42:7e57:15::ffff"
            with detached(client, ["sleep", "60"], network="v6-net") as other:
                other.reload()
                mine = other.attrs["NetworkSettings"]["Networks"]["v6-net"]["GlobalIPv6Address"]
                assert mine.startswith("fd42:7e57:15::")
                ping = api.exec_create(fixed, ["ping", "-6", "-c", "1", "-W", "5", mine])
                assert b"1 packets received" in api.exec_start(ping)
                route = api.exec_create(fixed, ["ip", "-6", "route", "show", "default"])
                assert b"via fd42:7e57:15::ffff" in api.exec_start(route)
        finally:
            api.remove_container(fixed, force=True)
    finally:
        net.remove()


def test_ipv6_refusals(client: docker.DockerClient, busybox: str) -> None:
    with pytest.raises(docker.errors.APIError, match="non-overlapping IPv6 address pool"):
        client.networks.create("v6-nopool", enable_ipv6=True)
    pool = docker.types.IPAMPool(subnet=SUBNET)
    with pytest.raises(docker.errors.APIError, match="without EnableIPv6"):
        client.networks.create("v6-off", ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    assert not client.networks.list(names=["v6-nopool", "v6-off"])
