"""Embedded DNS for user-defined networks: 127.0.0.11:53 inside each container's netns.

Docker binds its resolver in the container namespace on a random port and DNATs 127.0.0.11:53
to it. We are root and bind 127.0.0.11:53 directly (127/8 is local once lo is up), so no
iptables rule is needed inside the container. The sockets are created in the container's
namespace by a setns thread (netlink.ns_socket) and then served by the daemon's own asyncio
loop: no fork, no per-container process.

Names answered locally: container name, aliases, short id, and ``name.network``, for every
endpoint on a user-defined network the asking container shares. Everything else is relayed
to the host's resolvers (read from /etc/resolv.conf at start); the relay socket lives in the
host namespace, so loopback upstreams such as 127.0.0.53 work too.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from pydocker.network.netlink import ns_socket

DNS_IP = "127.0.0.11"
TYPE_A = 1
RCODE_NXDOMAIN = 3
RCODE_SERVFAIL = 2
TTL = 600

# Given (asking container id, lowercase name) -> IPs on shared networks; None: not ours.
Resolver = Callable[[str, str], list[str] | None]


def host_upstreams(resolv_conf: Path = Path("/etc/resolv.conf")) -> list[tuple[str, int]]:
    servers: list[tuple[str, int]] = []
    with contextlib.suppress(OSError):
        for line in resolv_conf.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and ":" not in parts[1]:
                servers.append((parts[1], 53))
    return servers


@dataclass(frozen=True)
class Question:
    name: str  # lowercase, without the trailing dot
    qtype: int
    qclass: int
    end: int  # offset just past the question in the message


def parse_question(msg: bytes) -> Question:
    """The first question of a query (the only one resolvers send)."""
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] < 1:
        raise ValueError("no question")
    labels, pos = [], 12
    while True:
        length = msg[pos]
        if length == 0:
            pos += 1
            break
        if length & 0xC0:
            raise ValueError("compressed question name")
        labels.append(msg[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    qtype, qclass = struct.unpack("!HH", msg[pos:pos + 4])
    return Question(".".join(labels).lower(), qtype, qclass, pos + 4)


def build_answer(query: bytes, q: Question, ips: Sequence[str], rcode: int = 0) -> bytes:
    """A response echoing the question, with one A record per ip (name via pointer 0xC00C)."""
    qid, flags = struct.unpack("!HH", query[:4])
    rd = flags & 0x0100
    answers = b"".join(
        struct.pack("!HHHIH", 0xC00C, TYPE_A, 1, TTL, 4) + IPv4Address(ip).packed
        for ip in ips)
    header = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080 | rcode, 1,
                         len(ips), 0, 0)
    return header + query[12:q.end] + answers


class ContainerDNS:
    """The UDP and TCP listeners of one container."""

    def __init__(self, transport: asyncio.DatagramTransport, server: asyncio.Server) -> None:
        self.transport = transport
        self.server = server

    def close(self) -> None:
        self.transport.close()
        self.server.close()


class EmbeddedDNS:
    """One resolver per container namespace, all served from the daemon's event loop."""

    def __init__(self, resolve: Resolver, upstreams: Sequence[tuple[str, int]] | None = None,
                 timeout: float = 3.0) -> None:
        self._resolve = resolve
        self.upstreams = list(host_upstreams() if upstreams is None else upstreams)
        self._timeout = timeout
        self._servers: dict[str, ContainerDNS] = {}

    def serving(self, container_id: str) -> bool:
        return container_id in self._servers

    async def start(self, container_id: str, netns_path: str) -> None:
        """Bind 127.0.0.11:53 (udp+tcp) in the container's namespace; idempotent."""
        if container_id in self._servers:
            return
        udp = ns_socket(netns_path, socket.AF_INET, socket.SOCK_DGRAM)
        tcp = ns_socket(netns_path, socket.AF_INET, socket.SOCK_STREAM)
        try:
            for sock in (udp, tcp):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((DNS_IP, 53))
                sock.setblocking(False)
            tcp.listen(32)
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UDP(self, container_id), sock=udp)
            server = await asyncio.start_server(
                lambda r, w: self._serve_tcp(container_id, r, w), sock=tcp)
        except BaseException:
            udp.close()
            tcp.close()
            raise
        self._servers[container_id] = ContainerDNS(transport, server)

    def stop(self, container_id: str) -> None:
        server = self._servers.pop(container_id, None)
        if server is not None:
            server.close()

    def close(self) -> None:
        for cid in list(self._servers):
            self.stop(cid)

    async def answer(self, container_id: str, query: bytes) -> bytes | None:
        try:
            q = parse_question(query)
        except (ValueError, IndexError, struct.error):
            return None
        ips = self._resolve(container_id, q.name)
        if ips is not None:
            return build_answer(query, q, ips if q.qtype == TYPE_A else [])
        if "." not in q.name or not self.upstreams:
            # Docker does not forward single-label names it does not know
            return build_answer(query, q, [], RCODE_NXDOMAIN if "." not in q.name
                                else RCODE_SERVFAIL)
        reply = await self._forward(query)
        return reply if reply is not None else build_answer(query, q, [], RCODE_SERVFAIL)

    async def _forward(self, query: bytes) -> bytes | None:
        loop = asyncio.get_running_loop()
        for host, port in self.upstreams:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, (host, port))
                await loop.sock_sendall(sock, query)
                reply = await asyncio.wait_for(loop.sock_recv(sock, 65535), self._timeout)
                if reply[:2] == query[:2]:
                    return reply
            except (TimeoutError, OSError):
                continue
            finally:
                sock.close()
        return None

    async def _serve_tcp(self, container_id: str, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                reply = await self.answer(container_id, await reader.readexactly(size))
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, dns: EmbeddedDNS, container_id: str) -> None:
        self.dns = dns
        self.container_id = container_id
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.ensure_future(self._reply(data, addr))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = await self.dns.answer(self.container_id, data)
        if reply is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)
