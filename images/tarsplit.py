"""Byte-exact layer tars without keeping a second copy of them (tar-split's idea).

A layer's diff ID is the digest of its uncompressed tar exactly as it arrived, and
``docker save`` must give those bytes back. Keeping the tar beside the extracted files
doubles the disk used and the bytes written on every import. Instead, record only what
the extracted files do not hold — every header, padding and trailer byte, in order —
and, for each file payload, which file it became. The tar is then rebuilt on demand
from that record and the (read-only) layer directory.

The record is a gzip'd JSON-lines file: ``{"raw": "<base64>"}`` for bytes kept as they
were, ``{"file": "usr/bin/x", "offset": 1536, "size": 123}`` for a payload read back from
the layer, and last ``{"size": n}``, the whole tar's size. A payload that a later member of
the same tar removed (rare: duplicate names, whiteouts of the layer's own files) is moved
to ``split-kept/<offset>`` instead of being lost.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
from pathlib import Path
from typing import IO, Any

from pydocker.engine.errors import SystemFailure

SPLIT_FILE = "tar-split.json.gz"
KEPT_DIR = "split-kept"  # payloads a later member removed from the layer, kept aside


class LayerChanged(SystemFailure):
    """A layer file no longer matches what its tar held: the tar cannot be rebuilt."""


class Recorder:
    """Told every byte of the tar in order, and where each payload starts.

    Bytes arrive before tarfile has parsed the header that says what they are (the
    reader above buffers ahead), so they wait in ``_pending`` until classified:
    everything before a payload is raw, the payload itself is dropped, and whatever
    lies beyond stays pending for the next member.
    """

    def __init__(self, layer_dir: Path, diff_dir: Path) -> None:
        self._diff = diff_dir
        self._kept = layer_dir / KEPT_DIR
        self._out = gzip.open(  # noqa: SIM115 - closed by finish/abort
            layer_dir / SPLIT_FILE, "wt", compresslevel=1, encoding="utf-8")
        self._pending = bytearray()
        self._classified = 0               # stream offset of _pending[0]
        self._payloads: dict[str, int] = {}  # rel path → offset, for the files written

    def feed(self, pos: int, data: memoryview | bytes) -> None:
        end = pos + len(data)
        if end <= self._classified:
            return  # inside a payload already accounted for
        start = max(pos, self._classified)
        self._pending += data[start - pos:]

    def payload(self, offset: int, size: int, rel_path: str) -> None:
        raw = offset - self._classified
        if raw < 0 or raw > len(self._pending):
            raise AssertionError(f"tar payload at {offset} outside the bytes seen")
        self._raw(bytes(self._pending[:raw]))
        del self._pending[:raw + size]
        self._classified = offset + size
        self._line({"file": rel_path, "offset": offset, "size": size})
        self._payloads[rel_path] = offset

    def removing(self, rel_path: str) -> None:
        """A later member replaces ``rel_path`` (a file, or a directory holding files):
        move the payload files it holds aside, so the tar can still be rebuilt."""
        prefix = rel_path + "/"
        for path in [p for p in self._payloads if p == rel_path or p.startswith(prefix)]:
            self._kept.mkdir(exist_ok=True)
            os.rename(self._diff / path, self._kept / str(self._payloads.pop(path)))

    def finish(self, total: int) -> None:
        if self._classified + len(self._pending) != total:
            raise AssertionError("tar split lost bytes")
        self._raw(bytes(self._pending))
        self._pending.clear()
        self._line({"size": total})
        self._out.close()

    def abort(self) -> None:
        self._out.close()

    def _raw(self, data: bytes) -> None:
        if data:
            self._line({"raw": base64.b64encode(data).decode()})

    def _line(self, entry: dict[str, Any]) -> None:
        self._out.write(json.dumps(entry) + "\n")


def split_size(layer_dir: Path) -> int:
    """The rebuilt tar's size, from the record's last line."""
    last = ""
    with gzip.open(layer_dir / SPLIT_FILE, "rt", encoding="utf-8") as f:
        for last in f:
            pass
    return int(json.loads(last)["size"])


class RebuiltTar(io.RawIOBase):
    """The original tar as a read-only file object, rebuilt from the record."""

    def __init__(self, layer_dir: Path, diff_dir: Path) -> None:
        super().__init__()
        self._diff = diff_dir
        self._kept = layer_dir / KEPT_DIR
        self._any_kept = self._kept.is_dir()
        self._record = gzip.open(  # noqa: SIM115 - closed by close()
            layer_dir / SPLIT_FILE, "rt", encoding="utf-8")
        self._chunk = b""
        self._file: IO[bytes] | None = None
        self._left = 0  # bytes still to read from _file

    def read(self, n: int = -1) -> bytes:
        parts: list[bytes] = []
        got = 0
        while n < 0 or got < n:
            want = -1 if n < 0 else n - got
            if self._chunk:
                piece = self._chunk if want < 0 else self._chunk[:want]
                self._chunk = self._chunk[len(piece):]
            elif self._file is not None:
                piece = self._file.read(self._left if want < 0 else min(want, self._left))
                if not piece:
                    raise LayerChanged("a layer file is shorter than its tar entry")
                self._left -= len(piece)
                if not self._left:
                    self._file.close()
                    self._file = None
            elif not self._next():
                break
            else:
                continue
            parts.append(piece)
            got += len(piece)
        return b"".join(parts)  # one part: returned as is, no copy

    def _next(self) -> bool:
        line = self._record.readline()
        if not line:
            return False
        entry = json.loads(line)
        if "raw" in entry:
            self._chunk = base64.b64decode(entry["raw"])
        elif "file" in entry:
            self._open(entry["file"], entry["offset"], entry["size"])
        return True

    def _open(self, rel_path: str, offset: int, size: int) -> None:
        kept = self._kept / str(offset)
        path = kept if self._any_kept and os.path.lexists(kept) else self._diff / rel_path
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        if os.fstat(fd).st_size != size:
            os.close(fd)
            raise LayerChanged(f"layer file {rel_path} no longer has its tar entry's size")
        self._file = open(fd, "rb", closefd=True)  # noqa: SIM115 - closed by read/close
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._record.close()
        super().close()
