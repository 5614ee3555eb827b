"""Embedded DNS at 127.0.0.11 in containers on user-defined networks (real netns)."""

from __future__ import annotations

import asyncio
import struct
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from pydocker.network.dns import build_answer, parse_question
from pydocker.network.manager import NetworkManager

from tests.network.conftest import free_subnet, ns_name, sh

pytestmark = pytest.mark.root

WEB, DB, OTHER, PLAIN = "a1" * 32, "b2" * 32, "c3" * 32, "d4" * 32

CLIENT = r"""
import socket, struct, sys
name, tcp = sys.argv[1], sys.argv[2] == "tcp"
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
q += struct.pack("!HH", 1, 1)
if tcp:
    s = socket.create_connection(("127.0.0.11", 53), timeout=1)
    s.sendall(struct.pack("!H", len(q)) + q)
    r = s.recv(2); r = s.recv(struct.unpack("!H", r)[0])
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    s.sendto(q, ("127.0.0.11", 53)); r = s.recv(4096)
rcode, an = struct.unpack("!H", r[2:4])[0] & 0xF, struct.unpack("!H", r[6:8])[0]
ips, pos = [], len(q)
for _ in range(an):
    rdlen = struct.unpack("!H", r[pos + 10:pos + 12])[0]
    ips.append(socket.inet_ntoa(r[pos + 12:pos + 12 + rdlen])); pos += 12 + rdlen
print(rcode, " ".join(ips))
"""


async def lookup(ns: str, name: str, tcp: bool = False) -> str:
    proc = await asyncio.to_thread(
        sh, f"ip netns exec {ns_name(ns)} {sys.executable} -c '{CLIENT}' {name} "
            f"{'tcp' if tcp else 'udp'}", False)
    return proc.stdout.strip() or f"<failed: {proc.stderr.strip()[-200:]}>"


@pytest.fixture
async def fake_upstream() -> AsyncIterator[int]:
    """A resolver on 127.0.0.1 (host netns) that knows only example.test."""

    class Proto(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            q = parse_question(data)
            ips = ["192.0.2.99"] if q.name == "example.test" else []
            self.transport.sendto(build_answer(data, q, ips, 0 if ips else 3), addr)  # type: ignore[attr-defined]

    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        Proto, local_addr=("127.0.0.1", 0))
    yield transport.get_extra_info("sockname")[1]
    transport.close()


async def test_names_aliases_and_forwarding(
        manager_factory: Callable[..., NetworkManager], netns: Callable[[], str],
        fake_upstream: int) -> None:
    mgr = manager_factory(dns_upstreams=[("127.0.0.1", fake_upstream)])
    await mgr.start()
    await mgr.create_network("app", ipam={"Config": [{"Subnet": free_subnet()}]})
    await mgr.create_network("elsewhere", ipam={"Config": [{"Subnet": free_subnet()}]})
    ns_web, ns_db, ns_other, ns_plain = netns(), netns(), netns(), netns()
    await mgr.connect("app", WEB, ns_web, name="/web")
    db = await mgr.connect("app", DB, ns_db, name="/db", aliases=["database"])
    await mgr.connect("elsewhere", OTHER, ns_other, name="/other")
    await mgr.connect("bridge", PLAIN, ns_plain, name="/plain")

    for name in ("db", "DB", "database", DB[:12], "db.app"):
        assert await lookup(ns_web, name) == f"0 {db.ip}", name
    assert await lookup(ns_web, "db", tcp=True) == f"0 {db.ip}"
    assert await lookup(ns_web, "nosuch") == "3"  # NXDOMAIN, not forwarded
    assert await lookup(ns_web, "example.test") == "0 192.0.2.99"  # relayed upstream
    assert await lookup(ns_web, "missing.test") == "3"
    assert await lookup(ns_other, "db") == "3"  # not on a shared network
    assert (await lookup(ns_plain, "db")).startswith("<failed")  # default bridge: no DNS
    out = (await asyncio.to_thread(
        sh, f"ip netns exec {ns_name(ns_web)} busybox nslookup database 127.0.0.11",
        False)).stdout
    assert db.ip in out

    await mgr.shutdown(keep_live=True)  # a restarted daemon serves the live containers again
    mgr = manager_factory(dns_upstreams=[("127.0.0.1", fake_upstream)])
    await mgr.start()
    assert await lookup(ns_web, "database") == f"0 {db.ip}"

    await mgr.disconnect("app", DB)
    assert await lookup(ns_web, "db") == "3"
    await mgr.disconnect("app", WEB)
    assert (await lookup(ns_web, "db")).startswith("<failed")  # server gone with the endpoint


def test_answer_wire_format() -> None:
    q = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"\x02db\x00" + struct.pack("!HH", 1, 1)
    r = build_answer(q, parse_question(q), ["10.0.0.5"])
    assert struct.unpack("!HHHHHH", r[:12]) == (7, 0x8580, 1, 1, 0, 0)
    assert r.endswith(bytes([10, 0, 0, 5]))
