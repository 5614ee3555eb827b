"""Docker's stream formats: the 8-byte multiplexed frame and newline-delimited JSON progress."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, BinaryIO, cast

from aiohttp import web
from pydocker.engine.errors import EngineError, os_error_text

from . import backpressure
from .backend import JSON, ArchiveStart, JSONStream, TarWriter

log = logging.getLogger(__name__)

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


def go_json(obj: dict[str, Any]) -> bytes:
    """JSON as Go's encoding/json writes it: compact, UTF-8, with ``<``, ``>``, ``&``,
    U+2028 and U+2029 escaped (dockerd's progress bars read ``[==\\u003e  ]``)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text.encode(errors="replace")


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
        await self._response.write(go_json(obj) + b"\r\n")

    async def error(self, message: str) -> None:
        await self.write({"errorDetail": {"message": message}, "error": message})

    async def finish(self) -> web.StreamResponse:
        if self._response is None:
            self._response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await self._response.prepare(self._request)
        await self._response.write_eof()
        return self._response


async def json_progress(request: web.Request, items: JSONStream, *,
                        always_in_band: bool = False) -> web.StreamResponse:
    """Relay a progress stream (load, import) as a JsonStream.

    An engine error before the first object is a proper HTTP error; after it, in-band.
    ``always_in_band``: a 200 whatever happens, the error in the stream (dockerd's load).
    """
    out = JsonStream(request)
    async with contextlib.aclosing(items):
        try:
            async for obj in items:
                await out.write(obj)
        except (EngineError, OSError) as exc:
            if not out.started and not always_in_band:
                raise
            await out.error(os_error_text(exc) if isinstance(exc, OSError) else str(exc))
    return await out.finish()


async def json_lines(request: web.Request, items: JSONStream
                     ) -> web.StreamResponse:
    """A 200 of one JSON object per ``\\n`` line (events, stats) until ``items`` ends or
    the client goes. The headers go out first: ``docker events`` waits for them."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    backpressure.bound(request)
    await response.prepare(request)
    async with contextlib.aclosing(items):
        try:
            async for obj in items:
                await backpressure.write(response, json.dumps(obj).encode() + b"\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client went away: nothing left to tell it
    return response


class BodyReader(io.RawIOBase):
    """A request body as a blocking file object, for code running in a worker thread.

    Large uploads (image imports, loads, archives) stream through without being spooled.
    A task on the event loop reads ahead (up to ``READ_AHEAD`` chunks of ``CHUNK``), so
    the worker finds the next chunk waiting instead of waiting for the network on each
    read. Use it through ``request_body``, which stops that task with the handler.
    """

    CHUNK = 1 << 20
    READ_AHEAD = 8

    def __init__(self, request: web.Request, loop: asyncio.AbstractEventLoop) -> None:
        self._content = request.content
        self._loop = loop
        self._chunks: asyncio.Queue[bytes | BaseException] = asyncio.Queue(self.READ_AHEAD)
        self._filler = loop.create_task(self._fill())
        self._left = b""
        self._eof = False

    async def _fill(self) -> None:
        try:
            while chunk := await self._gather(self.CHUNK):
                await self._chunks.put(chunk)
            await self._chunks.put(b"")
        except Exception as exc:  # noqa: BLE001 - whatever ended the body, the reader raises it
            await self._chunks.put(exc)

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

    def _next_chunk(self) -> bytes:
        item = asyncio.run_coroutine_threadsafe(self._chunks.get(), self._loop).result()
        if isinstance(item, BaseException):
            self._eof = True  # nothing more will come
            raise item
        return item

    def read(self, n: int = -1) -> bytes:
        if not self._left and not self._eof:
            self._left = self._next_chunk()
            self._eof = not self._left
        size = len(self._left) if n is None or n < 0 else n
        data, self._left = self._left[:size], self._left[size:]
        return data

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

    async def stop(self) -> None:
        self._filler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._filler


@contextlib.asynccontextmanager
async def request_body(request: web.Request) -> AsyncIterator[BinaryIO]:
    """The body as a buffered blocking file object for a worker thread (see BodyReader)."""
    reader = BodyReader(request, asyncio.get_running_loop())
    try:
        yield io.BufferedReader(reader, BodyReader.CHUNK)
    finally:
        await reader.stop()


class ResponseWriter:
    """A streaming response as a blocking file object, for a worker thread (save/export)."""

    def __init__(self, response: web.StreamResponse, loop: asyncio.AbstractEventLoop) -> None:
        self._response = response
        self._loop = loop
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        self._buf += data
        if len(self._buf) >= 1 << 20:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buf:
            chunk = bytes(self._buf)
            self._buf.clear()
            asyncio.run_coroutine_threadsafe(self._response.write(chunk), self._loop).result()

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.flush()


async def stream_tar(request: web.Request, produce: TarWriter, what: str) -> web.StreamResponse:
    """Answer with the tar ``produce(writer)`` writes (save, export).

    The 200 is sent first; a failure after that cuts the connection so the client sees a
    short stream, never an error body spliced into the tar.
    """
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})
    await response.prepare(request)
    writer = ResponseWriter(response, asyncio.get_running_loop())
    try:
        await produce(cast(BinaryIO, writer))
        await asyncio.to_thread(writer.flush)
    except Exception:
        log.exception("%s failed", what)
        if request.transport is not None:
            request.transport.abort()
        return response
    await response.write_eof()
    return response


def stat_header(info: JSON) -> str:
    """The X-Docker-Container-Path-Stat value: base64 of the stat JSON."""
    return base64.b64encode(json.dumps(info).encode()).decode()


async def stream_archive(request: web.Request,
                         fetch: Callable[[ArchiveStart, BinaryIO], Awaitable[None]]
                         ) -> web.StreamResponse:
    """GET .../archive: ``fetch(start, out)`` calls ``start(stat)`` once the path exists,
    which sends the headers (with the stat), then writes the tar to ``out``."""
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})

    async def start(info: JSON) -> None:
        response.headers["X-Docker-Container-Path-Stat"] = stat_header(info)
        await response.prepare(request)

    writer = ResponseWriter(response, asyncio.get_running_loop())
    await fetch(start, cast(BinaryIO, writer))
    await asyncio.to_thread(writer.flush)
    await response.write_eof()
    return response
