"""Docker's stream formats: the 8-byte multiplexed frame and newline-delimited JSON progress."""

from __future__ import annotations

import json
import struct
from typing import Any

from aiohttp import web

STDIN, STDOUT, STDERR = 0, 1, 2
_HEADER = struct.Struct(">BxxxL")

MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def frame(stream: int, payload: bytes) -> bytes:
    """One multiplexed frame: ``[stream, 0, 0, 0, len(uint32 BE)] + payload``."""
    return _HEADER.pack(stream, len(payload)) + payload


def split_frames(buf: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Whole frames from ``buf`` and the unparsed rest (for tests and the CLI)."""
    out = []
    while len(buf) >= _HEADER.size:
        stream, size = _HEADER.unpack_from(buf)
        if len(buf) < _HEADER.size + size:
            break
        out.append((stream, buf[_HEADER.size:_HEADER.size + size]))
        buf = buf[_HEADER.size + size:]
    return out, buf


def stream_content_type(tty: bool, version: tuple[int, ...]) -> str:
    return MULTIPLEXED if not tty and version >= (1, 42) else RAW


class JsonStream:
    """A chunked ``application/json`` answer of one object per ``\\r\\n``-terminated line.

    Once the first object is written the status is 200 for good; later failures go
    in-band as ``{"errorDetail": {"message": m}, "error": m}`` (moby's streamformatter).
    """

    def __init__(self, request: web.Request) -> None:
        self._request = request
        self._response: web.StreamResponse | None = None

    @property
    def started(self) -> bool:
        return self._response is not None

    async def write(self, obj: dict[str, Any]) -> None:
        if self._response is None:
            self._response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await self._response.prepare(self._request)
        await self._response.write(json.dumps(obj).encode() + b"\r\n")

    async def error(self, message: str) -> None:
        await self.write({"errorDetail": {"message": message}, "error": message})

    async def finish(self) -> web.StreamResponse:
        if self._response is None:
            self._response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await self._response.prepare(self._request)
        await self._response.write_eof()
        return self._response


class BodyReader:
    """A request body as a blocking file object, for code running in a worker thread.

    Large uploads (image imports, loads, archives) stream through without being spooled:
    each ``read`` in the thread waits for the next chunk on the event loop.
    """

    def __init__(self, request: web.Request, loop: Any) -> None:
        self._content = request.content
        self._loop = loop

    def read(self, n: int = -1) -> bytes:
        import asyncio
        size = n if n and n > 0 else 1 << 20
        future = asyncio.run_coroutine_threadsafe(self._gather(size), self._loop)
        return future.result()

    async def _gather(self, size: int) -> bytes:
        """Up to ``size`` bytes in one hop between threads, not one per network read."""
        parts, got = [], 0
        while got < size:
            chunk = await self._content.read(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    @property
    def closed(self) -> bool:
        return False

    def close(self) -> None:
        pass


class ResponseWriter:
    """A streaming response as a blocking file object, for a worker thread (save/export)."""

    def __init__(self, response: web.StreamResponse, loop: Any) -> None:
        self._response = response
        self._loop = loop
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        if len(self._buf) >= 1 << 20:
            self.flush()
        return len(data)

    def flush(self) -> None:
        import asyncio
        if self._buf:
            chunk = bytes(self._buf)
            self._buf.clear()
            asyncio.run_coroutine_threadsafe(self._response.write(chunk), self._loop).result()

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.flush()


async def stream_tar(request: web.Request, produce: Any, what: str) -> web.StreamResponse:
    """Answer with the tar ``produce(writer)`` writes (save, export).

    The 200 is sent first; a failure after that cuts the connection so the client sees a
    short stream, never an error body spliced into the tar.
    """
    import asyncio
    import logging
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})
    await response.prepare(request)
    writer = ResponseWriter(response, asyncio.get_running_loop())
    try:
        await produce(writer)
        await asyncio.to_thread(writer.flush)
    except Exception:  # noqa: BLE001 - the status is sent: cut the stream so it reads short
        logging.getLogger(__name__).exception("%s failed", what)
        if request.transport is not None:
            request.transport.abort()
        return response
    await response.write_eof()
    return response
