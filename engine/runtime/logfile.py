"""The log file the shim appends to, rotated as dockerd's loggerutils.LogFile rotates it.

Before each write, a file that has reached ``max_size`` moves aside: ``<name>.1`` becomes
``<name>.2`` and so on, the oldest beyond ``max_file - 1`` is deleted, the current file
becomes ``<name>.1`` and a new one is started. With ``compress`` the rotated files are
``<name>.N.gz``: ``<name>.1`` is gzipped after the rotation, its last entry's time in the
gzip header (dockerd's rotateFileMetadata, so a reader can skip it for ``since``).
With ``max_file`` 1 the file is simply started afresh.

Rotation lives here, in the shim, because the shim is what writes and it outlives the
daemon. The shim is one thread and must not fork (its children land in the container's
pid namespace), so compression is done a slice at a time between its other work
(``work()``), and finished at once if the next rotation comes first, as dockerd's next
rotation waits for the compression of the last one.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import zlib
from collections.abc import Callable

from .jsonlog import rfc3339_of

GZIP_SLICE = 1 << 17  # input bytes compressed per work() call: a few ms
GZIP_LEVEL = 6        # gzip's and Go's default
MODE = 0o640          # dockerd's

# (records, offset) -> the end of the record holding byte ``offset``
Boundary = Callable[[bytes, int], int]


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _rename(src: str, dst: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.rename(src, dst)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Gzip:
    """``<src>`` compressed into ``<src>.gz`` a slice at a time; ``<src>`` is removed only
    once the .gz is whole (written under a temporary name, then renamed), so a reader
    always finds one complete copy, the plain one first."""

    def __init__(self, src: str, last_time_ns: int) -> None:
        self.src = src
        self.tmp = src + ".gz.tmp"
        self.fin = open(src, "rb")  # noqa: SIM115 - kept open across work() calls
        try:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, MODE)
        except OSError:
            self.fin.close()
            raise
        self.fout = open(fd, "wb")  # noqa: SIM115
        self.deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
        self.crc = 0
        self.size = 0
        extra = (json.dumps({"lastTime": rfc3339_of(last_time_ns)}, separators=(",", ":"))
                 .encode() if last_time_ns else b"")
        flags = 4 if extra else 0  # FEXTRA
        # No mtime and OS "unknown", as Go's gzip writer leaves them.
        header = b"\x1f\x8b\x08" + bytes([flags]) + b"\x00\x00\x00\x00\x00\xff"
        self.fout.write(header + (struct.pack("<H", len(extra)) + extra if extra else b""))

    def step(self) -> bool:
        """Compress the next slice; True once the .gz is in place."""
        data = self.fin.read(GZIP_SLICE)
        if data:
            self.crc = zlib.crc32(data, self.crc)
            self.size += len(data)
            self.fout.write(self.deflate.compress(data))
            return False
        self.fout.write(self.deflate.flush() + struct.pack("<II", self.crc, self.size & 0xFFFFFFFF))
        self.fin.close()
        self.fout.close()
        os.rename(self.tmp, self.src + ".gz")
        os.unlink(self.src)
        return True

    def finish(self) -> None:
        while not self.step():
            pass

    def abandon(self) -> None:
        """Keep the plain file (a reader still reads it); drop the half-made .gz."""
        self.fin.close()
        self.fout.close()
        _unlink(self.tmp)


class RotatingFile:
    def __init__(self, path: str, boundary: Boundary, *, max_size: int = -1,
                 max_file: int = 1, compress: bool = False) -> None:
        self.path = path
        self.boundary = boundary
        self.max_size = max_size  # -1: never rotate
        self.max_file = max_file
        self.compress = compress and max_file > 1
        self._reopen()  # a restarted container appends
        self.last_time_ns = 0
        self.job: Gzip | None = None
        if self.compress and os.path.exists(path + ".1"):
            self._start_gzip()  # the last shim stopped before it was compressed

    def write(self, records: bytes, time_ns: int) -> None:
        """Append whole records, rotating between two of them where the size says."""
        while records:
            if self.fd < 0:
                self._reopen()
            if 0 <= self.max_size <= self.size:
                self._rotate()
            cut = len(records)
            if self.max_size >= 0 and self.size + cut > self.max_size:
                cut = self.boundary(records, max(0, self.max_size - self.size - 1))
            try:
                _write_all(self.fd, records[:cut])
            except OSError:
                # What went in is cut off: the file stays whole records for its readers.
                with contextlib.suppress(OSError):
                    os.ftruncate(self.fd, self.size)
                raise
            self.size += cut
            self.last_time_ns = time_ns
            records = records[cut:]

    def _reopen(self) -> None:
        """Open (again, after a failed rotation) the file at its name, for appending."""
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                          MODE)
        self.size = os.fstat(self.fd).st_size

    def _rotate(self) -> None:
        # Marked closed first: if a step below fails (no space ...), the next write opens
        # the file again rather than write to, or close, a descriptor number since reused.
        fd, self.fd = self.fd, -1
        os.close(fd)
        if self.max_file < 2:
            _unlink(self.path)  # a reader holding it open still reads it to its end
        else:
            self._finish_gzip()
            ext = ".gz" if self.compress else ""
            _unlink(f"{self.path}.{self.max_file - 1}{ext}")
            for n in range(self.max_file - 1, 1, -1):
                _rename(f"{self.path}.{n - 1}{ext}", f"{self.path}.{n}{ext}")
            _rename(self.path, self.path + ".1")
        self._reopen()  # a new file: its name was just renamed or unlinked
        if self.compress:
            self._start_gzip()

    def _start_gzip(self) -> None:
        try:
            self.job = Gzip(self.path + ".1", self.last_time_ns)
        except OSError:
            self.job = None  # e.g. no space: the rotated file stays as it is

    def _finish_gzip(self) -> None:
        while self.job is not None:
            self.work()

    def work(self) -> bool:
        """One slice of pending compression; True while some remains."""
        if self.job is None:
            return False
        try:
            done = self.job.step()
        except OSError:
            self.job.abandon()
            done = True
        if done:
            self.job = None
        return not done

    @property
    def busy(self) -> bool:
        return self.job is not None

    def close(self) -> None:
        self._finish_gzip()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
