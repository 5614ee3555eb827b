"""Where a downloaded blob goes: the caller's sink, committed only once its digest is verified.

The client writes each chunk as it arrives, hashes it on the way, and calls ``commit`` only
when the whole blob matched its digest; on any failure it calls ``discard`` (containerd's
content writer: ``Commit(size, expected)`` or nothing). A sink that already holds the start
of the blob (an earlier, interrupted download) reports it in ``size`` and gives it back through
``read_back`` so the hash can cover it; the client then asks the registry for the rest only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

READ_CHUNK = 1 << 20


class BlobSink(Protocol):
    @property
    def size(self) -> int:
        """Bytes already held: where a resumed download continues."""
        ...

    def read_back(self) -> AsyncIterator[bytes]:
        """The bytes already held, to hash them before resuming."""
        ...

    async def write(self, chunk: bytes) -> None: ...

    async def truncate(self) -> None:
        """Drop what is held: the registry answered a Range request with the whole blob."""
        ...

    async def commit(self, digest: str) -> None:
        """The blob is complete and matched ``digest``: make it visible."""
        ...

    async def discard(self) -> None:
        """The download failed or did not verify: leave nothing behind."""
        ...


class BytesSink:
    """Keeps the blob in memory (manifests, configs, tests)."""

    def __init__(self, initial: bytes = b"") -> None:
        self._data = bytearray(initial)
        self.committed: str = ""

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def data(self) -> bytes:
        return bytes(self._data)

    async def read_back(self) -> AsyncIterator[bytes]:
        yield bytes(self._data)

    async def write(self, chunk: bytes) -> None:
        self._data += chunk

    async def truncate(self) -> None:
        self._data.clear()

    async def commit(self, digest: str) -> None:
        self.committed = digest

    async def discard(self) -> None:
        self._data.clear()
        self.committed = ""


class FileSink:
    """Writes to ``<final>.partial`` beside the destination and renames it on commit, so a
    reader never sees a half-written or unverified blob."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(final.name + ".partial")
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        # a+: writes always append, whatever read_back did to the position.
        self._file = open(self.partial, "a+b")  # noqa: SIM115 - closed by commit/discard
        self._size = self._file.seek(0, os.SEEK_END)

    @property
    def size(self) -> int:
        return self._size

    async def read_back(self) -> AsyncIterator[bytes]:
        self._file.flush()
        self._file.seek(0)
        while chunk := self._file.read(READ_CHUNK):
            yield chunk

    async def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._size += len(chunk)

    async def truncate(self) -> None:
        self._file.seek(0)
        self._file.truncate()
        self._size = 0

    async def commit(self, digest: str) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.final)

    async def discard(self) -> None:
        self._file.close()
        self.partial.unlink(missing_ok=True)
