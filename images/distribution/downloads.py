"""Layer downloads shared between pulls and limited in number (dockerd's transfer manager).

A layer blob is fetched once however many pulls want it at the same time: the first asks
for it, the others join the same transfer and see its progress. At most ``limit`` blobs
download at once (``--max-concurrent-downloads``, 3 by default); a layer waiting for a slot
shows ``Waiting``. Once verified, the blob is extracted (staged) straight away, while other
layers are still downloading; committing it into its chain is the pull's job, in order.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from ..layers import StagedLayer
from ..registry import FileSink, RegistryClient, retry_message
from ..registry.manifest import Descriptor
from . import progress
from .progress import Emit, Record

Stager = Callable[[BinaryIO, Path], StagedLayer]  # (stream, the file it reads)


@dataclass
class _Transfer:
    task: asyncio.Task[StagedLayer] | None = None
    listeners: list[Emit] = field(default_factory=list)
    users: int = 0

    def emit(self, record: Record) -> None:
        for listener in list(self.listeners):
            listener(record)


class DownloadManager:
    def __init__(self, scratch: Path, stage: Stager, limit: int = 3) -> None:
        self._scratch = scratch
        self._stage = stage
        self._slots = asyncio.Semaphore(max(1, limit))
        self._transfers: dict[str, _Transfer] = {}

    def set_limit(self, limit: int) -> None:
        """A new limit for downloads that start from now on (SIGHUP's reload); those
        already holding or awaiting a slot finish under the old one."""
        self._slots = asyncio.Semaphore(max(1, limit))

    async def fetch(self, client: RegistryClient, repository: str, layer: Descriptor,
                    emit: Emit) -> StagedLayer:
        """The layer downloaded, verified and extracted (shared with concurrent pulls)."""
        transfer = self._transfers.get(layer.digest)
        if transfer is None:
            transfer = _Transfer()
            self._transfers[layer.digest] = transfer
            transfer.task = asyncio.ensure_future(
                self._run(client, repository, layer, transfer))
            transfer.task.add_done_callback(lambda _: self._transfers.pop(layer.digest, None))
        transfer.listeners.append(emit)
        transfer.users += 1
        assert transfer.task is not None
        try:
            return await asyncio.shield(transfer.task)
        finally:
            transfer.listeners.remove(emit)
            transfer.users -= 1
            if transfer.users == 0 and not transfer.task.done():
                transfer.task.cancel()  # every pull that wanted it went away

    async def _run(self, client: RegistryClient, repository: str, layer: Descriptor,
                   transfer: _Transfer) -> StagedLayer:
        short = layer.short_id
        if self._slots.locked():
            transfer.emit(progress.action(short, "Waiting"))
        async with self._slots:
            path = await self._download(client, repository, layer, transfer)
        try:
            return await self._extract(path, layer, transfer)
        finally:
            path.unlink(missing_ok=True)

    async def _download(self, client: RegistryClient, repository: str, layer: Descriptor,
                        transfer: _Transfer) -> Path:
        short = layer.short_id
        downloads = self._scratch / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        final = downloads / layer.digest.replace(":", "-")
        throttle = progress.Throttle()

        def on_progress(current: int, total: int) -> None:
            if throttle.due(current):
                transfer.emit(progress.progress(short, "Downloading", current, total))

        def on_retry(attempt: int, delay: float, cause: BaseException) -> None:
            asyncio.ensure_future(_count_down(transfer.emit, short, int(delay)))

        await client.fetch_blob(repository, layer.digest, FileSink(final), size=layer.size,
                                urls=layer.urls if layer.foreign else (),
                                on_progress=on_progress, on_retry=on_retry)
        transfer.emit(progress.action(short, "Verifying Checksum"))
        transfer.emit(progress.action(short, "Download complete"))
        return final

    async def _extract(self, path: Path, layer: Descriptor,
                       transfer: _Transfer) -> StagedLayer:
        loop = asyncio.get_running_loop()
        short = layer.short_id

        def report(current: int) -> None:
            loop.call_soon_threadsafe(transfer.emit, progress.progress(
                short, "Extracting", current, layer.size))

        def work() -> StagedLayer:
            with open(path, "rb") as raw:
                return self._stage(cast(BinaryIO, _Counting(raw, report)), path)

        return await asyncio.to_thread(work)


async def _count_down(emit: Emit, short: str, seconds: int) -> None:
    """``Retrying in N seconds``, once a second, as dockerd counts down."""
    for left in range(seconds, 0, -1):
        emit(progress.message(retry_message(left), short))
        await asyncio.sleep(1)


class _Counting(io.RawIOBase):
    """A file read by the extractor, reporting how far it got (dockerd's Extracting bar
    counts the compressed bytes read); the end is reported once."""

    def __init__(self, raw: BinaryIO, report: Callable[[int], None]) -> None:
        self._raw = raw
        self._report = report
        self._done = 0
        self._ended = False
        self._throttle = progress.Throttle()

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buf)  # type: ignore[attr-defined]
        self._done += count
        if count and self._throttle.due(self._done):
            self._report(self._done)
        elif not count and not self._ended:
            self._ended = True
            self._report(self._done)
        return int(count)


def discard(staged: StagedLayer) -> None:
    """A staged layer no pull committed: its scratch directory goes."""
    if not staged.committed_as:
        shutil.rmtree(staged.dir, ignore_errors=True)

