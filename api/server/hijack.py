"""Taking over an HTTP connection for attach and exec, the way dockerd hijacks it.

With ``Connection: Upgrade`` / ``Upgrade: tcp`` (docker CLI, docker-py) the answer is
``101 UPGRADED``; the Go client refuses anything else. Without it, ``200 OK`` and raw
bytes. Either way the socket then carries raw bytes both ways until we close it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


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
        await self._response.write(data)

    @property
    def closing(self) -> bool:
        transport = self._request.transport
        return transport is None or transport.is_closing()

    async def close(self) -> web.StreamResponse:
        transport = self._request.transport
        if transport is not None and not transport.is_closing():
            transport.close()
        return self._response
