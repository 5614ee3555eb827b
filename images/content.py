"""Image configs by digest: ``configs/<hex>`` holds exactly the bytes whose sha256 is the
image ID, so what is read back is what was verified on the way in."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.atomic import write_atomic


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_digest(data: bytes, expected: str) -> None:
    """Content from outside (a registry, an archive) is committed only if it hashes to the
    digest it was asked for."""
    got = digest_of(data)
    if got != expected:
        raise InvalidParameter(f"digest mismatch: expected {expected}, got {got}")


class ConfigStore:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()  # one writer per digest: write_atomic's temp name is fixed
        root.mkdir(parents=True, exist_ok=True)

    def path(self, image_id: str) -> Path:
        return self._root / image_id.removeprefix("sha256:")

    def ids(self) -> list[str]:
        """Every stored image ID (temp files of writes in progress start with a dot)."""
        return ["sha256:" + p.name for p in self._root.iterdir() if not p.name.startswith(".")]

    def exists(self, image_id: str) -> bool:
        return self.path(image_id).exists()

    def read(self, image_id: str) -> bytes:
        return self.path(image_id).read_bytes()

    def put(self, raw: bytes, expected: str | None = None) -> str:
        """Store a config (once: the same bytes again are a no-op); returns its digest.
        With ``expected`` (the digest a manifest names), other bytes are refused."""
        if expected is not None:
            verify_digest(raw, expected)
        image_id = digest_of(raw)
        with self._lock:
            path = self.path(image_id)
            if not path.exists():
                write_atomic(path, raw)
        return image_id

    def delete(self, image_id: str) -> None:
        self.path(image_id).unlink()
