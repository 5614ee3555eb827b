"""Crash-safe file replacement: temp file, fsync, rename (the engine's one way to persist).

Lives here, stdlib-only, because the shim (inside the ``-I -S`` zygote) writes its exit
record with it; ``pydocker.engine.host.atomic`` re-exports it for the rest of the engine.
"""

from __future__ import annotations

import os


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Readers see the old content or the new, never a torn file, even after a crash."""
    head, name = os.path.split(os.fspath(path))
    tmp = os.path.join(head, f".{name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:  # a full disk: the old content stays, and no torn temp file beside it
            os.unlink(tmp)
        except OSError:
            pass
        raise
