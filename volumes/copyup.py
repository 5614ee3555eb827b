"""Filling a new volume with what the image has at its mount point, as Docker does.

The image's layers are merged bottom-up (later layers win, whiteouts delete), owners,
modes and times kept, symlinks copied as links.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path


def _copy_entry(src: str, dst: str, st: os.stat_result) -> None:
    if stat.S_ISDIR(st.st_mode):
        os.makedirs(dst, exist_ok=True)
    elif stat.S_ISLNK(st.st_mode):
        if os.path.lexists(dst):
            os.unlink(dst)
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISREG(st.st_mode):
        if os.path.lexists(dst) and not os.path.isdir(dst):
            os.unlink(dst)
        shutil.copyfile(src, dst, follow_symlinks=False)
    else:
        return
    os.lchown(dst, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def populate(volume_dir: Path, layers_top_first: list[str], path_in_image: str) -> bool:
    """Copy ``path_in_image`` from the image into an empty volume; True if anything was."""
    rel = path_in_image.lstrip("/")
    copied = False
    for layer in reversed(layers_top_first):
        src_root = os.path.join(layer, rel)
        try:
            top = os.lstat(src_root)
        except FileNotFoundError:
            continue
        if not stat.S_ISDIR(top.st_mode):
            continue  # a file or a whiteout at the mount point: nothing to copy
        for dirpath, dirnames, filenames in os.walk(src_root):
            reldir = os.path.relpath(dirpath, src_root)
            target_dir = os.path.normpath(os.path.join(volume_dir, reldir))
            for name in dirnames + filenames:
                src = os.path.join(dirpath, name)
                dst = os.path.join(target_dir, name)
                st = os.lstat(src)
                if _is_whiteout(st):
                    if os.path.isdir(dst) and not os.path.islink(dst):
                        shutil.rmtree(dst)
                    elif os.path.lexists(dst):
                        os.unlink(dst)
                    continue
                _copy_entry(src, dst, st)
                copied = True
        # The mount point's own owner and mode become the volume root's.
        os.chown(volume_dir, top.st_uid, top.st_gid)
        os.chmod(volume_dir, stat.S_IMODE(top.st_mode))
    return copied
