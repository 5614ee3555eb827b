"""Published ports: parsing, host-port allocation, and the sockets that hold them.

Traffic reaches the container through DNAT (iptables.port_rules), from other hosts and
namespaces via PREROUTING and from the host itself (also on 127.0.0.1) via OUTPUT. Like
docker-proxy we also *hold* each host port with a real socket: other programs see the port
as taken (``ss -ltn`` lists it, a second bind fails), and, as docker-proxy, it proxies to
the container what DNAT does not catch: a container reaching its own network's published
port through the host address, and a [::] binding of a container without IPv6 (no
ip6tables DNAT: docker-proxy forwards it to the IPv4 address). TCP connections are
piped; UDP datagrams are relayed per client (udpproxy.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import socket
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from pydocker.engine.errors import InvalidParameter
from pydocker.network.udpproxy import UdpRelay

EPHEMERAL = (32768, 60999)  # Docker's default port range (/proc/sys/net/ipv4/ip_local_port_range)


class PortAllocated(Exception):
    """The host port is taken; ``str()`` is Docker's wording."""

    def __init__(self, host_ip: str, port: int) -> None:
        super().__init__(f"Bind for {host_ip or '0.0.0.0'}:{port} failed: port is already allocated")


@dataclass(frozen=True)
class PortSpec:
    """What the user asked for: container port, protocol, host ip, host port range."""

    container_port: int
    proto: str = "tcp"
    host_ip: str = ""
    host_port_start: int = 0  # 0: an ephemeral port
    host_port_end: int = 0


@dataclass(frozen=True)
class PortMapping:
    """What was bound: Docker's PortBinding plus the container side."""

    container_port: int
    proto: str
    host_ip: str
    host_port: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortMapping:
        return cls(int(data["container_port"]), data["proto"], data["host_ip"],
                   int(data["host_port"]))


def _range(text: str, what: str) -> tuple[int, int]:
    try:
        lo, _, hi = text.partition("-")
        start, end = int(lo), int(hi or lo)
    except ValueError as exc:
        raise InvalidParameter(f"invalid {what}: {text}") from exc
    if not (0 < start <= end <= 65535) and not (start == end == 0):
        raise InvalidParameter(f"invalid {what}: {text}")
    return start, end


def parse_publish(text: str) -> list[PortSpec]:
    """``docker run -p`` syntax: [[ip:]hostport[-end]:]cport[-end][/proto]."""
    body, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidParameter(f"invalid proto: {proto}")
    host_ip, host, cont = "", "", body
    if body.count(":") >= 2:
        host_ip, host, cont = body.rsplit(":", 2)
        host_ip = host_ip.strip("[]")
    elif ":" in body:
        host, cont = body.split(":")
    c_start, c_end = _range(cont, "containerPort")
    h_start, h_end = _range(host, "hostPort") if host else (0, 0)
    count = c_end - c_start + 1
    if h_start and (h_end - h_start + 1) != count and count != 1:
        raise InvalidParameter(f"invalid ranges specified for container and host Ports: {text}")
    if count == 1:
        return [PortSpec(c_start, proto, host_ip, h_start, h_end)]
    return [PortSpec(c_start + i, proto, host_ip, h_start + i if h_start else 0,
                     h_start + i if h_start else 0) for i in range(count)]


def from_port_bindings(bindings: dict[str, list[dict[str, str]] | None]) -> list[PortSpec]:
    """HostConfig.PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}."""
    specs: list[PortSpec] = []
    for key, entries in bindings.items():
        port, _, proto = key.partition("/")
        for entry in entries or [{}]:
            host = entry.get("HostPort") or ""
            h_start, h_end = _range(host, "hostPort") if host else (0, 0)
            specs.append(PortSpec(int(port), proto or "tcp", entry.get("HostIp") or "",
                                  h_start, h_end))
    return specs


def _wildcard(host_ip: str) -> str:
    """The any-address of ``host_ip``'s family ("" is IPv4's, as Docker's default)."""
    return "::" if ":" in host_ip else "0.0.0.0"


@functools.cache
def v6_listenable() -> bool:
    """Whether this host can listen on IPv6 (not booted with ipv6.disable=1): dockerd's
    IsV6Listenable, asked once."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _key(proto: str, host_ip: str, port: int) -> tuple[str, str, int]:
    """How the holder files a bound port: the empty host address is its family's wildcard."""
    return (proto, host_ip or _wildcard(host_ip), port)


def _bind(proto: str, host_ip: str, port: int) -> socket.socket:
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    v6 = ":" in host_ip
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, kind)
    try:
        if v6:  # [::]:port holds IPv6 only, beside 0.0.0.0:port (docker-proxy's tcp6)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host_ip or _wildcard(host_ip), port))
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Proxy(Protocol):
    def close(self) -> None: ...


class PortHolder:
    """Owns the host-port sockets (and their TCP and UDP proxies) for every published
    port."""

    def __init__(self, *, proxy: bool = True) -> None:
        self._proxy = proxy
        self._socks: dict[tuple[str, str, int], socket.socket] = {}
        self._servers: dict[tuple[str, str, int], _Proxy] = {}
        self._next = EPHEMERAL[0]

    def _taken(self, proto: str, host_ip: str, port: int) -> bool:
        wild = _wildcard(host_ip)
        ip = host_ip or wild
        return any(p == proto and q == port and _wildcard(h) == wild and
                   (ip == wild or h in (ip, wild)) for (p, h, q) in self._socks)

    def _try(self, proto: str, host_ip: str, port: int) -> socket.socket | None:
        if self._taken(proto, host_ip, port):
            return None
        try:
            return _bind(proto, host_ip, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return None
            raise

    def _candidates(self, spec: PortSpec) -> Iterator[int]:
        if spec.host_port_start:
            yield from range(spec.host_port_start, (spec.host_port_end or
                                                    spec.host_port_start) + 1)
            return
        lo, hi = EPHEMERAL
        span = hi - lo + 1
        for i in range(span):
            yield lo + (self._next - lo + i) % span

    def reserve(self, spec: PortSpec) -> PortMapping:
        """Bind a host port for ``spec``; raise PortAllocated if none is free."""
        for port in self._candidates(spec):
            sock = self._try(spec.proto, spec.host_ip, port)
            if sock is not None:
                self._socks[_key(spec.proto, spec.host_ip, port)] = sock
                if not spec.host_port_start:
                    self._next = port + 1
                return PortMapping(spec.container_port, spec.proto, spec.host_ip, port)
        raise PortAllocated(spec.host_ip, spec.host_port_start)

    def reserve_all(self, spec: PortSpec) -> list[PortMapping]:
        """dockerd's bindings for one request: ``spec``'s own and, when it names no host
        address and the host speaks IPv6, the same host port on [::] as well (``docker ps``
        shows ``0.0.0.0:8080->80/tcp, [::]:8080->80/tcp``). All or none."""
        first = self.reserve(spec)
        if spec.host_ip or not v6_listenable():
            return [first]
        twin = PortSpec(spec.container_port, spec.proto, "::", first.host_port, first.host_port)
        try:
            return [first, self.reserve(twin)]
        except PortAllocated:
            if not spec.host_port_start:  # an ephemeral port: the twin may take another
                with contextlib.suppress(PortAllocated):
                    return [first, self.reserve(PortSpec(spec.container_port, spec.proto, "::"))]
            sock = self._socks.pop(_key(first.proto, first.host_ip, first.host_port))
            sock.close()
            raise

    def adopt(self, mapping: PortMapping) -> None:
        """Re-take a persisted mapping after a restart (best effort: keep going if taken)."""
        key = _key(mapping.proto, mapping.host_ip, mapping.host_port)
        if key not in self._socks:
            with contextlib.suppress(OSError):
                self._socks[key] = _bind(mapping.proto, mapping.host_ip, mapping.host_port)

    async def serve(self, mapping: PortMapping, container_ip: str) -> None:
        """Proxy TCP connections and UDP datagrams that reach the held socket to the
        container (sctp has no proxy here)."""
        key = _key(mapping.proto, mapping.host_ip, mapping.host_port)
        sock = self._socks.get(key)
        if not self._proxy or sock is None or key in self._servers:
            return
        target = (container_ip, mapping.container_port)
        if mapping.proto == "tcp":
            self._servers[key] = await asyncio.start_server(
                lambda r, w: _pipe_to(target, r, w), sock=sock)
        elif mapping.proto == "udp":
            self._servers[key] = await UdpRelay.start(sock, target)

    async def release(self, mappings: Iterable[PortMapping]) -> None:
        for m in mappings:
            key = _key(m.proto, m.host_ip, m.host_port)
            server = self._servers.pop(key, None)
            if server is not None:
                server.close()  # closes the held socket too
            sock = self._socks.pop(key, None)
            if sock is not None:
                sock.close()

    async def close(self) -> None:
        await self.release([PortMapping(0, p, h, q) for (p, h, q) in list(self._socks)])


async def _pipe_to(target: tuple[str, int], reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> None:
    try:
        up_r, up_w = await asyncio.open_connection(*target)
    except OSError:
        writer.close()
        return

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()
        except OSError:
            pass

    await asyncio.gather(pump(reader, up_w), pump(up_r, writer))
    writer.close()
    up_w.close()
