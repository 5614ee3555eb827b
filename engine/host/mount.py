"""mount(2), umount2(2) and their flags for the engine (local volumes with driver options).

One ctypes wrapper for the whole project: it lives in ``engine/runtime/syscalls.py``
because the container's processes, which run in a ``python -I -S`` zygote that cannot
import ``engine.host``, make the same calls. Failures are ``OSError`` with the errno and
what was mounted where.
"""

from __future__ import annotations

from pydocker.engine.runtime.syscalls import (
    MNT_DETACH,
    MS_BIND,
    MS_DIRSYNC,
    MS_MANDLOCK,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_STRICTATIME,
    MS_SYNCHRONOUS,
    MS_UNBINDABLE,
    mount,
    umount2,
)

PROPAGATION_FLAGS = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE

__all__ = [
    "MNT_DETACH", "MS_BIND", "MS_DIRSYNC", "MS_MANDLOCK", "MS_NOATIME", "MS_NODEV",
    "MS_NODIRATIME", "MS_NOEXEC", "MS_NOSUID", "MS_PRIVATE", "MS_RDONLY", "MS_REC",
    "MS_RELATIME", "MS_REMOUNT", "MS_SHARED", "MS_SLAVE", "MS_STRICTATIME", "MS_SYNCHRONOUS",
    "MS_UNBINDABLE", "PROPAGATION_FLAGS", "mount", "umount2",
]
