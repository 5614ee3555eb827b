"""The compressions a layer (or an archive of layers) may come in, told apart by their
magic bytes: the one table every sniffing and decompressing place in images/ reads.

A layer blob is a tar, plain or compressed with gzip (Docker's default), zstd (OCI),
bzip2 or xz (both still accepted by ``docker load`` and ``docker import``). Anything
that does not start with one of these magics is taken to be a plain tar.

gzip is done with zlib-ng where it is installed (a dependency): the same format in less
than half of zlib's CPU time, both ways; pushes and pulls are bound by it.
"""

from __future__ import annotations

import enum
import io
from pathlib import Path
from typing import BinaryIO, Protocol, cast

try:
    from zlib_ng import gzip_ng as _gzip
    from zlib_ng import zlib_ng as _zlib
except ImportError:  # a checkout not reinstalled since zlib-ng became a dependency
    import gzip as _gzip  # type: ignore[no-redef]
    import zlib as _zlib  # type: ignore[no-redef]

fast_zlib = _zlib  # zlib's API (compressobj, crc32): zlib-ng's where installed

BUFFER = 1 << 20


class Compression(enum.Enum):
    NONE = "none"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"
    ZSTD = "zstd"


MAGIC: dict[Compression, bytes] = {
    Compression.GZIP: b"\x1f\x8b",
    Compression.BZIP2: b"BZh",
    Compression.XZ: b"\xfd7zXZ\x00",
    Compression.ZSTD: b"\x28\xb5\x2f\xfd",
}
SNIFF_BYTES = max(len(m) for m in MAGIC.values())  # enough of a stream's head to sniff


class Peekable(Protocol):
    """A buffered binary stream: ``peek`` shows the head without consuming it."""

    def peek(self, size: int = ..., /) -> bytes: ...

    def read(self, size: int = ..., /) -> bytes: ...


def sniff(head: bytes) -> Compression:
    """The compression whose magic ``head`` (a stream's first bytes) starts with."""
    for kind, magic in MAGIC.items():
        if head.startswith(magic):
            return kind
    return Compression.NONE


def sniff_file(path: Path) -> Compression:
    with open(path, "rb") as f:
        return sniff(f.read(SNIFF_BYTES))


def decompressing(stream: BinaryIO) -> BinaryIO:
    """``stream``'s decompressed content, whichever of the table's compressions it is in
    (plain tars pass through). Nothing is consumed to sniff: the head is peeked."""
    buffered = cast(Peekable, stream) if hasattr(stream, "peek") else io.BufferedReader(
        cast(io.RawIOBase, stream), BUFFER)
    kind = sniff(buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES])
    source = cast(BinaryIO, buffered)
    if kind is Compression.GZIP:
        return cast(BinaryIO, _gzip.open(source, "rb"))  # type: ignore[no-untyped-call]
    if kind is Compression.ZSTD:
        import zstandard
        return cast(BinaryIO, zstandard.ZstdDecompressor().stream_reader(source))
    if kind is Compression.BZIP2:
        import bz2
        return cast(BinaryIO, bz2.BZ2File(source))
    if kind is Compression.XZ:
        import lzma
        return cast(BinaryIO, lzma.LZMAFile(source))
    return source
