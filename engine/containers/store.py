"""Container records in memory, persisted one JSON file per container.

Each write is atomic (tmp, fsync, rename) so a daemon killed at any moment restarts
into a consistent view.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from pydocker.engine.errors import Conflict, NotFound
from pydocker.engine.host.atomic import write_atomic

from .model import Container

log = logging.getLogger(__name__)

RECORD = "config.v2.json"


class ContainerStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_id: dict[str, Container] = {}
        self._by_name: dict[str, str] = {}

    def load(self) -> list[str]:
        """Read every record; returns the IDs whose record was unreadable."""
        self.root.mkdir(parents=True, exist_ok=True)
        broken = []
        for entry in self.root.iterdir():
            try:
                record = json.loads((entry / RECORD).read_bytes())
                self.add(Container.from_record(record))
            except (OSError, ValueError, TypeError) as exc:
                log.error("container %s: unreadable state: %s", entry.name, exc)
                broken.append(entry.name)
        return broken

    def dir(self, container_id: str) -> Path:
        return self.root / container_id

    def add(self, c: Container) -> None:
        self._by_id[c.id] = c
        self._by_name[c.name] = c.id

    def save(self, c: Container) -> None:
        d = self.dir(c.id)
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / RECORD, json.dumps(c.to_record()).encode())

    def remove(self, c: Container) -> None:
        self._by_id.pop(c.id, None)
        if self._by_name.get(c.name) == c.id:
            del self._by_name[c.name]
        shutil.rmtree(self.dir(c.id), ignore_errors=True)

    def rename(self, c: Container, new: str) -> None:
        self.reserve_name(new, c.id)
        self._by_name.pop(c.name, None)
        c.name = new
        self._by_name[new] = c.id

    def reserve_name(self, name: str, container_id: str) -> None:
        owner = self._by_name.get(name)
        if owner is not None and owner != container_id:
            raise Conflict(
                f'Conflict. The container name "/{name}" is already in use by container '
                f'"{owner}". You have to remove (or rename) that container to be able to '
                "reuse that name.")

    def names(self) -> set[str]:
        return set(self._by_name)

    def all(self) -> list[Container]:
        return list(self._by_id.values())

    def get(self, ref: str) -> Container:
        """By full ID, name (with or without '/'), or unique ID prefix — Docker's order."""
        if ref in self._by_id:
            return self._by_id[ref]
        name = ref.lstrip("/")
        if name in self._by_name:
            return self._by_id[self._by_name[name]]
        if ref:
            matches = [c for cid, c in self._by_id.items() if cid.startswith(ref)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise NotFound(f"No such container: {ref}")  # ambiguous prefix
        raise NotFound(f"No such container: {ref}")

    def find(self, ref: str) -> Container | None:
        try:
            return self.get(ref)
        except NotFound:
            return None
