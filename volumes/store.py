"""Named volumes with the local driver: ``<root>/<name>/_data`` plus a metadata file.

Local driver options (type/device/o) are kept and applied as a mount inside each
container that uses the volume, so nothing is ever mounted on the host.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
from pathlib import Path
from typing import Any

from pydocker.engine.errors import Conflict, InvalidParameter, NotFound
from pydocker.engine.host.atomic import write_atomic

VALID_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
ANONYMOUS_LABEL = "com.docker.volume.anonymous"


def _now() -> str:
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class VolumeStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def _meta_path(self, name: str) -> Path:
        return self.root / name / "meta.json"

    def mountpoint(self, name: str) -> Path:
        return self.root / name / "_data"

    def exists(self, name: str) -> bool:
        return self._meta_path(name).exists()

    def create(self, name: str | None, driver: str = "local",
               driver_opts: dict[str, str] | None = None,
               labels: dict[str, str] | None = None) -> tuple[dict[str, Any], bool]:
        """(volume, created); an existing name returns the existing volume, as Docker does."""
        anonymous = not name
        name = name or secrets.token_hex(32)
        if not VALID_NAME.match(name):
            raise InvalidParameter(
                f'create {name}: "{name}" includes invalid characters for a local volume name, '
                'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                "directory, use absolute path")
        if driver not in ("", "local"):
            raise NotFound(f'create {name}: error looking up volume plugin {driver}: plugin '
                           f'"{driver}" not found')
        opts = dict(driver_opts or {})
        for key in opts:
            if key not in ("type", "device", "o", "size"):
                raise InvalidParameter(f"create {name}: invalid option: {key!r}")
        with self._lock:
            if self.exists(name):
                return self.get(name), False
            labels = dict(labels or {})
            if anonymous:
                labels.setdefault(ANONYMOUS_LABEL, "")
            meta = {"Name": name, "Driver": "local", "Labels": labels, "Options": opts or None,
                    "CreatedAt": _now()}
            self.mountpoint(name).mkdir(parents=True, mode=0o755)
            write_atomic(self._meta_path(name), json.dumps(meta).encode())
        return self.get(name), True

    def get(self, name: str) -> dict[str, Any]:
        try:
            meta = json.loads(self._meta_path(name).read_bytes())
        except (OSError, ValueError):
            raise NotFound(f"get {name}: no such volume") from None
        return {"CreatedAt": meta["CreatedAt"], "Driver": "local", "Labels": meta["Labels"],
                "Mountpoint": str(self.mountpoint(name)), "Name": name,
                "Options": meta.get("Options"), "Scope": "local"}

    def names(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "meta.json").exists())

    def remove(self, name: str, users: list[str], force: bool = False) -> None:
        if not self.exists(name):
            if force:
                return
            raise NotFound(f"get {name}: no such volume")
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        with self._lock:
            shutil.rmtree(self.root / name)

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
