"""Reading the json-file log the shim writes, with Docker's selection rules.

Each line is ``{"log": ..., "stream": "stdout"|"stderr", "time": RFC3339Nano}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiofiles
from aiofiles.threadpool.binary import AsyncBufferedReader
from pydocker.engine.timeutil import parse_rfc3339_ns

_HEADER = struct.Struct(">BxxxL")
_STREAM = {"stdout": 1, "stderr": 2}
FLUSH_AT = 256 * 1024
POLL_S = 0.05


@dataclass(frozen=True)
class LogOptions:
    stdout: bool = True
    stderr: bool = True
    since_ns: int = 0
    until_ns: int = 0        # 0: no upper bound
    tail: int = -1           # -1: all
    timestamps: bool = False
    follow: bool = False
    tty: bool = False        # raw bytes instead of multiplexed frames


def fixed_width_timestamp(rfc3339: str) -> str:
    """Docker's log prefix: RFC3339 with exactly nine fractional digits."""
    base, _, frac = rfc3339.rstrip("Z").partition(".")
    return f"{base}.{(frac or '0').ljust(9, '0')[:9]}Z"


class _Encoder:
    def __init__(self, opts: LogOptions) -> None:
        self.opts = opts
        self.past_until = False

    def encode(self, line: bytes) -> bytes:
        try:
            entry = json.loads(line)
        except ValueError:
            return b""  # a torn last line while the shim writes it: read it next time
        stream = _STREAM.get(entry.get("stream", ""), 1)
        if (stream == 1 and not self.opts.stdout) or (stream == 2 and not self.opts.stderr):
            return b""
        if self.opts.since_ns or self.opts.until_ns:
            t = parse_rfc3339_ns(entry.get("time", ""))
            if t < self.opts.since_ns:
                return b""
            if self.opts.until_ns and t > self.opts.until_ns:
                self.past_until = True
                return b""
        payload: bytes = entry.get("log", "").encode()
        if self.opts.timestamps:
            payload = fixed_width_timestamp(entry.get("time", "")).encode() + b" " + payload
        if self.opts.tty:
            return payload
        return _HEADER.pack(stream, len(payload)) + payload


class _LogFile:
    """The json-file log, read forward from where the last read stopped.

    It is opened once it exists (a created container has no log yet) and kept open: the
    shim only ever appends to it, for the container's whole life and across restarts.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: AsyncBufferedReader | None = None

    async def _opened(self) -> AsyncBufferedReader | None:
        if self._file is None:
            try:
                self._file = await aiofiles.open(self._path, "rb")
            except FileNotFoundError:
                return None
        return self._file

    async def read(self, limit: int = 4 << 20) -> bytes:
        f = await self._opened()
        return await f.read(limit) if f is not None else b""

    async def tail(self, n: int) -> list[bytes]:
        """The last ``n`` lines; reading goes on just past them."""
        f = await self._opened()
        if f is None:
            return []
        end = pos = await f.seek(0, os.SEEK_END)
        buf = b""
        while pos > 0 and buf.count(b"\n") <= n:
            step = min(1 << 16, pos)
            pos = await f.seek(pos - step)
            buf = await f.read(step) + buf
        await f.seek(end)
        lines = buf.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines[-n:] if n else []

    async def close(self) -> None:
        if self._file is not None:
            await self._file.close()


async def read_logs(path: Path, opts: LogOptions,
                    running: Callable[[], bool]) -> AsyncGenerator[bytes, None]:
    """Chunks ready to send; with ``follow`` it keeps going until the container stops."""
    log = _LogFile(path)
    try:
        async for out in _selected(log, _Encoder(opts), running):
            yield out
    finally:
        await log.close()


async def _selected(log: _LogFile, enc: _Encoder,
                    running: Callable[[], bool]) -> AsyncIterator[bytes]:
    opts = enc.opts
    if opts.tail >= 0:
        out = b"".join(enc.encode(line) for line in await log.tail(opts.tail))
        if out:
            yield out
    pending = b""
    while True:
        chunk = await log.read()
        if chunk:
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            pending = data[cut:]
            out = await asyncio.to_thread(_encode_lines, enc, data[:cut])
            if out:
                yield out
            if enc.past_until:
                return
            continue
        if not opts.follow or not running():
            # One more read: the shim may have written the last lines as it stopped.
            chunk = await log.read()
            if not chunk:
                return
            pending += chunk
            out = b"".join(enc.encode(line) for line in pending.split(b"\n") if line)
            pending = b""
            if out:
                yield out
            if not opts.follow or not running():
                return
        await asyncio.sleep(POLL_S)


def _encode_lines(enc: _Encoder, data: bytes) -> bytes:
    """Many lines at once: one C-level JSON parse for the whole batch. Each entry is its
    own frame, as dockerd sends them: docker-py's logs(stream=True) yields frame by frame,
    so a program reading it sees its lines one by one as they were written."""
    lines = [line for line in data.split(b"\n") if line]
    if not lines:
        return b""
    opts = enc.opts
    if opts.timestamps or opts.since_ns or opts.until_ns:
        return b"".join(enc.encode(line) for line in lines)
    try:
        entries = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        return b"".join(enc.encode(line) for line in lines)
    out = bytearray()
    for entry in entries:
        stream = _STREAM.get(entry.get("stream", ""), 1)
        if (stream == 1 and not opts.stdout) or (stream == 2 and not opts.stderr):
            continue
        out += _chunk(stream, entry.get("log", "").encode(), opts.tty)
    return bytes(out)


def _chunk(stream: int, payload: bytes, tty: bool) -> bytes:
    if tty:
        return payload
    out = bytearray()
    for start in range(0, len(payload), 1 << 20):  # keep frames a reasonable size
        piece = payload[start:start + (1 << 20)]
        out += _HEADER.pack(stream, len(piece)) + piece
    return bytes(out)


