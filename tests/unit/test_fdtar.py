"""The fd-walking tar writer and extractor of docker cp, on real directories."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from pydocker.engine.host.fdtar import UnsafeMember, extract_tar, write_tar
from pydocker.engine.host.inroot import closing_fd, open_root


def _tar_of(tree: Path, name: str) -> bytes:
    out = io.BytesIO()
    with closing_fd(open_root(str(tree))) as fd:
        write_tar(fd, name, out)
    return out.getvalue()


def _extract(dest: Path, data: bytes, owner: tuple[int, int] | None = None) -> None:
    with closing_fd(open_root(str(dest))) as fd:
        extract_tar(fd, io.BytesIO(data), owner)


@pytest.mark.root
def test_a_tree_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "file").write_bytes(b"data")
    os.chmod(src / "sub" / "file", 0o640)
    os.chown(src / "sub" / "file", 1234, 5678)
    os.link(src / "sub" / "file", src / "hard")
    (src / "link").symlink_to("/etc/shadow")
    os.mkfifo(src / "fifo")
    data = _tar_of(src, "top")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        kinds = {m.name: m.type for m in tar}
    assert kinds["top/link"] == tarfile.SYMTYPE and kinds["top/fifo"] == tarfile.FIFOTYPE
    assert tarfile.LNKTYPE in (kinds["top/hard"], kinds["top/sub/file"])
    dest = tmp_path / "dest"
    dest.mkdir()
    _extract(dest, data)
    out = dest / "top"
    assert (out / "sub" / "file").read_bytes() == b"data"
    st = os.stat(out / "sub" / "file")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o640)
    assert os.stat(out / "hard").st_ino == st.st_ino
    assert os.readlink(out / "link") == "/etc/shadow"  # copied as a link, never followed
    assert stat.S_ISFIFO(os.lstat(out / "fifo").st_mode)
    _extract(dest, data, owner=(0, 0))  # over what is there, owned by root this time
    assert os.stat(out / "sub" / "file").st_uid == 0


def _member(name: str, data: bytes = b"x", link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    if link:
        info.type, info.linkname = tarfile.SYMTYPE, link
    else:
        info.size = len(data)
    return info


def test_nothing_lands_outside_the_destination(tmp_path: Path) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    # An absolute link is taken from the destination, where that path does not exist.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(_member("up", link=str(outside)))
        tar.addfile(_member("up/through-absolute"), io.BytesIO(b"x"))
    with pytest.raises(FileNotFoundError):
        _extract(dest, buf.getvalue())
    # A relative one climbing out stops at the destination, as ``..`` does at ``/``.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(_member("rel", link="../outside"))
        tar.addfile(_member("rel/through-relative"), io.BytesIO(b"x"))
    with pytest.raises(FileNotFoundError):
        _extract(dest, buf.getvalue())
    (dest / "outside").mkdir()
    _extract(dest, buf.getvalue())
    assert (dest / "outside" / "through-relative").read_bytes() == b"x"
    assert list(outside.iterdir()) == []
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(_member("a/../../escape"), io.BytesIO(b"x"))
    with pytest.raises(UnsafeMember):
        _extract(dest, buf.getvalue())
    assert not (tmp_path / "escape").exists()
