"""Tar streams out of and into a container's root, walking directory fds only.

Every name is opened relative to the fd of its parent directory with ``O_NOFOLLOW``
(or resolved from the root with ``RESOLVE_IN_ROOT``), never as a host path: a container
that renames a directory and puts a symlink to ``/`` in its place while we walk can only
move us elsewhere inside its own root (CVE-2018-15664).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from pydocker.engine.host.inroot import (
    RESOLVE_NO_SYMLINKS,
    RESOLVE_NO_XDEV,
    closing_fd,
    makedirs_in_root,
    open_in_root,
    openat2,
)

COPY_BUFFER = 1 << 20
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeMember(ValueError):
    """A tar member that would land outside the destination, or over what it must not."""


# ---------------------------------------------------------------- writing (GET, export)

class _Exactly:
    """A file's bytes cut or zero-padded to the size already written in its header, so a
    file the container grows or truncates meanwhile cannot break the stream."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.left = fd, size

    def read(self, n: int = COPY_BUFFER) -> bytes:
        n = min(n, self.left)
        if n <= 0:
            return b""
        data = os.read(self.fd, n) or b"\0" * n
        self.left -= len(data)
        return data


@dataclass(frozen=True)
class OwnerNames:
    """The user and group names a tar header carries beside the ids. dockerd makes the
    tar chrooted in the container, where Go's archive/tar looks the ids up in the
    container's /etc/passwd and /etc/group: a name only for an id listed there."""
    users: Mapping[str, str] = field(default_factory=dict)   # id (as written) -> name
    groups: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def in_root(cls, rootfd: int) -> OwnerNames:
        return cls(_id_names(rootfd, "/etc/passwd", 6), _id_names(rootfd, "/etc/group", 4))


def _id_names(rootfd: int, path: str, fields: int) -> dict[str, str]:
    """id -> name from a passwd or group file in the root, the first line of an id
    winning, with the lines Go's os/user skips skipped (too few fields, NIS +/-)."""
    try:
        with closing_fd(open_in_root(rootfd, path, os.O_RDONLY | os.O_NONBLOCK)) as fd, \
                open(fd, encoding="utf-8", errors="replace", closefd=False) as f:
            text = f.read(1 << 20)
    except OSError:
        return {}  # none (or not a file): no names, as with dockerd
    names: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(":")
        if line.startswith("#") or len(parts) < fields or parts[0][:1] in ("", "+", "-"):
            continue
        names.setdefault(parts[2], parts[0])
    return names


class TarWriter:
    def __init__(self, out: BinaryIO, *, stay_on_mount: bool = False,
                 names: OwnerNames | None = None) -> None:
        self.tar = tarfile.open(  # noqa: SIM115 - closed by close(), after the walk
            fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self.stay_on_mount = stay_on_mount  # export: mounts inside (proc, volumes) are not ours
        self.links: dict[tuple[int, int], str] = {}
        self.names = names or OwnerNames()

    def close(self) -> None:
        self.tar.close()

    def add(self, fd: int, arcname: str) -> None:
        """The object ``fd`` (an ``O_PATH`` fd, possibly of a symlink) and, for a directory,
        all below it. Header and content come from that one inode: a rename between a
        stat and an open cannot substitute another file."""
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            with closing_fd(_reopen(fd, _DIR & ~os.O_NOFOLLOW)) as dfd:
                self._add_dir(dfd, st, arcname)
            return
        info = self._info(st, arcname)
        if stat.S_ISREG(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.links:
                info.type, info.linkname = tarfile.LNKTYPE, self.links[key]
                self.tar.addfile(info)
                return
            if st.st_nlink > 1:
                self.links[key] = arcname
            with closing_fd(_reopen(fd, os.O_RDONLY | os.O_NONBLOCK)) as rfd:
                info.size = st.st_size
                self.tar.addfile(info, _Exactly(rfd, st.st_size))
            return
        if stat.S_ISLNK(st.st_mode):
            info.type, info.linkname = tarfile.SYMTYPE, os.readlink("", dir_fd=fd)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISFIFO(st.st_mode):
            info.type = tarfile.FIFOTYPE
        else:
            return  # sockets: tar has no type for them, as Docker skips them
        self.tar.addfile(info)

    def _info(self, st: os.stat_result, arcname: str) -> tarfile.TarInfo:
        info = tarfile.TarInfo(arcname)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname = self.names.users.get(str(st.st_uid), "")
        info.gname = self.names.groups.get(str(st.st_gid), "")
        info.mtime = int(st.st_mtime)
        return info

    def _add_entry(self, dfd: int, name: str, arcname: str) -> None:
        try:
            if self.stay_on_mount:  # a mount point (EXDEV): its directory entry alone
                fd = openat2(dfd, name, os.O_PATH | os.O_NOFOLLOW, 0,
                             RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS)
            else:
                fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            return  # removed while we walked: as if it never was
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                self._add_dir_header(st, arcname)
            else:
                info = self._info(st, arcname)
                self.tar.addfile(info)  # a bind-mounted file (/etc/hosts): empty, as Docker
            return
        with closing_fd(fd):
            self.add(fd, arcname)

    def _add_dir_header(self, st: os.stat_result, arcname: str) -> None:
        info = self._info(st, arcname.rstrip("/") + "/")
        info.type = tarfile.DIRTYPE
        self.tar.addfile(info)

    def _add_dir(self, dfd: int, st: os.stat_result, arcname: str) -> None:
        if arcname not in (".", "./"):
            self._add_dir_header(st, arcname)
        prefix = "" if arcname in (".", "./") else arcname.rstrip("/") + "/"
        for name in sorted(os.listdir(dfd)):
            self._add_entry(dfd, name, prefix + name)


def _reopen(fd: int, flags: int) -> int:
    """A readable fd of the very inode an ``O_PATH`` fd holds (the magic link is ours)."""
    return os.open(f"/proc/self/fd/{fd}", flags | os.O_CLOEXEC)


def write_tar(fd: int, arcname: str, out: BinaryIO, *, stay_on_mount: bool = False,
              names: OwnerNames | None = None) -> None:
    """The tar of what ``fd`` (``O_PATH``) holds, named ``arcname``; ``names``: the owner
    names for the headers (none without)."""
    writer = TarWriter(out, stay_on_mount=stay_on_mount, names=names)
    try:
        writer.add(fd, arcname)
    finally:
        writer.close()


# ------------------------------------------------------------------ extracting (PUT)

def member_parts(name: str) -> list[str]:
    """A member's path components; a ``..`` anywhere is refused, not resolved."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." not in parts:
        return parts
    raise UnsafeMember(f"invalid tar member {name!r}: path escapes the destination")


class Extractor:
    """Extract into the directory ``destfd`` holds (opened once: the path that led there
    may be swapped meanwhile), every parent resolved beneath it (``RESOLVE_IN_ROOT``) and
    every entry made with a ``*at()`` call on its parent's fd. A link in the archive is
    therefore followed within the destination, never above it."""

    def __init__(self, destfd: int, owner: tuple[int, int] | None,
                 no_overwrite_dir_non_dir: bool = False) -> None:
        self.rootfd = destfd
        self.owner = owner
        self.no_overwrite = no_overwrite_dir_non_dir
        self.dirs: list[tuple[str, tarfile.TarInfo]] = []

    @staticmethod
    def _rel(parts: list[str]) -> str:
        return "/".join(parts)

    def extract(self, stream: BinaryIO) -> None:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for m in tar:
                self.add(tar, m)
        for rel, m in reversed(self.dirs):  # after their contents, which touch their mtime
            try:
                with closing_fd(open_in_root(self.rootfd, rel, _DIR)) as fd:
                    self._meta(fd, m)
            except OSError:
                pass

    def add(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = member_parts(m.name)
        if not parts:
            return
        with closing_fd(makedirs_in_root(self.rootfd, self._rel(parts[:-1]))) as pfd:
            self._add(tar, m, pfd, parts)

    def _clear(self, pfd: int, name: str, keep_dir: bool) -> None:
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return
        is_dir = stat.S_ISDIR(st.st_mode)
        if is_dir and keep_dir:
            return
        if self.no_overwrite and is_dir != keep_dir:
            kind = "directory" if is_dir else "non-directory"
            raise UnsafeMember(f"cannot overwrite {kind} {name!r} with "
                               f"{'directory' if keep_dir else 'non-directory'}")
        if is_dir:
            shutil.rmtree(name, dir_fd=pfd)
        else:
            os.unlink(name, dir_fd=pfd)

    def _add(self, tar: tarfile.TarFile, m: tarfile.TarInfo, pfd: int, parts: list[str]) -> None:
        name = parts[-1]
        self._clear(pfd, name, keep_dir=m.isdir())
        if m.isdir():
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=pfd)
            self.dirs.append((self._rel(parts), m))
        elif m.isreg():
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=pfd)
            with closing_fd(fd):
                src = tar.extractfile(m)
                while src is not None and (chunk := src.read(COPY_BUFFER)):
                    os.write(fd, chunk)
                self._meta(fd, m)
        elif m.issym():
            os.symlink(m.linkname, name, dir_fd=pfd)
            uid, gid = self.owner or (m.uid, m.gid)
            os.chown(name, uid, gid, dir_fd=pfd, follow_symlinks=False)
        elif m.islnk():
            target = member_parts(m.linkname)
            if not target:
                raise UnsafeMember(f"invalid tar member {m.name!r}: hard link to the root")
            with closing_fd(open_in_root(self.rootfd, self._rel(target[:-1]),
                                  os.O_PATH | os.O_DIRECTORY)) as tfd:
                os.link(target[-1], name, src_dir_fd=tfd, dst_dir_fd=pfd,
                        follow_symlinks=False)
        elif m.ischr() or m.isblk() or m.isfifo():
            kind = (stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO)
            os.mknod(name, kind | 0o600, os.makedev(m.devmajor, m.devminor), dir_fd=pfd)
            with closing_fd(os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)) as fd:
                self._meta(fd, m)

    def _meta(self, fd: int, m: tarfile.TarInfo) -> None:
        """Owner, mode and times through the fd itself (``/proc/self/fd`` also serves O_PATH
        fds); an fd that turned out to be a link (swapped in meanwhile) is left alone."""
        if stat.S_ISLNK(os.fstat(fd).st_mode):
            return
        uid, gid = self.owner or (m.uid, m.gid)
        via = f"/proc/self/fd/{fd}"
        os.chown(via, uid, gid)
        os.chmod(via, m.mode & 0o7777)
        os.utime(via, (m.mtime, m.mtime))


def extract_tar(destfd: int, stream: BinaryIO, owner: tuple[int, int] | None,
                no_overwrite_dir_non_dir: bool = False) -> None:
    Extractor(destfd, owner, no_overwrite_dir_non_dir).extract(stream)
