"""The files of a container's log as a reader finds them while the shim rotates them.

Oldest first: ``<name>.N`` ... ``<name>.1`` (``.gz`` when compressed; the plain copy
first, as dockerd's reader, since a file is plain until its .gz is whole), then
``<name>``, the file being written. Everything is opened at once and each open file
keeps its content whatever is renamed later; a rotation during the opening (the current
file is no longer at its name afterwards) makes the set be opened again.

The shim never waits for readers, so a follower can fall behind by a rotation or more:
``successor`` finds the file written after the one just finished, while it is still a
plain file; once compressed or deleted it is gone and the follower skips to the current
file, as dockerd's follower does ("file rotations were missed while following logs").
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pydocker.engine.timeutil import parse_rfc3339_ns

OPEN_ATTEMPTS = 5


@dataclass
class LogFile:
    """One open file of the set; a .gz one reads decompressed."""
    f: BinaryIO
    ino: tuple[int, int] = (0, 0)  # (st_dev, st_ino) of a plain file
    raw: BinaryIO | None = None    # the .gz file under ``f``

    @property
    def compressed(self) -> bool:
        return self.raw is not None

    def read(self, size: int) -> bytes:
        """Blocking. A damaged .gz ends where its damage starts."""
        try:
            return self.f.read(size)
        except (EOFError, gzip.BadGzipFile, zlib.error):
            if self.raw is None:
                raise
            return b""

    def close(self) -> None:
        self.f.close()
        if self.raw is not None:
            self.raw.close()


@dataclass
class LogSet:
    rotated: list[LogFile] = field(default_factory=list)  # oldest first
    current: LogFile | None = None                         # None: not written yet

    def close(self) -> None:
        for log in [*self.rotated, *([self.current] if self.current else [])]:
            log.close()


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def open_plain(path: Path) -> LogFile | None:
    try:
        f = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        return None
    return LogFile(f, ino=_identity(os.fstat(f.fileno())))


def _rotated_numbers(path: Path) -> list[int]:
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)(\.gz)?")
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    found = {int(m.group(1)) for m in map(pattern.fullmatch, names) if m}
    return sorted(found, reverse=True)


def _open_rotated(path: Path, n: int, since_ns: int) -> LogFile | None:
    """``<name>.n``, plain or gzipped; None if gone, or if all of it is older than
    ``since_ns`` (the .gz header's lastTime says so without decompressing it)."""
    plain = open_plain(path.with_name(f"{path.name}.{n}"))
    if plain is not None:
        return plain
    try:
        raw = open(path.with_name(f"{path.name}.{n}.gz"), "rb")  # noqa: SIM115
    except FileNotFoundError:
        return None
    if since_ns and 0 < _gzip_last_time(raw) < since_ns:
        raw.close()
        return None
    return LogFile(gzip.GzipFile(fileobj=raw, mode="rb"), raw=raw)  # type: ignore[arg-type]


def _gzip_last_time(raw: BinaryIO) -> int:
    """dockerd's rotateFileMetadata from the gzip header's extra field; 0 if none."""
    header = raw.read(12)
    raw.seek(0)
    if len(header) < 12 or header[:2] != b"\x1f\x8b" or not header[3] & 4:
        return 0
    (size,) = struct.unpack_from("<H", header, 10)
    raw.seek(12)
    extra = raw.read(size)
    raw.seek(0)
    try:
        return parse_rfc3339_ns(json.loads(extra)["lastTime"])
    except (ValueError, KeyError, TypeError):
        return 0


def open_set(path: Path, since_ns: int = 0) -> LogSet:
    """Blocking: run it in a thread."""
    attempts = OPEN_ATTEMPTS
    while True:
        logs = LogSet(current=open_plain(path))
        for n in _rotated_numbers(path):
            rotated = _open_rotated(path, n, since_ns)
            if rotated is not None:
                logs.rotated.append(rotated)
        attempts -= 1
        if not attempts or logs.current is None or not rotated_away(path, logs.current):
            return logs
        logs.close()


def rotated_away(path: Path, log: LogFile) -> bool:
    """The shim writes another file now (``log`` has been renamed or deleted)."""
    try:
        return _identity(os.stat(path)) != log.ino
    except FileNotFoundError:
        return True


def successor(path: Path, log: LogFile) -> LogFile | None:
    """The file written after ``log``, which was rotated away: the next newer rotated
    one if ``log`` is still ``<name>.k``, else (compressed or deleted meanwhile) the
    current file. None while there is none (between the shim's rename and create)."""
    for n in sorted(_rotated_numbers(path)):
        with contextlib.suppress(FileNotFoundError):
            if _identity(os.stat(path.with_name(f"{path.name}.{n}"))) == log.ino:
                if n > 1:
                    newer = _open_rotated(path, n - 1, 0)
                    if newer is not None:
                        return newer
                break
    return open_plain(path)
