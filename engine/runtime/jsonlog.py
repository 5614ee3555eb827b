"""Docker's json-file log lines, encoded a whole read() chunk at a time.

One ``{"log":"<line>\\n","stream":"stdout","time":"<RFC3339Nano>"}`` per line. A per-line
``json.dumps`` costs ~2 µs, i.e. seconds for 50 MB of 64-byte lines, so a chunk is
encoded by C code only. Printable ASCII (checked with one bytes.translate) needs no
escaping: one bytes.replace of "\\n" makes the records. Anything else goes through
``json.dumps`` of the list of lines, and one str.replace turns the list separators into
record boundaries; that is safe because inside a JSON string every ``"`` is escaped, so
the 4 characters ``", "`` occur only between two list items. Lines of one chunk share its
timestamp (they arrived together).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

PARTIAL_MAX = 16 * 1024  # dockerd's copier also writes out a line this long unfinished
# The bytes a JSON string may hold as they are, plus the "\n" we split on. A chunk made
# only of these (printable ASCII: the common case) needs no JSON encoder at all; the test
# is one bytes.translate, ~10x faster than a regex search.
_VERBATIM = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\') + b"\n"


def now_rfc3339() -> str:
    secs, frac = divmod(time.time_ns(), 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def encode_bytes(data: bytes, stream: str, timestamp: str) -> bytes:
    """Like encode(); printable ASCII goes through one bytes.replace (~20x faster)."""
    if data.translate(None, _VERBATIM):
        return encode(data.decode("utf-8", "replace"), stream, timestamp)
    if not data:
        return b""
    tail = f',"stream":"{stream}","time":"{timestamp}"}}\n'.encode()
    if data.endswith(b"\n"):
        data = data[:-1]
        end = b'\\n"' + tail
    else:
        end = b'"' + tail
    return b'{"log":"' + data.replace(b"\n", b'\\n"' + tail + b'{"log":"') + end


def encode(data: str, stream: str, timestamp: str) -> bytes:
    """The json-file records for ``data``: one per "\\n"-terminated line, plus one for an
    unfinished last line if there is one. Only "\\n" splits (not str.splitlines' \\r etc.)."""
    if not data:
        return b""
    parts = data.split("\n")
    complete = parts[-1] == ""
    if complete:
        parts.pop()
    tail = f',"stream":"{stream}","time":"{timestamp}"}}\n'
    body = json.dumps(parts, ensure_ascii=False)[1:-1]
    if "\u2028" in body or "\u2029" in body:
        # Line separators stay escaped, as Go's encoder does: readers that split on
        # every Unicode line break (str.splitlines) must still see one record per line.
        body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    body = '{"log":' + body.replace('", "', '\\n"' + tail + '{"log":"')
    if complete:
        body = body[:-1] + '\\n"'
    return (body + tail).encode()


class LogWriter:
    """Splits a stream into lines, keeping an unfinished last line for the next chunk."""

    def __init__(self, path: str) -> None:
        self.f = open(path, "ab", buffering=0)  # noqa: SIM115 - open for the shim's life
        self.partial = {"stdout": b"", "stderr": b""}
        self.dropped = 0  # chunks the disk did not take

    def write(self, stream: str, data: bytes) -> None:
        rest = self.partial[stream]
        if rest:
            data = rest + data
        cut = data.rfind(b"\n") + 1
        if len(data) - cut > PARTIAL_MAX:
            cut = len(data)
        self.partial[stream] = data[cut:]
        if cut:
            self._emit(stream, data[:cut])

    def _emit(self, stream: str, data: bytes) -> None:
        """Append whole records only. A write the disk refuses (full, quota) drops the
        chunk, as dockerd's log copier drops a message it cannot write, and cuts off the
        part that went in, so the file stays one JSON record a line for its readers; the
        container's output keeps flowing (a writer that stopped would block it)."""
        record = encode_bytes(data, stream, now_rfc3339())
        fd = self.f.fileno()
        start = os.lseek(fd, 0, os.SEEK_END)
        view = memoryview(record)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            if self.dropped == 0:
                print(f"Error writing log message: {exc.strerror}", file=sys.stderr,
                      flush=True)
            self.dropped += 1

    def close(self) -> None:
        for stream, rest in self.partial.items():
            if rest:
                self._emit(stream, rest)
        self.partial = {"stdout": b"", "stderr": b""}
        self.f.close()
