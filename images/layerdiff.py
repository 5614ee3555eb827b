"""A container's filesystem from its layers, without mounting anything on the host:
``docker diff`` (changes in the upper dir), ``docker commit`` (the upper dir as a layer
tar, overlay whiteouts turned back into ``.wh.`` entries) and ``docker export`` (the
merged view: upper over lowers, whiteouts hiding, opaque directories cutting)."""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Collection
from typing import Any, BinaryIO

from .archive import OPAQUE, WHITEOUT_PREFIX

KIND_MODIFIED, KIND_ADDED, KIND_DELETED = 0, 1, 2


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _in_lowers(rel: str, lowers: list[str]) -> bool:
    return any(os.path.lexists(os.path.join(layer, rel)) for layer in lowers)


def changes(upper: str, lowers: list[str]) -> list[dict[str, Any]]:
    out = []
    for dirpath, dirnames, filenames in os.walk(upper):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, upper)
            st = os.lstat(path)
            if _is_whiteout(st):
                kind = KIND_DELETED
            elif _in_lowers(rel, lowers):
                kind = KIND_MODIFIED
            else:
                kind = KIND_ADDED
            out.append({"Path": "/" + rel, "Kind": kind})
    return out


def _tarinfo(tar: tarfile.TarFile, path: str, arcname: str) -> tarfile.TarInfo:
    info = tar.gettarinfo(path, arcname)
    info.uname = info.gname = ""
    return info


def _add(tar: tarfile.TarFile, path: str, arcname: str) -> None:
    _write(tar, _tarinfo(tar, path, arcname), path)


def _write(tar: tarfile.TarFile, info: tarfile.TarInfo, path: str | None) -> None:
    """One entry; a regular file's content read from ``path``."""
    if path is not None and info.isreg():
        with open(path, "rb") as f:
            tar.addfile(info, f)
    else:
        tar.addfile(info)


def upper_tar(upper: str, out: BinaryIO, leave_out: Collection[str] = ()) -> int:
    """The writable layer as an OCI/Docker layer tar; how many entries it holds.

    ``leave_out``: paths (``etc/hosts``) kept out of it; the directory holding one is
    written only if something else under it is (a RUN that touched nothing else in /etc
    adds no /etc)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        entries = _Entries(tar, leave_out)
        for dirpath, dirnames, filenames in os.walk(upper):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, upper)
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                rel = os.path.normpath(os.path.join(rel_dir, name))
                st = os.lstat(path)
                if _is_whiteout(st):
                    parent = os.path.dirname(rel)
                    entries.add(tarfile.TarInfo(os.path.join(parent, WHITEOUT_PREFIX + name)))
                    continue
                entries.add(_tarinfo(tar, path, rel), path)
                if stat.S_ISDIR(st.st_mode) and _is_opaque(path):
                    entries.add(tarfile.TarInfo(os.path.join(rel, OPAQUE)))
        return entries.count


class _Entries:
    """Writes a layer's entries, leaving some out and holding back their directories until
    something else under them comes."""

    def __init__(self, tar: tarfile.TarFile, leave_out: Collection[str]) -> None:
        self._tar = tar
        self._leave_out = set(leave_out)
        self._holders = {os.path.dirname(p) for p in self._leave_out} - {""}
        self._held: dict[str, tarfile.TarInfo] = {}
        self.count = 0

    def add(self, info: tarfile.TarInfo, path: str | None = None) -> None:
        name = info.name.strip("/")
        if name in self._leave_out:
            return
        if name in self._holders and info.isdir():
            self._held[name] = info
            return
        for held in [h for h in self._held if name.startswith(h + "/")]:
            self._write(self._held.pop(held), None)
        self._write(info, path)

    def _write(self, info: tarfile.TarInfo, path: str | None) -> None:
        _write(self._tar, info, path)
        self.count += 1


def merged_tar(layers_top_first: list[str], out: BinaryIO) -> None:
    """The filesystem a container sees, as one tar (docker export)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _walk(tar, "", list(layers_top_first))


def _walk(tar: tarfile.TarFile, rel: str, layers: list[str]) -> None:
    names: set[str] = set()
    for layer in layers:
        try:
            names.update(os.listdir(os.path.join(layer, rel)))
        except OSError:
            continue
    for name in sorted(names):
        child = os.path.join(rel, name) if rel else name
        sub: list[str] = []
        top: str | None = None
        for layer in layers:
            path = os.path.join(layer, child)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if top is None:
                if _is_whiteout(st):
                    break
                top = path
            if not stat.S_ISDIR(st.st_mode):
                break
            sub.append(layer)
            if _is_opaque(path):
                break
        if top is None:
            continue
        _add(tar, top, child)
        if sub and os.path.isdir(top) and not os.path.islink(top):
            _walk(tar, child, sub)


