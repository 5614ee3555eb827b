"""COPY and ADD as a layer: the sources' entries, placed as the classic builder places them.

A directory source copies its contents; several sources or a destination ending in ``/``
make the destination a directory; ADD of a local tar (plain or compressed) unpacks it.
Missing parent directories are created (0755, the ``--chown`` owner); existing ones are
written with the image's own mode and owner, so the layer changes nothing but the copy.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass

from pydocker.images.archive import clean_name
from pydocker.images.compression import decompressing

from .context import Context, CopySource, tree_of

# (path in the image) -> its stat there, or None.
LowerStat = Callable[[str], os.stat_result | None]


@dataclass(frozen=True)
class CopyPlan:
    sources: list[CopySource]
    dest: str                     # absolute, cleaned
    dest_is_dir: bool
    owner: tuple[int, int] | None  # --chown; None = 0:0 (root), archives keep theirs
    unpack: bool                   # ADD: local archives are extracted


def is_archive(path: str) -> bool:
    try:
        with open(path, "rb") as f, tarfile.open(fileobj=decompressing(f), mode="r|"):
            return True
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return False


def write_copy(tar: tarfile.TarFile, plan: CopyPlan, ctx: Context, lower: LowerStat) -> None:
    done: set[str] = set()
    for src in plan.sources:
        if src.is_dir:
            _parents(tar, plan.dest, plan, lower, done, include_self=True)
            for path, inner in tree_of(src, ctx.ignore)[1:]:
                _add(tar, path, posixpath.join(plan.dest, inner), plan.owner)
        elif plan.unpack and is_archive(src.real):
            _parents(tar, plan.dest, plan, lower, done, include_self=True)
            _unpack(tar, src.real, plan.dest)
        else:
            target = plan.dest
            if plan.dest_is_dir:
                target = posixpath.join(plan.dest, posixpath.basename(src.rel))
            _parents(tar, posixpath.dirname(target), plan, lower, done, include_self=True)
            _add(tar, src.real, target, plan.owner)


def _parents(tar: tarfile.TarFile, directory: str, plan: CopyPlan, lower: LowerStat,
             done: set[str], include_self: bool) -> None:
    parts = [p for p in directory.split("/") if p]
    for i in range(1, len(parts) + 1):
        path = "/".join(parts[:i])
        if path in done:
            continue
        done.add(path)
        info = tarfile.TarInfo(path)
        info.type = tarfile.DIRTYPE
        st = lower(path)
        if st is not None and stat.S_ISDIR(st.st_mode):
            info.mode, info.uid, info.gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
            info.mtime = int(st.st_mtime)
        elif st is not None:
            continue  # a symlink (/var/run -> /run ...): the layer must not replace it
        else:
            info.mode = 0o755
            info.uid, info.gid = plan.owner or (0, 0)
        tar.addfile(info)


def _add(tar: tarfile.TarFile, path: str, name: str, owner: tuple[int, int] | None) -> None:
    st = os.lstat(path)
    info = tarfile.TarInfo(name.lstrip("/"))
    info.mode, info.mtime = stat.S_IMODE(st.st_mode), int(st.st_mtime)
    info.uid, info.gid = owner or (0, 0)
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif stat.S_ISLNK(st.st_mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
        tar.addfile(info)
    elif stat.S_ISREG(st.st_mode):
        info.size = st.st_size
        with open(path, "rb") as f:
            tar.addfile(info, f)


def _unpack(tar: tarfile.TarFile, archive: str, dest: str) -> None:
    """The archive's members re-rooted at ``dest``; ``..`` names are refused."""
    with open(archive, "rb") as f, tarfile.open(fileobj=decompressing(f), mode="r|",
                                                encoding="utf-8", errors="surrogateescape") as src:
        for member in src:
            parts = clean_name(member.name)
            if not parts:
                continue
            member.name = posixpath.join(dest, *parts).lstrip("/")
            if member.islnk():
                member.linkname = posixpath.join(dest, *clean_name(member.linkname)).lstrip("/")
            data = src.extractfile(member) if member.isreg() else None
            tar.addfile(member, data)
