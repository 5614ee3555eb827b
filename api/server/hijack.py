"""Taking over an HTTP connection for attach and exec, the way dockerd hijacks it.

With ``Connection: Upgrade`` / ``Upgrade: tcp`` (docker CLI, docker-py) the answer is
``101 UPGRADED``; the Go client refuses anything else. Without it, ``200 OK`` and raw
bytes. Either way the socket then carries raw bytes both ways until we close it.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import socket
import termios
import time
from typing import Any

from aiohttp import web

from . import backpressure

# How long a hijack waits for the client to read the answer's headers (see
# _headers_read) before it lets output flow anyway.
HEADERS_READ_TIMEOUT_S = 2.0


class _RawParser:
    """Stands in for aiohttp's HTTP parser once the connection is ours."""

    def __init__(self, queue: asyncio.Queue[bytes]) -> None:
        self._queue = queue

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._queue.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        self._queue.put_nowait(b"")


class _KeepOpenOnEof(asyncio.Protocol):
    def __init__(self, inner: Any, on_eof: Any) -> None:
        self._inner = inner
        self._on_eof = on_eof

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool:
        self._on_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


async def _headers_read(transport: asyncio.BaseTransport) -> None:
    """Wait until the client has read the answer's headers.

    docker-py reads the headers through a buffered file and then reads the stream from
    the raw socket beneath it: bytes that arrived together with the headers stay in that
    buffer and are lost (an exec's whole output, when the process is quick). dockerd's
    runtime is slow enough to start that output always comes later; ours is not, so
    output waits until the peer has taken the headers off the socket. On a unix stream
    socket the bytes a peer has not read yet are still charged to the sender, which
    TIOCOUTQ (SIOCOUTQ) reports.
    """
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is None or sock.family != socket.AF_UNIX:
        return
    assert isinstance(transport, asyncio.WriteTransport)
    deadline = time.monotonic() + HEADERS_READ_TIMEOUT_S
    unread = array.array("i", [0])
    while time.monotonic() < deadline:
        try:
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, unread)
        except OSError:
            return
        if unread[0] == 0 and transport.get_write_buffer_size() == 0:
            return
        await asyncio.sleep(0.0005)


class Hijacked:
    def __init__(self, request: web.Request, response: web.StreamResponse,
                 queue: asyncio.Queue[bytes]) -> None:
        self._request = request
        self._response = response
        self._queue = queue
        self._eof = False

    @classmethod
    async def take(cls, request: web.Request, content_type: str) -> Hijacked:
        upgrade = "upgrade" in request.headers.get("Connection", "").lower()
        if upgrade:
            response = web.StreamResponse(status=101, reason="UPGRADED", headers={
                "Content-Type": content_type, "Connection": "Upgrade", "Upgrade": "tcp"})
        else:
            response = web.StreamResponse(status=200, headers={"Content-Type": content_type})
            # Raw bytes, not chunks: the connection is a byte pipe from here on.
            response._length_check = False  # noqa: SLF001 - aiohttp has no public switch
        response.force_close()
        backpressure.bound(request)
        await response.prepare(request)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        protocol: Any = request.protocol
        protocol.set_parser(_RawParser(queue))

        transport = request.transport
        if transport is not None:
            # A client half-close (CloseWrite after stdin EOF) must not close our side:
            # output keeps flowing until the process ends. aiohttp's handler lets the
            # transport close on EOF, so a thin wrapper answers "keep open" instead.
            transport.set_protocol(_KeepOpenOnEof(protocol, lambda: queue.put_nowait(b"")))
            await _headers_read(transport)
        return cls(request, response, queue)

    async def read(self) -> bytes:
        """The next chunk from the client; b"" once it has half-closed or gone."""
        if self._eof:
            return b""
        data = await self._queue.get()
        if not data:
            self._eof = True
        return data

    async def write(self, data: bytes) -> None:
        await backpressure.write(self._response, data)

    @property
    def closing(self) -> bool:
        transport = self._request.transport
        return transport is None or transport.is_closing()

    async def close(self) -> web.StreamResponse:
        transport = self._request.transport
        if transport is not None and not transport.is_closing():
            transport.close()
        return self._response
