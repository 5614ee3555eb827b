"""Named volumes with the local driver: ``<root>/<name>/_data`` plus ``<root>/<name>/meta.json``.

The metadata (driver options, labels, creation time) is written atomically, so a
daemon killed mid-create leaves either no volume or a whole one. A directory without
``meta.json`` is not a volume. Volumes with driver options (type/device/o) are
mounted on ``_data`` by :mod:`pydocker.volumes.hostmount` while containers use them;
removal never deletes through such a mount.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from pydocker.engine.errors import Conflict, InvalidParameter, NotFound, SystemFailure
from pydocker.engine.host.atomic import write_atomic

from . import hostmount

VALID_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
VALID_OPTS = ("type", "o", "device", "size")
# moby volume/local/local_unix.go mandatoryOpts, checked in this order.
MANDATORY_OPTS = (("device", ("type",)), ("type", ("device",)), ("o", ("device", "type")))


def _go_quote(text: str) -> str:
    return json.dumps(text)


def validate_name(name: str) -> None:
    """Docker's local driver rule; the message is the one ``docker volume create`` prints."""
    if len(name) == 1:
        raise InvalidParameter(f"create {name}: volume name is too short, names should be "
                               "at least two alphanumeric characters")
    if not VALID_NAME.match(name):
        raise InvalidParameter(
            f"create {name}: {_go_quote(name)} includes invalid characters for a local volume "
            'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a '
            "host directory, use absolute path")


def validate_opts(name: str, opts: dict[str, str]) -> None:
    for key in opts:
        if key not in VALID_OPTS:
            raise InvalidParameter(f"create {name}: invalid option: {_go_quote(key)}")
    if opts.get("size"):
        raise InvalidParameter(f"create {name}: quota size requested but no quota support")
    for key, required in MANDATORY_OPTS:
        if key in opts:
            for other in required:
                if other not in opts:
                    raise InvalidParameter(
                        f"create {name}: missing required option: {_go_quote(other)}")


def needs_mount(opts: dict[str, str] | None) -> bool:
    return bool(opts and (opts.get("type") or opts.get("device")))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class VolumeStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o701)
        self._lock = threading.Lock()
        self._sweep_incomplete()

    def _sweep_incomplete(self) -> None:
        """What a daemon killed mid-create or mid-remove left: a directory without
        ``meta.json`` (with, maybe, the metadata's temp file) is no volume, and no client
        ever saw it as one. Never through a mount (a volume's ``_data`` with options)."""
        for entry in self.root.iterdir():
            if not VALID_NAME.match(entry.name) or (entry / "meta.json").exists():
                continue
            if entry.is_dir() and not hostmount.is_mounted(entry / "_data"):
                shutil.rmtree(entry, ignore_errors=True)

    def _meta_path(self, name: str) -> Path:
        return self.root / name / "meta.json"

    def mountpoint(self, name: str) -> Path:
        return self.root / name / "_data"

    def exists(self, name: str) -> bool:
        return VALID_NAME.match(name) is not None and self._meta_path(name).exists()

    def create(self, name: str | None, driver: str = "local",
               driver_opts: dict[str, str] | None = None,
               labels: dict[str, str] | None = None) -> tuple[dict[str, Any], bool]:
        """(volume, created); an existing name returns the existing volume, as Docker does.

        ``driver_opts`` is kept as given (None or a dict): Docker answers ``Options``
        with what the creator sent.
        """
        anonymous = not name
        name = name or secrets.token_hex(32)
        validate_name(name)
        if driver not in ("", "local"):
            raise NotFound(f"create {name}: error looking up volume plugin {driver}: plugin "
                           f'"{driver}" not found')
        opts = {str(k): str(v) for k, v in driver_opts.items()} \
            if driver_opts is not None else None
        validate_opts(name, opts or {})
        with self._lock:
            if self.exists(name):
                return self.get(name), False
            labels = dict(labels or {})
            if anonymous:
                labels.setdefault(ANONYMOUS_LABEL, "")
            meta = {"Name": name, "Driver": "local", "Labels": labels, "Options": opts,
                    "CreatedAt": _now()}
            try:
                (self.root / name).mkdir(mode=0o701, exist_ok=True)
                self.mountpoint(name).mkdir(mode=0o755, exist_ok=True)
                write_atomic(self._meta_path(name), json.dumps(meta).encode())
            except OSError as exc:
                raise SystemFailure(f"create {name}: {exc}") from None
        return self.get(name), True

    def get(self, name: str) -> dict[str, Any]:
        if not VALID_NAME.match(name):  # never turn a request into a path outside the root
            raise NotFound(f"get {name}: no such volume")
        try:
            meta = json.loads(self._meta_path(name).read_bytes())
        except (OSError, ValueError):
            raise NotFound(f"get {name}: no such volume") from None
        return {"CreatedAt": meta["CreatedAt"], "Driver": "local", "Labels": meta["Labels"],
                "Mountpoint": str(self.mountpoint(name)), "Name": name,
                "Options": meta.get("Options"), "Scope": "local"}

    def options(self, name: str) -> dict[str, str]:
        return dict(self.get(name).get("Options") or {})

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir()
                      if VALID_NAME.match(p.name) and (p / "meta.json").exists())

    def remove(self, name: str, users: list[str], force: bool = False) -> None:
        if not VALID_NAME.match(name):  # ../ and friends: not a name, even with force
            raise NotFound(f"get {name}: no such volume")
        if not self.exists(name):
            if force:
                return
            raise NotFound(f"get {name}: no such volume")
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        with self._lock:
            data = self.mountpoint(name)
            if hostmount.is_mounted(data):
                try:
                    hostmount.unmount(str(data))
                except OSError as exc:
                    raise SystemFailure(f"remove {name}: {exc}") from None
                if hostmount.is_mounted(data):
                    raise SystemFailure(f"remove {name}: volume has active mounts")
            # Drop the metadata first: a crash half-way leaves a non-volume, not a
            # volume with half its data.
            try:
                self._meta_path(name).unlink()
            except FileNotFoundError:
                pass  # removed meanwhile: the result is the same
            except OSError as exc:
                raise SystemFailure(f"remove {name}: {exc}") from None
            shutil.rmtree(self.root / name, ignore_errors=True)

    def size(self, name: str) -> int:
        total = 0
        for dirpath, _, files in os.walk(self.mountpoint(name)):
            for f in files:
                try:
                    total += os.lstat(os.path.join(dirpath, f)).st_size
                except OSError:
                    pass
        return total

    def is_empty(self, name: str) -> bool:
        return not any(self.mountpoint(name).iterdir())
