"""Which registry blob holds each layer (dockerd's v2metadata): per diff ID, the compressed
digests seen in which repositories, from pulls and pushes.

A push asks it first: a blob known in the target repository is checked with a HEAD
(``Layer already exists``), one known in another repository of the same registry is
mounted (``Mounted from …``); only a layer with neither is compressed and uploaded.
Stored as ``distribution.json`` beside the image store, rewritten atomically.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from pydocker.engine.host.atomic import write_atomic

from ..registry.manifest import DOCKER_LAYER


@dataclass(frozen=True)
class BlobRecord:
    digest: str          # the compressed blob's digest
    repository: str      # "127.0.0.1:5000/library/x": registry domain and path
    size: int
    media_type: str = DOCKER_LAYER

    @property
    def domain(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def path(self) -> str:
        return self.repository.split("/", 1)[1]


class BlobMetadata:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._by_diff: dict[str, list[BlobRecord]] = {}
        if path.exists():
            raw = json.loads(path.read_bytes())
            self._by_diff = {diff: [BlobRecord(**r) for r in records]
                             for diff, records in raw.items()}

    def add(self, diff_id: str, record: BlobRecord) -> None:
        with self._lock:
            records = [r for r in self._by_diff.get(diff_id, []) if r != record]
            self._by_diff[diff_id] = [record, *records][:50]  # the newest first, bounded
            self._save()

    def remove(self, diff_id: str, record: BlobRecord) -> None:
        """A blob the registry no longer has: forget it so the next push uploads (also
        after a restart)."""
        with self._lock:
            self._by_diff[diff_id] = [r for r in self._by_diff.get(diff_id, []) if r != record]
            self._save()

    def _save(self) -> None:
        write_atomic(self._path, json.dumps(
            {d: [asdict(r) for r in rs] for d, rs in self._by_diff.items()}).encode())

    def in_registry(self, diff_id: str, domain: str) -> list[BlobRecord]:
        with self._lock:
            return [r for r in self._by_diff.get(diff_id, []) if r.domain == domain]
