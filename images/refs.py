"""Names of images: ``repositories.json`` maps each full reference (``docker.io/library/
busybox:latest``, or ``…@sha256:…`` for a pulled digest) to an image ID, as
``{"refs": {ref: image_id}}``, rewritten atomically on every change."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pydocker.engine.host.atomic import write_atomic

from . import reference


class ReferenceStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._refs: dict[str, str] = {}
        if path.exists():
            self._refs = json.loads(path.read_bytes()).get("refs", {})

    def _save(self) -> None:
        write_atomic(self._path, json.dumps({"refs": self._refs}, indent=1).encode())

    def target(self, ref: str) -> str | None:
        """The image a full reference names, if any."""
        return self._refs.get(ref)

    def is_tagged(self, ref: str) -> bool:
        return ref in self._refs

    def set(self, ref: str, image_id: str) -> None:
        with self._lock:
            self._refs[ref] = image_id
            self._save()

    def pop(self, ref: str) -> str:
        """Drop a full reference; KeyError if it names nothing."""
        with self._lock:
            image_id = self._refs.pop(ref)
            self._save()
        return image_id

    def all_refs(self) -> list[str]:
        with self._lock:
            return list(self._refs)

    def refs_of(self, image_id: str) -> list[str]:
        with self._lock:
            return [r for r, i in self._refs.items() if i == image_id]

    def names_of(self, image_id: str) -> tuple[list[str], list[str]]:
        """An image's (RepoTags, RepoDigests), in the familiar form clients show."""
        tags: list[str] = []
        digests: list[str] = []
        for ref in self.refs_of(image_id):
            parsed = reference.parse(ref)
            (digests if parsed.digest else tags).append(parsed.familiar())
        return tags, digests
