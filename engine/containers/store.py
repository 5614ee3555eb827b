"""Container records in memory, persisted one JSON file per container.

Each write is atomic (tmp, fsync, rename) so a daemon killed at any moment restarts
into a consistent view.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from pydocker.engine.errors import Conflict, NotFound
from pydocker.engine.host.atomic import write_atomic
from pydocker.engine.timeutil import parse_rfc3339_ns

from . import names
from .model import Container

log = logging.getLogger(__name__)

RECORD = "config.v2.json"


class ContainerStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_id: dict[str, Container] = {}
        self._by_name: dict[str, str] = {}

    def load(self) -> list[str]:
        """Read every record; returns the IDs whose record was unreadable.

        Such a directory still holds a container (rw layer, logs, perhaps a shim), so it
        comes back dead, as Docker names containers it cannot bring back: listed,
        inspectable, removable with ``docker rm``, instead of vanishing from the API while
        its files stay on disk."""
        self.root.mkdir(parents=True, exist_ok=True)
        dead = []
        for entry in sorted(self.root.iterdir()):
            if not entry.is_dir():
                continue  # every container is a directory; a stray file is none
            try:
                self.add(_read(entry))
            except UnreadableRecord as exc:
                log.error("container %s: %s; it stays dead until removed", entry.name, exc)
                dead.append(Container.dead(entry.name, str(exc), _salvage(exc.record)))
        for c in dead:  # after the readable ones, whose names they must not take
            if c.name in self._by_name:
                c.name = c.id
            self.add(c)
        return [c.id for c in dead]

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
        try:
            self.reserve_name(new, c.id)
        except Conflict as exc:  # dockerd's rename wraps the reservation's refusal
            raise Conflict(f"Error when allocating new name: {exc}") from None
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


class UnreadableRecord(Exception):
    """A container directory whose record does not make a Container; ``record`` is what
    could be parsed of it (for salvage), or None."""

    def __init__(self, reason: str, record: object = None) -> None:
        super().__init__(f"unreadable state file {RECORD}: {reason}")
        self.record = record


def _read(entry: Path) -> Container:
    try:
        record = json.loads((entry / RECORD).read_bytes())
    except OSError as exc:
        raise UnreadableRecord(exc.strerror or str(exc)) from None
    except ValueError as exc:  # truncated, not JSON, not UTF-8
        raise UnreadableRecord(str(exc)) from None
    if not isinstance(record, dict):
        raise UnreadableRecord("not a JSON object")
    try:
        c = Container.from_record(record)
    except (TypeError, ValueError) as exc:
        raise UnreadableRecord(str(exc), record) from None
    if c.id != entry.name:  # a copied directory: keyed by one ID, stored under another
        raise UnreadableRecord(f"it is the record of container {c.id}", record)
    return c


def _salvage(record: object) -> dict[str, Any]:
    """What a record that does not load can still tell, field by field: name, image,
    config and creation time, each only if it has the shape the views rely on."""
    if not isinstance(record, dict):
        return {}
    out: dict[str, Any] = {}
    name = record.get("name")
    if isinstance(name, str) and names.VALID_NAME.match(name) and not name.startswith("/"):
        out["name"] = name
    if isinstance(record.get("image_id"), str):
        out["image_id"] = record["image_id"]
    if isinstance(record.get("config"), dict):
        out["config"] = record["config"]
    if isinstance(record.get("created"), str) and _parses(record["created"]):
        out["created"] = record["created"]
    return out


def _parses(timestamp: str) -> bool:
    try:
        parse_rfc3339_ns(timestamp)
    except ValueError:
        return False
    return True
