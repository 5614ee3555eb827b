"""dockerd's ``local`` log format, written by the shim and read back by ``docker logs``.

Each entry is a protobuf ``LogEntry`` between two copies of its length (big-endian uint32),
as moby's daemon/logger/local writes it, so the files are dockerd's own:

    LogEntry: 1 source (string), 2 time_nano (int64), 3 line (bytes, no "\\n"),
              4 partial (bool), 5 partial_log_metadata
    PartialLogEntryMetadata: 1 last (bool), 2 id (string), 3 ordinal (int32)

The wire format needs a dozen lines by hand; a protobuf library would add a dependency
the shim cannot have (it runs in the stdlib-only zygote) for no gain.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

_LENGTH = struct.Struct(">I")
_SOURCE = {"stdout": b"\x0a\x06stdout", "stderr": b"\x0a\x06stderr"}
_SOURCE_NAMES = {field: name for name, field in _SOURCE.items()}


class Entry(NamedTuple):
    stream: str
    time_ns: int
    payload: bytes  # the line as the program wrote it: "\n" back on a finished line


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SHORT_VARINTS = [bytes([n]) for n in range(0x80)]  # the length of most lines


def _whole_lines(head: bytes, lines: list[bytes]) -> bytes:
    """frame(head + _field(3, line)) for each line, without building each body twice:
    the shim writes a whole output chunk (up to 1 MiB of short lines) at once."""
    head += b"\x1a"  # field 3, length-delimited
    out: list[bytes] = []
    for line in lines:
        n = len(line)
        length = _SHORT_VARINTS[n] if n < 0x80 else _varint(n)
        size = _LENGTH.pack(len(head) + len(length) + n)
        out += (size, head, length, line, size)
    return b"".join(out)


def _field(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def frame(body: bytes) -> bytes:
    size = _LENGTH.pack(len(body))
    return size + body + size


class LocalFormat:
    """The ``local`` driver's records, for logwriter.LogWriter.

    A line cut short (longer than the writer waits for, or unfinished at exit) is a
    partial entry; its pieces share an id and count up, and the piece that ends the line
    has ``last`` set, as dockerd's copier marks them.
    """

    def __init__(self) -> None:
        self._partial: dict[str, tuple[bytes, int]] = {}  # stream -> (id, last ordinal)

    def encode(self, stream: str, data: bytes, time_ns: int) -> bytes:
        head = _SOURCE[stream] + b"\x10" + _varint(time_ns)
        lines = data.split(b"\n")
        unfinished = lines.pop()
        out = []
        if lines and stream in self._partial:
            out.append(self._piece(stream, head, lines.pop(0), last=True))
        out.append(_whole_lines(head, lines))
        if unfinished:
            out.append(self._piece(stream, head, unfinished, last=False))
        return b"".join(out)

    def _piece(self, stream: str, head: bytes, line: bytes, *, last: bool) -> bytes:
        series, ordinal = self._partial.pop(stream, (os.urandom(32).hex().encode(), 0))
        ordinal += 1
        if not last:
            self._partial[stream] = (series, ordinal)
        meta = (b"\x08\x01" if last else b"") + _field(2, series) + b"\x18" + _varint(ordinal)
        return frame(head + _field(3, line) + b"\x20\x01" + _field(5, meta))

    @staticmethod
    def boundary(records: bytes, offset: int) -> int:
        """Where the record holding byte ``offset`` ends."""
        return complete(records, offset + 1)


def complete(data: bytes, at_least: int = 0) -> int:
    """The length of the whole records at the start of ``data`` (all of them, or the
    fewest that reach ``at_least`` bytes)."""
    pos = 0
    while pos + 4 <= len(data) and (not at_least or pos < at_least):
        end = pos + 8 + _LENGTH.unpack_from(data, pos)[0]
        if end > len(data):
            break
        pos = end
    return pos


def records(data: bytes) -> list[bytes]:
    """The entries' bodies in ``data``, which holds whole records."""
    out = []
    pos = 0
    while pos < len(data):
        size = _LENGTH.unpack_from(data, pos)[0]
        out.append(data[pos + 4:pos + 4 + size])
        pos += size + 8
    return out


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> dict[int, int | bytes]:
    """A message's scalar (varint) and length-delimited fields by number; others skipped."""
    out: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        kind = key & 7
        if kind == 0:
            out[key >> 3], pos = _read_varint(buf, pos)
        elif kind == 2:
            size, pos = _read_varint(buf, pos)
            out[key >> 3] = buf[pos:pos + size]
            pos += size
        elif kind in (1, 5):
            pos += 8 if kind == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {kind}")
    return out


def decode(body: bytes) -> Entry:
    # The common entry, a whole line (source, time, line and nothing else), read directly.
    source = _SOURCE_NAMES.get(body[:8])
    if source is not None and body[8:9] == b"\x10":
        time_ns, pos = _read_varint(body, 9)
        if body[pos:pos + 1] == b"\x1a":
            size, pos = _read_varint(body, pos + 1)
            if pos + size == len(body):
                return Entry(source, time_ns, body[pos:] + b"\n")
    return _decode_any(body)


def _decode_any(body: bytes) -> Entry:
    fields = _fields(body)
    source, line = fields.get(1, b""), fields.get(3, b"")
    time_ns = fields.get(2, 0)
    assert isinstance(source, bytes) and isinstance(line, bytes) and isinstance(time_ns, int)
    finished = True
    if fields.get(4):
        meta = fields.get(5, b"")
        finished = bool(_fields(meta).get(1)) if isinstance(meta, bytes) else False
    return Entry(source.decode(errors="replace"), time_ns, line + b"\n" if finished else line)
