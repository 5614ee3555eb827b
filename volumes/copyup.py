"""Filling a new volume with what the image has at its mount point, as Docker does.

The image's layers (overlay lower dirs, top first) are merged bottom-up, which is what
overlayfs would show: later layers win, a whiteout (0/0 character device) deletes, an
opaque directory (``trusted.overlay.opaque=y``) hides everything below it. Owners,
modes and times are kept, symlinks are copied as links and never followed, so
nothing outside the layers is read. Works without mounting anything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from pydocker.engine.host.inroot import (
    RESOLVE_BENEATH,
    RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS,
    closing_fd,
    openat2,
)

OPAQUE_XATTR = "trusted.overlay.opaque"


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


# The volume may already be mounted in a running container (a named volume shared with
# another one): every write is made relative to a directory fd reached without following
# any symlink (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), with *at() calls that do not follow
# one either, so a link the container plants meanwhile cannot send a write to the host.
_BENEATH = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS


def _dir_fd(volfd: int, rel: str) -> int:
    return openat2(volfd, rel, os.O_RDONLY | os.O_DIRECTORY, 0, _BENEATH)


def _remove(dfd: int, name: str) -> None:
    try:
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dfd)
    else:
        os.unlink(name, dir_fd=dfd)


def _clear(dfd: int) -> None:
    for name in os.listdir(dfd):
        _remove(dfd, name)


def _set_meta(dfd: int, name: str, st: os.stat_result) -> None:
    os.chown(name, st.st_uid, st.st_gid, dir_fd=dfd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        return
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
    try:
        if stat.S_ISLNK(os.fstat(fd).st_mode):
            return  # swapped for a link since we made it: leave it alone
        via = f"/proc/self/fd/{fd}"
        os.chmod(via, stat.S_IMODE(st.st_mode))
        os.utime(via, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(fd)


def _copy_file(src: str, dfd: int, name: str) -> None:
    with open(src, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as fin:
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                      | os.O_CLOEXEC, 0o600, dir_fd=dfd)
        with open(out, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)


def _copy_entry(src: str, dfd: int, name: str, st: os.stat_result) -> bool:
    """Copy one entry (not its children) into the directory ``dfd``; False for what a
    volume cannot hold."""
    if stat.S_ISDIR(st.st_mode):
        try:
            old = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISDIR(old.st_mode):
                os.unlink(name, dir_fd=dfd)
        except FileNotFoundError:
            pass
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o700, dir_fd=dfd)
    elif stat.S_ISLNK(st.st_mode):
        _remove(dfd, name)
        os.symlink(os.readlink(src), name, dir_fd=dfd)
    elif stat.S_ISREG(st.st_mode):
        _remove(dfd, name)
        _copy_file(src, dfd, name)
    elif stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        _remove(dfd, name)
        os.mknod(name, stat.S_IFMT(st.st_mode) | 0o600, st.st_rdev, dir_fd=dfd)
    else:
        return False
    _set_meta(dfd, name, st)
    return True


def _merge_layer(src_root: str, volfd: int) -> list[tuple[str, os.stat_result]]:
    """Lay one layer's tree over the volume; the directories copied, for their times."""
    dirs = []
    for dirpath, dirnames, filenames in os.walk(src_root):
        reldir = os.path.relpath(dirpath, src_root)
        try:
            dfd = _dir_fd(volfd, reldir)
        except OSError:
            dirnames[:] = []  # not a plain directory in the volume (any more): skip below
            continue
        try:
            for name in sorted(dirnames + filenames):
                src = os.path.join(dirpath, name)
                st = os.lstat(src)
                if _is_whiteout(st):
                    _remove(dfd, name)
                    continue
                if stat.S_ISDIR(st.st_mode) and _is_opaque(src):
                    with contextlib.suppress(OSError), \
                            closing_fd(openat2(dfd, name, os.O_RDONLY | os.O_DIRECTORY, 0,
                                             _BENEATH)) as sub:
                        _clear(sub)
                _copy_entry(src, dfd, name, st)
                if stat.S_ISDIR(st.st_mode):
                    dirs.append((os.path.normpath(os.path.join(reldir, name)), st))
        finally:
            os.close(dfd)
    return dirs


def populate(volume_dir: Path, layers_top_first: list[str], path_in_image: str) -> bool:
    """Copy ``path_in_image`` from the image into an empty volume; True if anything was.

    Only a directory at the mount point is copied (a file there, or nothing, leaves the
    volume empty), and the mount point's own owner and mode become the volume root's.
    """
    with closing_fd(os.open(volume_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                          | os.O_CLOEXEC)) as volfd:
        return _populate(volfd, layers_top_first, path_in_image)


def _populate(volfd: int, layers_top_first: list[str], path_in_image: str) -> bool:
    rel = os.path.normpath(path_in_image).lstrip("/")
    top: os.stat_result | None = None
    dirs: list[tuple[str, os.stat_result]] = []
    for layer in reversed(layers_top_first):
        src_root = os.path.join(layer, rel)
        if _path_hidden(layer, rel):
            # A whiteout, file or link at a parent: this layer hides the lower ones and
            # has nothing at the mount point (a link is never followed: it may be absolute).
            _clear(volfd)
            top, dirs = None, []
            continue
        try:
            st = os.lstat(src_root)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if not stat.S_ISDIR(st.st_mode):
            _clear(volfd)  # a whiteout or a file replaces the directory
            top, dirs = None, []
            continue
        if _is_opaque(src_root):
            _clear(volfd)
            dirs = []
        top = st
        dirs.extend(_merge_layer(src_root, volfd))
    if top is None:
        return False
    for rel_dir, st in reversed(dirs):  # children first changed their parents' mtimes
        with contextlib.suppress(OSError), closing_fd(_dir_fd(volfd, rel_dir)) as dfd:
            os.utime(f"/proc/self/fd/{dfd}", ns=(st.st_atime_ns, st.st_mtime_ns))
    via = f"/proc/self/fd/{volfd}"
    os.chown(via, top.st_uid, top.st_gid)
    os.chmod(via, stat.S_IMODE(top.st_mode))
    return bool(os.listdir(volfd))


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
