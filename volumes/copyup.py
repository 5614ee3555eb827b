"""Filling a new volume with what the image has at its mount point, as Docker does.

The image's layers (overlay lower dirs, top first) are merged bottom-up, which is what
overlayfs would show: later layers win, a whiteout (0/0 character device) deletes, an
opaque directory (``trusted.overlay.opaque=y``) hides everything below it. Owners,
modes and times are kept, symlinks are copied as links and never followed, so
nothing outside the layers is read. Works without mounting anything.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

OPAQUE_XATTR = "trusted.overlay.opaque"


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def _clear(directory: str) -> None:
    for name in os.listdir(directory):
        _remove(os.path.join(directory, name))


def _copy_entry(src: str, dst: str, st: os.stat_result) -> bool:
    """Copy one entry (not its children); False for what a volume cannot hold."""
    if stat.S_ISDIR(st.st_mode):
        if os.path.lexists(dst) and not os.path.isdir(dst):
            os.unlink(dst)
        os.makedirs(dst, exist_ok=True)
    elif stat.S_ISLNK(st.st_mode):
        _remove(dst)
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISREG(st.st_mode):
        _remove(dst)
        shutil.copyfile(src, dst, follow_symlinks=False)
    elif stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        _remove(dst)
        os.mknod(dst, st.st_mode, st.st_rdev)
    else:
        return False
    os.lchown(dst, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    return True


def _merge_layer(src_root: str, volume_dir: str) -> list[tuple[str, os.stat_result]]:
    """Lay one layer's tree over the volume; the directories copied, for their times."""
    dirs = []
    for dirpath, dirnames, filenames in os.walk(src_root):
        reldir = os.path.relpath(dirpath, src_root)
        target_dir = os.path.normpath(os.path.join(volume_dir, reldir))
        for name in sorted(dirnames + filenames):
            src = os.path.join(dirpath, name)
            dst = os.path.join(target_dir, name)
            st = os.lstat(src)
            if _is_whiteout(st):
                _remove(dst)
                continue
            if stat.S_ISDIR(st.st_mode) and _is_opaque(src) and os.path.isdir(dst) \
                    and not os.path.islink(dst):
                _clear(dst)
            _copy_entry(src, dst, st)
            if stat.S_ISDIR(st.st_mode):
                dirs.append((dst, st))
    return dirs


def populate(volume_dir: Path, layers_top_first: list[str], path_in_image: str) -> bool:
    """Copy ``path_in_image`` from the image into an empty volume; True if anything was.

    Only a directory at the mount point is copied (a file there, or nothing, leaves the
    volume empty), and the mount point's own owner and mode become the volume root's.
    """
    rel = os.path.normpath(path_in_image).lstrip("/")
    root = str(volume_dir)
    top: os.stat_result | None = None
    dirs: list[tuple[str, os.stat_result]] = []
    for layer in reversed(layers_top_first):
        src_root = os.path.join(layer, rel)
        if _path_hidden(layer, rel):
            _clear(root)
            top, dirs = None, []
        try:
            st = os.lstat(src_root)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if not stat.S_ISDIR(st.st_mode):
            _clear(root)  # a whiteout or a file replaces the directory
            top, dirs = None, []
            continue
        if _is_opaque(src_root):
            _clear(root)
            dirs = []
        top = st
        dirs.extend(_merge_layer(src_root, root))
    if top is None:
        return False
    for path, st in reversed(dirs):  # children first changed their parents' mtimes
        if os.path.isdir(path) and not os.path.islink(path):
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.chown(root, top.st_uid, top.st_gid)
    os.chmod(root, stat.S_IMODE(top.st_mode))
    return bool(os.listdir(root))


def _path_hidden(layer: str, rel: str) -> bool:
    """A whiteout or a non-directory at one of the mount point's parents in this layer."""
    parts = rel.split("/")
    current = layer
    for part in parts[:-1]:
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return False
        if not stat.S_ISDIR(st.st_mode):
            return True
        if _is_opaque(current):
            return True
    return False
