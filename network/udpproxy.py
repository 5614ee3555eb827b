"""docker-proxy's UDP half: datagrams that reach a published port's held socket are
relayed to the container, and the container's answers back to whoever sent them.

Each client address gets a socket of its own towards the container (so answers find
their way back), dropped after 90 s without traffic (docker-proxy's
UDPConnTrackTimeout); the held socket itself stays until the port is released.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

from pydocker.engine import tasks

IDLE_S = 90.0  # docker-proxy's UDPConnTrackTimeout
Address = tuple[Any, ...]  # (host, port) or, on IPv6, (host, port, flowinfo, scope)


class _Backend(asyncio.DatagramProtocol):
    """One client's flow to the container: what the container answers goes back to
    the client through the relay's held socket."""

    def __init__(self, relay: UdpRelay, client: Address) -> None:
        self.relay = relay
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # not a subclass in 3.11

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.touch()
        self.relay.answer(data, self.client)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP unreachable (nothing listens in the container yet): as docker-proxy

    def send(self, data: bytes) -> None:
        self.touch()
        assert self.transport is not None
        self.transport.sendto(data)

    def touch(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.idle = asyncio.get_running_loop().call_later(IDLE_S, self.close)

    def close(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        if self.transport is not None:
            self.transport.close()
        self.relay.flows.pop(self.client, None)


class UdpRelay(asyncio.DatagramProtocol):
    """The held socket's side: one per published UDP port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.flows: dict[Address, _Backend] = {}
        self.pending: dict[Address, list[bytes]] = {}  # datagrams while a flow opens
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def start(cls, sock: socket.socket, target: tuple[str, int]) -> UdpRelay:
        loop = asyncio.get_running_loop()
        _, relay = await loop.create_datagram_endpoint(lambda: cls(target), sock=sock)
        return relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # not a subclass in 3.11

    def datagram_received(self, data: bytes, addr: Address) -> None:
        flow = self.flows.get(addr)
        if flow is not None:
            flow.send(data)
        elif addr in self.pending:
            self.pending[addr].append(data)
        else:
            self.pending[addr] = [data]
            tasks.spawn(self._open(addr), name="udp-proxy-flow")

    async def _open(self, client: Address) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, flow = await loop.create_datagram_endpoint(
                lambda: _Backend(self, client), remote_addr=self.target)
        except OSError:
            self.pending.pop(client, None)  # the container is gone: dropped, as UDP goes
            return
        if self.transport is None or self.transport.is_closing():
            flow.close()
            return
        self.flows[client] = flow
        for data in self.pending.pop(client, []):
            flow.send(data)

    def answer(self, data: bytes, client: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, client)

    def error_received(self, exc: Exception) -> None:
        pass

    def close(self) -> None:
        """Stop relaying: every flow and the held socket closed."""
        for flow in list(self.flows.values()):
            flow.close()
        self.pending.clear()
        if self.transport is not None:
            self.transport.close()
