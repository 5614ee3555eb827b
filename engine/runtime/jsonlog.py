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

import json
import time

PARTIAL_MAX = 16 * 1024  # dockerd's copier also writes out a line this long unfinished
# The bytes a JSON string may hold as they are, plus the "\n" we split on. A chunk made
# only of these (printable ASCII: the common case) needs no JSON encoder at all; the test
# is one bytes.translate, ~10x faster than a regex search.
_VERBATIM = bytes(b for b in range(0x20, 0x7F) if b not in b'"\\') + b"\n"


def now_rfc3339() -> str:
    return rfc3339_of(time.time_ns())


def rfc3339_of(ns: int) -> str:
    """RFC3339 with nine fractional digits, in UTC: the json-file ``time``."""
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def attrs_json(attrs: dict[str, str]) -> str:
    """The ``attrs`` object as Go's json.Marshal writes a map: keys sorted, no spaces,
    non-ASCII kept, and <, >, &, U+2028 and U+2029 escaped."""
    text = json.dumps(attrs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


class JsonFileFormat:
    """The json-file driver's records, for logwriter.LogWriter. ``attrs``: the labels
    and environment variables the log options pick, written into every record."""

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        self.attrs = attrs_json(attrs) if attrs else ""

    def encode(self, stream: str, data: bytes, time_ns: int) -> bytes:
        return encode_bytes(data, stream, rfc3339_of(time_ns), self.attrs)

    @staticmethod
    def boundary(records: bytes, offset: int) -> int:
        """Where the record holding byte ``offset`` ends: JSON escapes every newline
        inside a record, so each one ends at its own "\\n"."""
        end = records.find(b"\n", offset)
        return len(records) if end < 0 else end + 1


def _tail(stream: str, timestamp: str, attrs: str) -> str:
    """A record's end after its log string, in dockerd's field order."""
    attrs_field = f',"attrs":{attrs}' if attrs else ""
    return f',"stream":"{stream}"{attrs_field},"time":"{timestamp}"}}\n'


def encode_bytes(data: bytes, stream: str, timestamp: str, attrs: str = "") -> bytes:
    """Like encode(); printable ASCII goes through one bytes.replace (~20x faster)."""
    if data.translate(None, _VERBATIM):
        return encode(data.decode("utf-8", "replace"), stream, timestamp, attrs)
    if not data:
        return b""
    tail = _tail(stream, timestamp, attrs).encode()
    if data.endswith(b"\n"):
        data = data[:-1]
        end = b'\\n"' + tail
    else:
        end = b'"' + tail
    return b'{"log":"' + data.replace(b"\n", b'\\n"' + tail + b'{"log":"') + end


def encode(data: str, stream: str, timestamp: str, attrs: str = "") -> bytes:
    """The json-file records for ``data``: one per "\\n"-terminated line, plus one for an
    unfinished last line if there is one. Only "\\n" splits (not str.splitlines' \\r etc.).
    ``attrs``: the record's JSON ``attrs`` object, or "" for none."""
    if not data:
        return b""
    parts = data.split("\n")
    complete = parts[-1] == ""
    if complete:
        parts.pop()
    tail = _tail(stream, timestamp, attrs)
    body = json.dumps(parts, ensure_ascii=False)[1:-1]
    if "\u2028" in body or "\u2029" in body:
        # Line separators stay escaped, as Go's encoder does: readers that split on
        # every Unicode line break (str.splitlines) must still see one record per line.
        body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    body = '{"log":' + body.replace('", "', '\\n"' + tail + '{"log":"')
    if complete:
        body = body[:-1] + '\\n"'
    return (body + tail).encode()
