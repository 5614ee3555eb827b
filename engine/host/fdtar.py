"""Tar streams out of and into a container's root, walking directory fds only.

Every name is opened relative to the fd of its parent directory with ``O_NOFOLLOW``
(or resolved from the root with ``RESOLVE_IN_ROOT``), never as a host path: a container
that renames a directory and puts a symlink to ``/`` in its place while we walk can only
move us elsewhere inside its own root (CVE-2018-15664).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tarfile
from collections.abc import Iterator
from typing import BinaryIO

from pydocker.engine.host.inroot import (
    RESOLVE_NO_SYMLINKS,
    RESOLVE_NO_XDEV,
    makedirs_in_root,
    open_in_root,
    openat2,
    split,
)

COPY_BUFFER = 1 << 20
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafeMember(ValueError):
    """A tar member that would land outside the destination, or over what it must not."""


@contextlib.contextmanager
def _fd(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)


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


class TarWriter:
    def __init__(self, out: BinaryIO, *, stay_on_mount: bool = False) -> None:
        self.tar = tarfile.open(  # noqa: SIM115 - closed by close(), after the walk
            fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self.stay_on_mount = stay_on_mount  # export: mounts inside (proc, volumes) are not ours
        self.links: dict[tuple[int, int], str] = {}

    def close(self) -> None:
        self.tar.close()

    def add_path(self, rootfd: int, path: str, arcname: str, follow_last: bool) -> None:
        """``path`` (resolved in the root) and, for a directory, all below it."""
        parent, last = split(path)
        if not last:
            with _fd(open_in_root(rootfd, parent, _DIR)) as dfd:
                self._add_dir(dfd, os.fstat(dfd), arcname)
            return
        if follow_last:
            with _fd(open_in_root(rootfd, path, os.O_PATH)) as probe:
                if stat.S_ISDIR(os.fstat(probe).st_mode):
                    with _fd(open_in_root(rootfd, path, _DIR)) as dfd:
                        self._add_dir(dfd, os.fstat(dfd), arcname)
                    return
        with _fd(open_in_root(rootfd, parent, os.O_PATH | os.O_DIRECTORY)) as pfd:
            self._add_entry(pfd, last, arcname)

    def _info(self, st: os.stat_result, arcname: str) -> tarfile.TarInfo:
        info = tarfile.TarInfo(arcname)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.mtime = int(st.st_mtime)
        return info

    def _add_entry(self, dfd: int, name: str, arcname: str) -> None:
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return  # removed while we walked: as if it never was
        if stat.S_ISDIR(st.st_mode):
            if self.stay_on_mount:
                try:
                    fd = openat2(dfd, name, _DIR, 0, RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS)
                except OSError:  # a mount point (EXDEV) or swapped away: the entry alone
                    self._add_dir_header(st, arcname)
                    return
            else:
                fd = self._open(dfd, name, _DIR)
                if fd < 0:
                    return
            with _fd(fd):
                self._add_dir(fd, os.fstat(fd), arcname)
            return
        info = self._info(st, arcname)
        if stat.S_ISREG(st.st_mode):
            fd = self._open(dfd, name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            if fd < 0:
                return
            with _fd(fd):
                st = os.fstat(fd)  # what we opened, not what we saw before
                if not stat.S_ISREG(st.st_mode):
                    return
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in self.links:
                    info.type, info.linkname = tarfile.LNKTYPE, self.links[key]
                    self.tar.addfile(info)
                    return
                if st.st_nlink > 1:
                    self.links[key] = arcname
                info.size = st.st_size
                self.tar.addfile(info, _Exactly(fd, st.st_size))
            return
        if stat.S_ISLNK(st.st_mode):
            info.type, info.linkname = tarfile.SYMTYPE, os.readlink(name, dir_fd=dfd)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(st.st_mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISFIFO(st.st_mode):
            info.type = tarfile.FIFOTYPE
        else:
            return  # sockets: tar has no type for them, as Docker skips them
        self.tar.addfile(info)

    @staticmethod
    def _open(dfd: int, name: str, flags: int) -> int:
        try:
            return os.open(name, flags | os.O_CLOEXEC, dir_fd=dfd)
        except OSError:  # swapped for a link or removed since the stat: skip it
            return -1

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


def write_tar(rootfd: int, path: str, arcname: str, out: BinaryIO, *,
              follow_last: bool = False, stay_on_mount: bool = False) -> None:
    writer = TarWriter(out, stay_on_mount=stay_on_mount)
    try:
        writer.add_path(rootfd, path, arcname, follow_last)
    finally:
        writer.close()


# ------------------------------------------------------------------ extracting (PUT)

def clean_name(name: str) -> list[str]:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeMember(f"invalid tar member {name!r}: path escapes the destination")
    return parts


class Extractor:
    """Extract into ``dest`` (a directory path inside the root), every parent resolved in
    the root and every entry made with a ``*at()`` call on its parent's fd."""

    def __init__(self, rootfd: int, dest: str, owner: tuple[int, int] | None,
                 no_overwrite_dir_non_dir: bool = False) -> None:
        self.rootfd, self.dest = rootfd, dest.strip("/")
        self.owner = owner
        self.no_overwrite = no_overwrite_dir_non_dir
        self.dirs: list[tuple[str, tarfile.TarInfo]] = []

    def _rel(self, parts: list[str]) -> str:
        return "/".join([self.dest, *parts]) if self.dest else "/".join(parts)

    def extract(self, stream: BinaryIO) -> None:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for m in tar:
                self.add(tar, m)
        for rel, m in reversed(self.dirs):  # after their contents, which touch their mtime
            try:
                with _fd(open_in_root(self.rootfd, rel, _DIR)) as fd:
                    self._meta(fd, m)
            except OSError:
                pass

    def add(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = clean_name(m.name)
        if not parts:
            return
        with _fd(makedirs_in_root(self.rootfd, self._rel(parts[:-1]))) as pfd:
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
            with _fd(fd):
                src = tar.extractfile(m)
                while src is not None and (chunk := src.read(COPY_BUFFER)):
                    os.write(fd, chunk)
                self._meta(fd, m)
        elif m.issym():
            os.symlink(m.linkname, name, dir_fd=pfd)
            uid, gid = self.owner or (m.uid, m.gid)
            os.chown(name, uid, gid, dir_fd=pfd, follow_symlinks=False)
        elif m.islnk():
            target = clean_name(m.linkname)
            if not target:
                raise UnsafeMember(f"invalid tar member {m.name!r}: hard link to the root")
            with _fd(open_in_root(self.rootfd, self._rel(target[:-1]),
                                  os.O_PATH | os.O_DIRECTORY)) as tfd:
                os.link(target[-1], name, src_dir_fd=tfd, dst_dir_fd=pfd,
                        follow_symlinks=False)
        elif m.ischr() or m.isblk() or m.isfifo():
            kind = (stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO)
            os.mknod(name, kind | 0o600, os.makedev(m.devmajor, m.devminor), dir_fd=pfd)
            with _fd(os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=pfd)) as fd:
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


def extract_tar(rootfd: int, dest: str, stream: BinaryIO, owner: tuple[int, int] | None,
                no_overwrite_dir_non_dir: bool = False) -> None:
    Extractor(rootfd, dest, owner, no_overwrite_dir_non_dir).extract(stream)
