"""A layer's tar gzipped as it is uploaded: a worker thread reads the tar and compresses,
the event loop sends what it made, a bounded queue between them (so a slow registry slows
the compressor rather than filling memory). The digest and size are known at the end, when
the upload's closing PUT needs them. Compression is deterministic (no name or time in the
header, Go's default level 6, as dockerd's pusher), so a resent upload makes the same bytes
again. The deflating is zlib-ng's where installed (see ..compression): at the same level
it takes ~40% of zlib's CPU time, for blobs ~2% larger.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import threading
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO

from ..compression import fast_zlib as deflate

CHUNK = 1 << 20
QUEUE_DEPTH = 8
LEVEL = 6  # Go's gzip.DefaultCompression
# RFC 1952 member header as Python's and Go's gzip writers make it at the default level:
# deflate, no flags, mtime 0, no extra flags, OS "unknown".
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"

Opener = Callable[[], tuple[int, BinaryIO]]   # the tar: (size, file object)
Progress = Callable[[int, int], None]        # (tar bytes read, tar size)


class GzipStream:
    def __init__(self, open_tar: Opener, on_progress: Progress | None = None) -> None:
        self._open_tar = open_tar
        self._on_progress = on_progress
        self.digest = ""
        self.size = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        """The compressed bytes, from the start each time it is called."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(QUEUE_DEPTH)
        hasher = hashlib.sha256()
        size = 0

        abandoned = threading.Event()

        def put(item: bytes | BaseException | None) -> None:
            if abandoned.is_set():  # the upload failed or was cancelled: stop compressing
                raise _Abandoned
            asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        worker = loop.run_in_executor(None, self._compress, put, loop)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                hasher.update(item)
                size += len(item)
                yield item
        finally:
            abandoned.set()
            while not worker.done():  # unblock a producer waiting for room; it then stops
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    await asyncio.sleep(0.01)
            if not worker.cancelled():
                worker.exception()  # an abandoned worker's _Abandoned: expected, retrieved
        self.digest, self.size = "sha256:" + hasher.hexdigest(), size

    def _compress(self, put: Callable[[bytes | BaseException | None], None],
                  loop: asyncio.AbstractEventLoop) -> None:
        out = _Chunker(put)
        try:
            total, tar = self._open_tar()
            done = crc = 0
            packer = deflate.compressobj(LEVEL, deflate.DEFLATED, -deflate.MAX_WBITS)
            out.write(GZIP_HEADER)
            with tar:
                while data := tar.read(CHUNK):
                    out.write(packer.compress(data))
                    crc = deflate.crc32(data, crc)
                    done += len(data)
                    if self._on_progress is not None:
                        loop.call_soon_threadsafe(self._on_progress, done, total)
            out.write(packer.flush())
            out.write(struct.pack("<II", crc, done & 0xFFFFFFFF))
            out.flush()
        except BaseException as exc:  # noqa: BLE001 - handed to the reading side
            put(exc)
            return
        put(None)


class _Abandoned(Exception):
    """Raised in the compressing thread once nobody reads what it makes."""


class _Chunker:
    """Collects gzip's small writes into CHUNK-sized pieces for the queue."""

    def __init__(self, put: Callable[[bytes | BaseException | None], None]) -> None:
        self._put = put
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._put(bytes(self._buffer))
            self._buffer.clear()
