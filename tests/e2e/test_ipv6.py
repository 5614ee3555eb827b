"""IPv6 on user-defined bridge networks (issue 15): EnableIPv6 with a fixed subnet, the
bridge's v6 gateway, containers' v6 addresses (static ones too), shown as dockerd shows
them; ip6tables rules in our chains (NAT, forwarding, isolation, published ports over
IPv6). Traffic stays on loopback and our own bridges."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.e2e.harness import Daemon, detached
from tests.fixtures import pause

pytestmark = [pytest.mark.root, pytest.mark.e2e]

SUBNET = "fd42:7e57:15::/64"

FORWARDING = [Path("/proc/sys/net/ipv6/conf/default/forwarding"),
              Path("/proc/sys/net/ipv6/conf/all/forwarding")]


@pytest.fixture(autouse=True)
def _host_forwarding() -> Iterator[None]:
    """The daemon turns IPv6 forwarding on as dockerd does and leaves it on; each test puts
    the host's values back ("all" last: writing it resets every interface's value)."""
    before = [p.read_text() for p in FORWARDING]
    yield
    for path, value in zip(FORWARDING, before, strict=True):
        path.write_text(value)



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


# --- ip6tables (dockerd's bridge driver with ip6tables on) --------------------------------

def _network(client: docker.DockerClient, name: str, subnet: str
             ) -> docker.models.networks.Network:
    pool = docker.types.IPAMPool(subnet=subnet)
    return client.networks.create(name, enable_ipv6=True,
                                  ipam=docker.types.IPAMConfig(pool_configs=[pool]))


def _ip6tables(table: str) -> str:
    return subprocess.run(["ip6tables-save", "-t", table], capture_output=True, text=True,
                          check=True).stdout


def _bridge(net: docker.models.networks.Network) -> str:
    return f"br-{net.id[:12]}"


def _fetch(address: str, port: int) -> bytes:
    with socket.create_connection((address, port), timeout=10) as conn:
        conn.settimeout(10)
        return conn.recv(100)


def test_ipv6_published_port_nat_and_forward_rules(daemon: Daemon, client: docker.DockerClient,
                                                   busybox: str) -> None:
    subnet = "fd42:7e57:16::/64"
    net = _network(client, "v6-ports", subnet)
    bridge, prefix = _bridge(net), daemon.chain_prefix
    try:
        assert f"-A {prefix}-POSTROUTING -s {subnet} ! -o {bridge} -j MASQUERADE" \
            in _ip6tables("nat")
        rules = _ip6tables("filter")
        assert f"-A {prefix}-FORWARD -i {bridge} ! -o {bridge} -j ACCEPT" in rules
        assert f"-A {prefix}-ISOLATION-STAGE-1 -i {bridge} ! -o {bridge} " \
            f"-j {prefix}-ISOLATION-STAGE-2" in rules
        assert [p.read_text().strip() for p in FORWARDING] == ["1", "1"]
        cid = daemon.cli("run", "-d", "--network", "v6-ports", "-p", "[::]::80", "busybox",
                         "nc", "-ll", "-p", "80", "-e", "echo", "hello-v6").stdout.strip()
        try:
            attrs = client.api.inspect_container(cid)
            bindings = attrs["NetworkSettings"]["Ports"]["80/tcp"]
            assert [b["HostIp"] for b in bindings] == ["::"]
            port = int(bindings[0]["HostPort"])
            ip6 = attrs["NetworkSettings"]["Networks"]["v6-ports"]["GlobalIPv6Address"]
            assert f"--dport {port} -j DNAT --to-destination [{ip6}]:80" in _ip6tables("nat")
            gateway = attrs["NetworkSettings"]["Networks"]["v6-ports"]["IPv6Gateway"]
            assert _fetch("::1", port) == b"hello-v6\n"
            assert _fetch(gateway, port) == b"hello-v6\n"
            with detached(client, ["sleep", "60"], network="v6-ports") as peer:
                got = peer.exec_run(["nc", "-w", "5", ip6, "80"]).output
                assert got == b"hello-v6\n"  # container to container over IPv6
        finally:
            client.api.remove_container(cid, force=True)
        assert f"[{ip6}]:80" not in _ip6tables("nat")
    finally:
        net.remove()
    assert bridge not in _ip6tables("filter") + _ip6tables("nat")


def _drops(prefix: str, bridge: str) -> int:
    """Packets the isolation stage-2 rule of ``bridge`` dropped so far."""
    out = subprocess.run(["ip6tables", "-t", "filter", "-L", f"{prefix}-ISOLATION-STAGE-2",
                          "-v", "-x", "-n"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if "DROP" in fields and bridge in fields:
            return int(fields[0])
    raise AssertionError(f"no isolation rule for {bridge}:\n{out}")


def test_ipv6_networks_are_isolated(daemon: Daemon, client: docker.DockerClient, busybox: str
                                    ) -> None:
    one = _network(client, "v6-one", "fd42:7e57:17::/64")
    two = _network(client, "v6-two", "fd42:7e57:18::/64")
    try:
        with detached(client, ["sleep", "60"], network="v6-one") as a, \
                detached(client, ["sleep", "60"], network="v6-two") as b:
            b.reload()
            target = b.attrs["NetworkSettings"]["Networks"]["v6-two"]
            # Forwarding is on (dockerd turns it on), so only our rules stand between them.
            assert [p.read_text().strip() for p in FORWARDING] == ["1", "1"]
            before = _drops(daemon.chain_prefix, _bridge(two))
            ping = a.exec_run(["ping", "-6", "-c", "1", "-W", "2", target["GlobalIPv6Address"]])
            assert ping.exit_code != 0, ping.output
            assert _drops(daemon.chain_prefix, _bridge(two)) > before
            # ... while the host's own address on the other bridge answers (no forwarding).
            reach = a.exec_run(["ping", "-6", "-c", "1", "-W", "5", target["IPv6Gateway"]])
            assert reach.exit_code == 0, reach.output
    finally:
        one.remove()
        two.remove()


def test_unaddressed_port_is_published_on_ipv6_too(daemon: Daemon, client: docker.DockerClient,
                                                   busybox: str) -> None:
    """dockerd 20.10 binds ``-p 80`` on 0.0.0.0 and [::] (one port number); an IPv4-only
    container gets the IPv6 side through the port's proxy."""
    with detached(client, ["nc", "-ll", "-p", "80", "-e", "echo", "hello-v4"],
                  ports={"80/tcp": None}) as c:
        c.reload()
        bindings = c.attrs["NetworkSettings"]["Ports"]["80/tcp"]
        assert [b["HostIp"] for b in bindings] == ["0.0.0.0", "::"]
        port = bindings[0]["HostPort"]
        assert bindings[1]["HostPort"] == port
        shown = daemon.cli("ps", "--filter", f"id={c.id}", "--format", "{{.Ports}}").stdout
        assert shown.strip() == f"0.0.0.0:{port}->80/tcp, [::]:{port}->80/tcp"
        assert _fetch("::1", int(port)) == b"hello-v4\n"
        assert _fetch("127.0.0.1", int(port)) == b"hello-v4\n"


IPV6_STATE = ("ip -6 -o addr | awk '{print $2, $4}'; "
              "for s in all default lo eth0 eth1; do "
              "[ -e /proc/sys/net/ipv6/conf/$s ] && echo $s $(cat /proc/sys/net/ipv6/conf/$s/disable_ipv6); "
              "done; true")


def test_ipv6_is_off_in_containers_without_an_ipv6_network(client: docker.DockerClient,
                                                            busybox: str) -> None:
    """As dockerd 20.10's sandbox: IPv6 off for all interfaces (no ::1 on lo), and on
    again for lo and the interface of a network with IPv6, also one connected later."""
    off = "all 1\ndefault 1\nlo 1\n"
    for mode in ("none", "bridge"):
        out = client.containers.run("busybox", ["sh", "-c", IPV6_STATE], network_mode=mode,
                                    remove=True).decode()
        assert out == (off if mode == "none" else off + "eth0 1\n")
    net = _v6_network(client, "v6-state")
    try:
        with detached(client, ["sleep", "60"]) as c:
            assert c.exec_run(["sh", "-c", IPV6_STATE]).output.decode() == off + "eth0 1\n"
            net.connect(c)
            state = c.exec_run(["sh", "-c", IPV6_STATE]).output.decode().splitlines()
            assert state[-5:] == ["all 1", "default 1", "lo 0", "eth0 1", "eth1 0"]
            addresses = state[:-5]
            assert "lo ::1/128" in addresses
            assert any(a.startswith("eth1 fd42:7e57:15::") for a in addresses)
            assert not any(a.startswith("eth0 ") for a in addresses)
    finally:
        net.remove()


def _udp_ask(address: str, port: int, data: bytes, tries: int = 20) -> bytes:
    """Send until answered (the echo server may still be starting): UDP has no connect."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        for _ in range(tries):
            s.sendto(data, (address, port))
            with contextlib.suppress(TimeoutError):
                return s.recv(70000)
    raise AssertionError(f"no answer from {address}:{port}")


@pytest.fixture(scope="module")
def udpecho(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pause.build(tmp_path_factory.mktemp("udpecho"), pause.SOURCE.with_name("udpecho.c"))


def test_udp_port_reaches_an_ipv4_only_container_over_ipv6_too(
        daemon: Daemon, client: docker.DockerClient, busybox: str, udpecho: Path) -> None:
    """As docker-proxy: the [::] side of ``-p 9999/udp`` relays each client's datagrams
    to the container's IPv4 address and its answers back, on its own socket per client."""
    with detached(client, ["/udpecho", "9999"], ports={"9999/udp": None},
                  volumes={str(udpecho): {"bind": "/udpecho", "mode": "ro"}}) as c:
        c.reload()
        bindings = c.attrs["NetworkSettings"]["Ports"]["9999/udp"]
        assert [b["HostIp"] for b in bindings] == ["0.0.0.0", "::"]
        port = int(bindings[0]["HostPort"])
        assert _udp_ask("127.0.0.1", port, b"v4") == b"echo:v4"
        assert _udp_ask("::1", port, b"v6") == b"echo:v6"
        big = os.urandom(60000)
        assert _udp_ask("::1", port, big) == b"echo:" + big
        assert _udp_ask("::1", port, b"another client") == b"echo:another client"
