"""A container's init layer: the mount points the engine itself needs, kept out of the
writable layer as dockerd keeps them (its ``<id>-init`` layer), so ``docker diff`` and
``docker commit`` never show /etc/hosts, /etc/resolv.conf, /proc, /sys or /dev.

It is a plain directory, the topmost lower layer of the container's overlay: what the
image already has is left to the image, what it lacks is made here. A directory made here
shadows the image's own in the merged view, so it copies the image's mode, owner and times.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# (path, is a directory): dockerd's initlayer.Setup list, less what this engine mounts
# nothing on (/dev/console, /etc/mtab, /.dockerenv).
MOUNT_POINTS: tuple[tuple[str, bool], ...] = (
    ("dev", True), ("dev/pts", True), ("dev/shm", True), ("proc", True), ("sys", True),
    ("etc", True), ("etc/resolv.conf", False), ("etc/hosts", False), ("etc/hostname", False),
)


def _in_image(lowers: list[str], rel: str) -> os.stat_result | None:
    """The path as the image shows it (the topmost layer holding it); None if absent or
    whited out."""
    for layer in lowers:
        try:
            st = os.lstat(os.path.join(layer, rel))
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:  # an overlay whiteout
            return None
        return st
    return None


def create(init: Path, lowers: list[str]) -> None:
    """Make the init layer at ``init`` for an image whose layers are ``lowers`` (top first)."""
    init.mkdir(parents=True, exist_ok=True)
    shadowing: list[tuple[Path, os.stat_result]] = []
    for rel, is_dir in MOUNT_POINTS:
        parent = os.path.dirname(rel)
        if parent and not (init / parent).is_dir():
            continue  # the image has something else there (a symlink): leave it be
        found = _in_image(lowers, rel)
        target = init / rel
        if found is not None and not stat.S_ISDIR(found.st_mode):
            continue  # a file, or a link: the runtime mounts over what the image has
        if found is not None:  # shadows the image's directory: must look the same
            target.mkdir(exist_ok=True)
            os.chown(target, found.st_uid, found.st_gid)
            os.chmod(target, stat.S_IMODE(found.st_mode))
            shadowing.append((target, found))
        elif is_dir:
            target.mkdir(mode=0o755, exist_ok=True)
        else:
            target.touch(mode=0o644)
    for target, found in reversed(shadowing):  # last: making children changed the times
        os.utime(target, ns=(found.st_atime_ns, found.st_mtime_ns))
