"""How much disk a container's writable layer holds: docker's SizeRw, and what
``container prune`` reclaims."""

from __future__ import annotations

import os

from .model import Container


def tree_size(root: str) -> int:
    """Bytes of the regular files and symlinks under ``root``, each inode once (hard
    links share their blocks), never following links; 0 when ``root`` is gone."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for top, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:
                continue  # removed while we walked
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def rw_size(c: Container) -> int:
    upper = c.rootfs.get("upper")
    return tree_size(upper) if isinstance(upper, str) else 0
