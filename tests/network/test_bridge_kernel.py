"""Real-kernel tests of the network manager: bridges, veths, NAT, isolation, ports, teardown.

Each test uses its own bridge, chain prefix, netns and subnets (see conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydocker.engine.errors import Conflict, SystemFailure
from pydocker.network.manager import NetworkManager

from tests.network.conftest import Names, Upstream, free_subnet, ns_name, sh, snapshot

pytestmark = pytest.mark.root

CID1, CID2, CID3 = "a1" * 32, "b2" * 32, "c3" * 32


def ping(src_ns: str, ip: str) -> bool:
    return sh(f"ip netns exec {ns_name(src_ns)} busybox ping -c1 -W1 {ip}",
              check=False).returncode == 0


async def aping(src_ns: str, ip: str) -> bool:
    return await asyncio.to_thread(ping, src_ns, ip)


async def wget(src_ns: str | None, url: str) -> str:
    prefix = f"ip netns exec {ns_name(src_ns)} " if src_ns else ""
    proc = await asyncio.to_thread(sh, f"{prefix}curl -sS --max-time 3 {url}", False)
    return proc.stdout if proc.returncode == 0 else f"<failed: {proc.stderr.strip()}>"


@contextlib.contextmanager
def httpd(ns: str, root: Path, body: str, port: int = 80) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(body)
    proc = subprocess.Popen(["ip", "netns", "exec", ns_name(ns), "busybox", "httpd", "-f",
                             "-p", str(port), "-h", str(root)])
    try:
        for _ in range(50):  # wait until it listens
            if f":{port} " in sh(f"ip netns exec {ns_name(ns)} ss -ltnH", check=False).stdout:
                break
            time.sleep(0.02)
        yield
    finally:
        proc.kill()
        proc.wait()


PEER_SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(5); print("ready", flush=True)
s.settimeout(10)
c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()
"""


def peer_server(ns: str, port: int) -> subprocess.Popen[str]:
    """A one-shot TCP server in ``ns`` that answers with the peer address it sees."""
    proc = subprocess.Popen(["ip", "netns", "exec", ns_name(ns), sys.executable, "-c",
                             PEER_SERVER, str(port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


async def test_two_containers_on_the_default_bridge_reach_each_other(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str]) -> None:
    mgr = manager_factory()
    await mgr.start()
    ns1, ns2 = netns(), netns()
    e1 = await mgr.connect("bridge", CID1, ns1, name="/one")
    e2 = await mgr.connect("bridge", CID2, ns2, name="/two")
    assert e1.ip != e2.ip and e1.gateway == e2.gateway
    assert e1.mac == "02:42:" + ":".join(f"{int(b):02x}" for b in e1.ip.split("."))
    assert await aping(ns1, e2.ip) and await aping(ns2, e1.ip)
    assert await aping(ns1, e1.gateway)
    inside = sh(f"ip -n {ns_name(ns1)} -o addr show eth0").stdout
    assert f"{e1.ip}/{e1.prefixlen}" in inside
    assert f"default via {e1.gateway}" in sh(f"ip -n {ns_name(ns1)} route").stdout
    assert e1.mac in sh(f"ip -n {ns_name(ns1)} link show eth0").stdout
    info = await mgr.get_network("bridge")
    assert set(info["Containers"]) == {CID1, CID2}
    assert info["Containers"][CID1]["IPv4Address"] == f"{e1.ip}/{e1.prefixlen}"
    await mgr.disconnect("bridge", CID2)
    assert "eth0" not in sh(f"ip -n {ns_name(ns2)} -o link").stdout
    assert e2.host_veth not in sh("ip -o link").stdout
    assert not await aping(ns1, e2.ip)


async def test_outbound_traffic_is_masqueraded(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        upstream: Upstream) -> None:
    mgr = manager_factory()
    await mgr.start()
    ns = netns()
    ep = await mgr.connect("bridge", CID1, ns)
    server = await asyncio.to_thread(peer_server, upstream.netns, 7777)
    try:
        seen = await asyncio.to_thread(
            sh, f"ip netns exec {ns_name(ns)} busybox nc {upstream.ip} 7777 </dev/null")
        assert seen.stdout == upstream.host_ip  # the host's address, not the container's
        assert seen.stdout != ep.ip
    finally:
        server.kill()
        server.wait()


async def test_networks_are_isolated_and_internal_has_no_outbound(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        upstream: Upstream) -> None:
    mgr = manager_factory()
    await mgr.start()
    user = await mgr.create_network("u1", ipam={"Config": [{"Subnet": free_subnet()}]})
    internal = await mgr.create_network("i1", internal=True,
                                        ipam={"Config": [{"Subnet": free_subnet()}]})
    ns_a, ns_b, ns_c, ns_d = netns(), netns(), netns(), netns()
    a = await mgr.connect("bridge", CID1, ns_a)
    b = await mgr.connect(user["Id"], CID2, ns_b)
    c = await mgr.connect("i1", CID3, ns_c)
    d = await mgr.connect("u1", "d4" * 32, ns_d)
    assert await aping(ns_b, d.ip)  # same network
    assert await aping(ns_a, upstream.ip) and await aping(ns_b, upstream.ip)
    assert not await aping(ns_a, b.ip) and not await aping(ns_b, a.ip)
    assert not await aping(ns_c, a.ip) and not await aping(ns_a, c.ip)
    assert not await aping(ns_c, upstream.ip)
    assert "default" not in sh(f"ip -n {ns_name(ns_c)} route").stdout
    assert internal["Internal"] is True


async def test_published_port_from_other_netns_host_address_and_loopback(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        upstream: Upstream, tmp_path: Path) -> None:
    mgr = manager_factory(userland_proxy=False)  # DNAT only: the proxy cannot mask a miss
    await mgr.start()
    ns = netns()
    ep = await mgr.connect("bridge", CID1, ns, ports=["0:80", f"{upstream.host_ip}:0:80"])
    wild, wild6, bound = ep.ports  # no host address: held on [::] too, as dockerd does
    assert 32768 <= wild.host_port <= 60999 and bound.host_ip == upstream.host_ip
    assert (wild6.host_ip, wild6.host_port) == ("::", wild.host_port)
    with httpd(ns, tmp_path / "www", "hello from the container\n"):
        url = f"http://{upstream.host_ip}:{wild.host_port}/"
        assert await wget(upstream.netns, url) == "hello from the container\n"
        assert await wget(None, f"http://127.0.0.1:{wild.host_port}/") == \
            "hello from the container\n"
        assert await wget(None, f"http://{upstream.host_ip}:{bound.host_port}/") == \
            "hello from the container\n"
        assert await wget(upstream.netns, f"http://{upstream.host_ip}:{bound.host_port}/") == \
            "hello from the container\n"
    assert ep.port_bindings()["80/tcp"][0]["HostPort"] == str(wild.host_port)
    listening = sh("ss -ltnH").stdout
    assert f"0.0.0.0:{wild.host_port} " in listening  # held like docker-proxy does
    assert f"[::]:{wild.host_port} " in listening
    await mgr.disconnect("bridge", CID1)
    assert f":{wild.host_port} " not in sh("ss -ltnH").stdout
    assert f"--dport {wild.host_port}" not in sh("iptables-save -t nat").stdout


async def test_userland_proxy_serves_hairpin_traffic(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        upstream: Upstream, tmp_path: Path) -> None:
    mgr = manager_factory()
    await mgr.start()
    ns1, ns2 = netns(), netns()
    ep = await mgr.connect("bridge", CID1, ns1, ports=["0:80"])
    await mgr.connect("bridge", CID2, ns2)
    with httpd(ns1, tmp_path / "www", "hairpin\n"):
        port = ep.ports[0].host_port
        assert await wget(ns2, f"http://{upstream.host_ip}:{port}/") == "hairpin\n"


async def test_port_conflicts_use_dockers_error(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str]) -> None:
    mgr = manager_factory()
    await mgr.start()
    ns1, ns2 = netns(), netns()
    ep = await mgr.connect("bridge", CID1, ns1, name="/first", ports=["0:80"])
    port = ep.ports[0].host_port
    with pytest.raises(SystemFailure,
                       match=rf"Bind for 0\.0\.0\.0:{port} failed: port is already allocated"):
        await mgr.connect("bridge", CID2, ns2, name="/second", ports=[f"{port}:80"])
    assert CID2 not in (await mgr.get_network("bridge"))["Containers"]
    assert "eth0" not in sh(f"ip -n {ns_name(ns2)} -o link").stdout
    # a port some other program holds
    import socket
    other = socket.socket()
    other.bind(("0.0.0.0", 0))
    other.listen()
    taken = other.getsockname()[1]
    try:
        with pytest.raises(SystemFailure, match=f"0.0.0.0:{taken} failed"):
            await mgr.connect("bridge", CID2, ns2, ports=[f"{taken}:80"])
    finally:
        other.close()
    ep2 = await mgr.connect("bridge", CID2, ns2, ports=["0:80"])  # the IP was released
    assert ep2.ports[0].host_port != port


async def test_teardown_leaves_the_host_exactly_as_before(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        names: Names) -> None:
    ns1, ns2 = netns(), netns()
    before = snapshot()
    mgr = manager_factory()
    await mgr.start()
    await mgr.create_network("t1", ipam={"Config": [{"Subnet": free_subnet()}]})
    await mgr.create_network("t2", internal=True)  # a default-pool subnet
    await mgr.connect("bridge", CID1, ns1, ports=["0:80", "0:53/udp"])
    await mgr.connect("t1", CID1, ns1)
    await mgr.connect("t2", CID2, ns2)
    during = snapshot()
    assert during != before
    await mgr.teardown()
    after = snapshot()
    # Compare line by line: other suites on the machine may add their own interfaces
    # meanwhile; what matters is that everything we added is gone and nothing was lost.
    for key in ("link", "addr"):
        ours = set(_names(during[key])) - set(_names(before[key]))
        assert ours, key
        assert not ours & set(_names(after[key])), (key, ours)
        # Nothing of the host's was lost; test daemons running beside us may remove their
        # own bridges and veths (pyd*, br-*, veth*) meanwhile, which is not our doing.
        kept = {n for n in _names(before[key]) if not n.startswith(EPHEMERAL)}
        assert kept <= set(_names(after[key])), key
    for key in ("iptables", "ip6tables"):
        # Every rule and chain naming us is gone, and none of the rest was lost (engines
        # running beside us add and remove their own meanwhile: not compared).
        assert names.prefix in during[key], key
        assert names.prefix not in after[key], key
        kept = {ln for ln in before[key].splitlines() if "PYDT" not in ln and "pydt" not in ln}
        assert kept <= set(after[key].splitlines()), key


EPHEMERAL = ("pyd", "br-", "veth")


def _names(text: str) -> list[str]:
    """Interface names of `ip -o link` / `ip -o addr` lines (indexes may not be stable)."""
    return [line.split(":")[1].split("@")[0].strip() if ": " in line else line
            for line in text.splitlines() if line.strip()]


async def test_allocations_survive_a_restart(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        upstream: Upstream, tmp_path: Path) -> None:
    mgr = manager_factory(userland_proxy=False)
    await mgr.start()
    net = await mgr.create_network("keep", ipam={"Config": [{"Subnet": free_subnet()}]},
                                   labels={"k": "v"})
    ns1, ns2, ns3 = netns(), netns(), netns()
    e1 = await mgr.connect("bridge", CID1, ns1, ports=["0:80"])
    e2 = await mgr.connect("keep", CID2, ns2)
    e3 = await mgr.connect("keep", CID3, ns3)
    await mgr.disconnect("keep", CID3)
    sh(f"ip netns del {ns_name(ns3)}")
    await mgr.shutdown(keep_live=True)
    assert await aping(ns1, e1.gateway)  # live restore: the kernel side stays

    again = manager_factory(userland_proxy=False)
    await again.start()
    info = await again.get_network(net["Id"][:10])
    assert info["Labels"] == {"k": "v"} and set(info["Containers"]) == {CID2}
    assert info["Containers"][CID2]["IPv4Address"] == f"{e2.ip}/{e2.prefixlen}"
    assert again.endpoints_of(CID1)["bridge"].ports == e1.ports
    ns4 = netns()
    e4 = await again.connect("keep", "d4" * 32, ns4)
    assert e4.ip == e3.ip  # released before the restart, so free again; e2's is not reused
    e5 = await again.connect("bridge", "e5" * 32, netns())
    assert e5.ip not in (e1.ip,)
    with httpd(ns1, tmp_path / "www", "still here\n"):
        url = f"http://{upstream.host_ip}:{e1.ports[0].host_port}/"
        assert await wget(upstream.netns, url) == "still here\n"
    # a container that died while the daemon was down is forgotten on the next start
    await again.shutdown(keep_live=True)
    sh(f"ip netns del {ns_name(ns2)}")
    third = manager_factory(userland_proxy=False)
    await third.start()
    assert (await third.get_network("keep"))["Containers"].keys() == {"d4" * 32}


async def test_a_stopped_manager_refuses_a_second_teardown(
        manager_factory: Callable[..., NetworkManager]) -> None:
    mgr = manager_factory()
    await mgr.start()
    await mgr.teardown()
    with pytest.raises(Conflict, match=r"^network manager already stopped \(teardown\)$"):
        await mgr.teardown()
