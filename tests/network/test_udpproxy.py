"""The UDP relay of published ports, over real loopback sockets: each client's datagrams
reach the target and its answers come back to that client alone; release closes all."""

from __future__ import annotations

import asyncio
import socket

from pydocker.network.udpproxy import UdpRelay


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(b"echo:" + data, addr)  # type: ignore[attr-defined]


async def _ask(port: int, data: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        await loop.sock_sendto(s, data, ("127.0.0.1", port))
        return await asyncio.wait_for(loop.sock_recv(s, 70000), 10)


async def test_each_client_gets_its_own_answers_until_the_relay_closes() -> None:
    loop = asyncio.get_running_loop()
    echo, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
    held = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    held.bind(("127.0.0.1", 0))
    held.setblocking(False)
    relay = await UdpRelay.start(held, echo.get_extra_info("sockname"))
    try:
        port = held.getsockname()[1]
        answers = await asyncio.gather(*(_ask(port, b"client %d" % i) for i in range(5)))
        assert answers == [b"echo:client %d" % i for i in range(5)]
        assert len(relay.flows) == 5  # one socket towards the target per client
    finally:
        relay.close()
        echo.close()
    assert relay.flows == {} and relay.transport is not None and relay.transport.is_closing()
