"""Reading a container's log with Docker's selection rules, across its rotated files.

The files (logfiles.py) are read oldest first; ``tail`` takes the last lines from the
newest backwards, and ``follow`` keeps reading the file the shim writes, moving on to
the next one when it rotates. The driver's format is a ``Codec``: json-file lines
(``{"log": ..., "stream": ..., "time": RFC3339Nano}``) or local's framed protobuf entries.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote_plus

from pydocker.engine.runtime import locallog
from pydocker.engine.runtime.jsonlog import rfc3339_of
from pydocker.engine.timeutil import parse_rfc3339_ns

from . import logfiles
from .logfiles import LogFile, LogSet

_HEADER = struct.Struct(">BxxxL")
_STREAM = {"stdout": 1, "stderr": 2}
READ_SIZE = 4 << 20
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
    details: bool = False    # each line after its attrs (key=value,...) and a space


def fixed_width_timestamp(rfc3339: str) -> str:
    """Docker's log prefix: RFC3339 with exactly nine fractional digits."""
    base, _, frac = rfc3339.rstrip("Z").partition(".")
    return f"{base}.{(frac or '0').ljust(9, '0')[:9]}Z"


class Selection:
    """The entries a request wants, framed as the API sends them."""

    def __init__(self, opts: LogOptions) -> None:
        self.opts = opts
        self.past_until = False

    def wants(self, stream: int) -> bool:
        return self.opts.stdout if stream == 1 else self.opts.stderr

    def in_window(self, time_ns: int) -> bool:
        if time_ns < self.opts.since_ns:
            return False
        if self.opts.until_ns and time_ns > self.opts.until_ns:
            self.past_until = True
            return False
        return True

    def frame(self, stream: int, payload: bytes, stamp: str,
              attrs: dict[str, str] | None = None) -> bytes:
        """``stamp``: the fixed-width time, needed only with ``timestamps``; ``attrs``:
        the entry's, shown only with ``details`` (before the line, after the time, as
        dockerd's logs writer puts them)."""
        if self.opts.details:
            payload = details_prefix(attrs or {}) + payload
        if self.opts.timestamps:
            payload = stamp.encode() + b" " + payload
        return _chunk(stream, payload, self.opts.tty)


def details_prefix(attrs: dict[str, str]) -> bytes:
    """dockerd's attrsByteSlice: ``key=value`` pairs sorted by key, both query-escaped,
    joined by commas, then a space (a lone space when there are none)."""
    pairs = (f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}"
             for k, v in sorted(attrs.items()))
    return (",".join(pairs) + " ").encode()


def _chunk(stream: int, payload: bytes, tty: bool) -> bytes:
    """Each entry is its own frame, as dockerd sends them: docker-py's
    logs(stream=True) yields frame by frame, so a program reading it sees its lines one
    by one as they were written."""
    if tty:
        return payload
    out = bytearray()
    for start in range(0, len(payload), 1 << 20):  # keep frames a reasonable size
        piece = payload[start:start + (1 << 20)]
        out += _HEADER.pack(stream, len(piece)) + piece
    return bytes(out)


class Codec(Protocol):
    """A driver's file format, as the reader needs it. ``records`` are raw units that
    ``join`` puts back together."""

    def complete(self, data: bytes) -> int: ...
    def records(self, data: bytes) -> list[bytes]: ...
    def join(self, records: list[bytes]) -> bytes: ...
    def encode(self, data: bytes, sel: Selection) -> bytes: ...
    def last_records(self, f: BinaryIO, n: int) -> list[bytes]: ...


class JsonFileCodec:
    def complete(self, data: bytes) -> int:
        return data.rfind(b"\n") + 1

    def records(self, data: bytes) -> list[bytes]:
        return [line for line in data.split(b"\n") if line]

    def join(self, records: list[bytes]) -> bytes:
        return b"".join(line + b"\n" for line in records)

    def encode(self, data: bytes, sel: Selection) -> bytes:
        lines = self.records(data)
        opts = sel.opts
        if not lines:
            return b""
        if not (opts.timestamps or opts.since_ns or opts.until_ns or opts.details):
            try:  # one C-level JSON parse for the whole batch
                entries = json.loads(b"[" + b",".join(lines) + b"]")
            except ValueError:
                pass
            else:
                return b"".join(
                    _chunk(stream, entry.get("log", "").encode(), opts.tty)
                    for entry in entries
                    if sel.wants(stream := _STREAM.get(entry.get("stream", ""), 1)))
        return b"".join(self._one(line, sel) for line in lines)

    @staticmethod
    def _one(line: bytes, sel: Selection) -> bytes:
        try:
            entry = json.loads(line)
        except ValueError:
            return b""  # a torn last line while the shim writes it: read it next time
        stream = _STREAM.get(entry.get("stream", ""), 1)
        time = entry.get("time", "")
        if not sel.wants(stream):
            return b""
        if (sel.opts.since_ns or sel.opts.until_ns) and not sel.in_window(
                parse_rfc3339_ns(time)):
            return b""
        return sel.frame(stream, entry.get("log", "").encode(),
                         fixed_width_timestamp(time) if sel.opts.timestamps else "",
                         entry.get("attrs"))

    def last_records(self, f: BinaryIO, n: int) -> list[bytes]:
        """The last ``n`` lines, read backwards from the end, where ``f`` is left."""
        end = pos = f.seek(0, os.SEEK_END)
        blocks: list[bytes] = []
        newlines = 0
        while pos > 0 and newlines <= n:
            step = min(1 << 16, pos)
            pos = f.seek(pos - step)
            blocks.append(f.read(step))
            newlines += blocks[-1].count(b"\n")
        f.seek(end)
        lines = b"".join(reversed(blocks)).split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines[-n:] if n else []


class LocalCodec:
    def complete(self, data: bytes) -> int:
        return locallog.complete(data)

    def records(self, data: bytes) -> list[bytes]:
        return locallog.records(data)

    def join(self, records: list[bytes]) -> bytes:
        return b"".join(locallog.frame(body) for body in records)

    def encode(self, data: bytes, sel: Selection) -> bytes:
        out = []
        for body in self.records(data):
            try:
                entry = locallog.decode(body)
            except (ValueError, IndexError, AssertionError):
                continue  # not an entry: skipped, as a torn json-file line is
            stream = _STREAM.get(entry.stream, 1)
            if sel.wants(stream) and sel.in_window(entry.time_ns):
                stamp = rfc3339_of(entry.time_ns) if sel.opts.timestamps else ""
                out.append(sel.frame(stream, entry.payload, stamp))
        return b"".join(out)

    def last_records(self, f: BinaryIO, n: int) -> list[bytes]:
        """Walks back over the trailing length of each entry."""
        end = pos = f.seek(0, os.SEEK_END)
        out: list[bytes] = []
        while pos >= 8 and len(out) < n:
            f.seek(pos - 4)
            size = int.from_bytes(f.read(4), "big")
            start = pos - 8 - size
            if start < 0:
                break
            f.seek(start)
            frame = f.read(size + 8)
            if frame[:4] != frame[-4:]:
                break  # not a whole entry (one being written)
            out.append(frame[4:-4])
            pos = start
        f.seek(end)
        return out[::-1]


JSON_FILE_CODEC = JsonFileCodec()
LOCAL_CODEC = LocalCodec()


@dataclass(frozen=True)
class LogSource:
    path: Path    # the file being written; the rotated ones are beside it
    codec: Codec

    @classmethod
    def of(cls, driver: str, path: Path) -> LogSource:
        return cls(path, LOCAL_CODEC if driver == "local" else JSON_FILE_CODEC)


async def read_logs(source: LogSource, opts: LogOptions,
                    running: Callable[[], bool]) -> AsyncGenerator[bytes, None]:
    """Chunks ready to send; with ``follow`` it keeps going until the container stops."""
    logs = await asyncio.to_thread(logfiles.open_set, source.path, opts.since_ns)
    reader = _Reader(source, Selection(opts), logs)
    try:
        async for out in reader.run(running):
            yield out
    finally:
        await asyncio.to_thread(reader.close)


class _Reader:
    def __init__(self, source: LogSource, sel: Selection, logs: LogSet) -> None:
        self.path = source.path
        self.codec = source.codec
        self.sel = sel
        self.logs = logs
        self.pending = b""  # the start of a record read from the file being read

    def close(self) -> None:
        self.logs.close()

    async def _encoded(self, data: bytes) -> bytes:
        return await asyncio.to_thread(self.codec.encode, data, self.sel)

    async def _take(self, chunk: bytes) -> bytes:
        """The whole records so far, encoded; a record cut by the read waits for the
        next one."""
        data = self.pending + chunk
        cut = self.codec.complete(data)
        self.pending = data[cut:]
        return await self._encoded(data[:cut])

    async def run(self, running: Callable[[], bool]) -> AsyncIterator[bytes]:
        opts = self.sel.opts
        if opts.tail >= 0:
            records = await asyncio.to_thread(self._tail, opts.tail)
            out = await self._encoded(self.codec.join(records)) if records else b""
            if out:
                yield out
        else:
            for log in self.logs.rotated:
                async for out in self._whole(log):
                    yield out
                if self.sel.past_until:
                    return
        if not self.sel.past_until:
            async for out in self._current(running):
                yield out

    def _tail(self, n: int) -> list[bytes]:
        """The last ``n`` records, the newest file first; the current file is left at
        its end, where following goes on."""
        newest_first = [*([self.logs.current] if self.logs.current else []),
                        *reversed(self.logs.rotated)]
        found: list[list[bytes]] = []
        need = n
        for log in newest_first:
            if need <= 0 and log is not self.logs.current:
                break
            got = _last_streamed(self.codec, log, need) if log.compressed else \
                self.codec.last_records(log.f, need)
            found.append(got)
            need -= len(got)
        return [record for got in reversed(found) for record in got]

    async def _whole(self, log: LogFile) -> AsyncIterator[bytes]:
        """A rotated file: complete, read to its end."""
        self.pending = b""
        while chunk := await asyncio.to_thread(log.read, READ_SIZE):
            out = await self._take(chunk)
            if out:
                yield out
            if self.sel.past_until:
                return

    async def _current(self, running: Callable[[], bool]) -> AsyncIterator[bytes]:
        follow = self.sel.opts.follow
        current = self.logs.current
        self.pending = b""
        draining = False  # it was rotated away: read to its end, then to the next file
        last_look = False
        while True:
            if current is None:  # nothing written yet
                current = self.logs.current = await asyncio.to_thread(
                    logfiles.open_plain, self.path)
            chunk = await asyncio.to_thread(current.read, READ_SIZE) if current else b""
            if chunk:
                out = await self._take(chunk)
                if out:
                    yield out
                if self.sel.past_until:
                    return
                continue
            if follow and current is not None:
                if draining:
                    following = await asyncio.to_thread(logfiles.successor, self.path, current)
                    if following is not None:
                        current.close()
                        current = self.logs.current = following
                        self.pending, draining = b"", False
                        continue
                elif await asyncio.to_thread(logfiles.rotated_away, self.path, current):
                    draining = True
                    continue
            if not follow or not running():
                if last_look:
                    return
                last_look = True  # one more read: the shim may have written as it stopped
                continue
            last_look = False
            await asyncio.sleep(POLL_S)


def _last_streamed(codec: Codec, log: LogFile, n: int) -> list[bytes]:
    """The last ``n`` records of a file that can only be read forward (a .gz)."""
    last: deque[bytes] = deque(maxlen=n)
    pending = b""
    while n > 0 and (chunk := log.read(READ_SIZE)):
        data = pending + chunk
        cut = codec.complete(data)
        pending = data[cut:]
        last.extend(codec.records(data[:cut]))
    return list(last)
