"""A push's layer compression: one deterministic gzip member, its digest and size known at
the end, deflated by zlib-ng (the stdlib's zlib makes exactly GzipFile's bytes)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import os
import zlib

import pytest
from pydocker.images import compression
from pydocker.images.distribution import gzipstream
from pydocker.images.distribution.gzipstream import CHUNK, GZIP_HEADER, GzipStream

# Several chunks of it, part incompressible, part very compressible.
TAR = os.urandom(CHUNK + 12345) + b"layer file bytes " * (CHUNK // 8)


def compress(data: bytes) -> tuple[GzipStream, bytes, list[tuple[int, int]]]:
    seen: list[tuple[int, int]] = []

    async def run() -> tuple[GzipStream, bytes]:
        stream = GzipStream(lambda: (len(data), io.BytesIO(data)),
                            lambda done, total: seen.append((done, total)))
        return stream, b"".join([chunk async for chunk in stream.chunks()])
    stream, out = asyncio.run(run())
    return stream, out, seen


def test_the_blob_is_one_gzip_member_of_the_tar_with_its_digest_and_size() -> None:
    stream, out, seen = compress(TAR)
    assert out.startswith(GZIP_HEADER)  # no name, mtime 0, OS unknown: as Go's writer
    assert gzip.decompress(out) == TAR
    assert compression.decompressing(io.BytesIO(out)).read() == TAR
    assert stream.digest == "sha256:" + hashlib.sha256(out).hexdigest()
    assert stream.size == len(out)
    assert seen[-1] == (len(TAR), len(TAR))


def test_a_resent_upload_makes_the_same_bytes() -> None:
    assert compress(TAR)[1] == compress(TAR)[1]


def test_zlib_ng_does_the_deflating() -> None:
    assert compression.fast_zlib.__name__ == "zlib_ng.zlib_ng"


def test_with_the_stdlib_zlib_the_bytes_are_gzipfiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """The framing written by hand is GzipFile's at level 6 with mtime 0, byte for byte."""
    monkeypatch.setattr(gzipstream, "deflate", zlib)
    expected = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=expected, compresslevel=6,
                       mtime=0) as packed:
        packed.write(TAR)
    assert compress(TAR)[1] == expected.getvalue()


def test_an_empty_layer_is_an_empty_member() -> None:
    stream, out, _ = compress(b"")
    assert gzip.decompress(out) == b""
    assert stream.size == len(out)


def test_a_truncated_blob_fails_to_decompress_as_with_the_stdlib() -> None:
    out = compress(TAR)[1][:-100]
    with pytest.raises(EOFError):
        compression.decompressing(io.BytesIO(out)).read()
