"""The one compression table: every magic sniffed, every compression opened."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

import pytest
import zstandard
from pydocker.images.compression import (
    MAGIC,
    SNIFF_BYTES,
    Compression,
    decompressing,
    sniff,
    sniff_file,
)

PAYLOAD = b"a tar, or anything else" * 100

COMPRESSORS: dict[Compression, Callable[[bytes], bytes]] = {
    Compression.NONE: lambda data: data,
    Compression.GZIP: gzip.compress,
    Compression.BZIP2: bz2.compress,
    Compression.XZ: lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
    Compression.ZSTD: zstandard.ZstdCompressor().compress,
}


def test_the_table_holds_every_compression_with_its_published_magic() -> None:
    assert MAGIC == {Compression.GZIP: b"\x1f\x8b", Compression.BZIP2: b"BZh",
                     Compression.XZ: b"\xfd7zXZ\x00", Compression.ZSTD: b"\x28\xb5\x2f\xfd"}
    assert SNIFF_BYTES == 6
    assert set(COMPRESSORS) == set(Compression)


@pytest.mark.parametrize("kind", list(Compression), ids=lambda k: k.value)
def test_what_each_compressor_writes_is_sniffed_as_it(kind: Compression, tmp_path: Path) -> None:
    data = COMPRESSORS[kind](PAYLOAD)
    assert sniff(data[:SNIFF_BYTES]) is kind
    (tmp_path / "blob").write_bytes(data)
    assert sniff_file(tmp_path / "blob") is kind


@pytest.mark.parametrize("head", [b"", b"\x1f", b"BZ", b"\xfd7zX", b"ustar", b"\0" * 6])
def test_short_or_foreign_heads_are_plain(head: bytes) -> None:
    assert sniff(head) is Compression.NONE


@pytest.mark.parametrize("kind", list(Compression), ids=lambda k: k.value)
def test_decompressing_opens_each_compression(kind: Compression) -> None:
    """Both a buffered stream (peeked) and a raw one (wrapped) give back the payload."""
    data = COMPRESSORS[kind](PAYLOAD)
    assert decompressing(io.BytesIO(data)).read() == PAYLOAD
    assert decompressing(cast(BinaryIO, _Raw(data))).read() == PAYLOAD


class _Raw(io.RawIOBase):
    """An unbuffered stream (a socket, a pipe): no ``peek``."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buf))
        buf[:len(chunk)] = chunk
        return len(chunk)
