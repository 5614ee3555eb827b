"""Layer extraction: whiteouts, metadata, and every way a tar tries to escape its root."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.images.archive import UnsafeArchive, extract_layer


def tar_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, **attrs: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def test_digest_is_sha256_of_the_uncompressed_tar(tmp_path: Path) -> None:
    data = tar_of([(entry("a.txt"), b"hello")])
    diff_id, _size = extract_layer(io.BytesIO(data), tmp_path)
    assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert (tmp_path / "a.txt").read_bytes() == b"hello"


def test_gzip_layers_hash_their_uncompressed_content(tmp_path: Path) -> None:
    import gzip
    data = tar_of([(entry("a.txt"), b"hello")])
    diff_id, _ = extract_layer(io.BytesIO(gzip.compress(data)), tmp_path)
    assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.root
def test_whiteouts_become_overlay_whiteouts(tmp_path: Path) -> None:
    data = tar_of([(entry("dir", tarfile.DIRTYPE, mode=0o755), None),
                   (entry("dir/.wh..wh..opq"), b""),
                   (entry(".wh.gone"), b"")])
    extract_layer(io.BytesIO(data), tmp_path)
    st = os.lstat(tmp_path / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert os.getxattr(tmp_path / "dir", "trusted.overlay.opaque") == b"y"


@pytest.mark.root
def test_modes_owners_links_and_setuid_survive(tmp_path: Path) -> None:
    data = tar_of([(entry("bin", tarfile.DIRTYPE, mode=0o755), None),
                   (entry("bin/tool", mode=0o4755, uid=1234, gid=4321), b"#!"),
                   (entry("bin/alias", tarfile.SYMTYPE, linkname="/bin/tool"), None),
                   (entry("bin/hard", tarfile.LNKTYPE, linkname="bin/tool"), None)])
    extract_layer(io.BytesIO(data), tmp_path)
    st = os.stat(tmp_path / "bin/tool")
    assert stat.S_IMODE(st.st_mode) == 0o4755
    assert (st.st_uid, st.st_gid) == (1234, 4321)
    assert os.readlink(tmp_path / "bin/alias") == "/bin/tool"  # stored, never followed
    assert os.stat(tmp_path / "bin/hard").st_ino == st.st_ino


@pytest.mark.parametrize("members", [
    [(entry("../escape"), b"x")],
    [(entry("a/../../escape"), b"x")],
    [(entry("link", tarfile.SYMTYPE, linkname="/tmp"), None), (entry("link/escape"), b"x")],
    [(entry("link", tarfile.SYMTYPE, linkname=".."), None), (entry("link/escape"), b"x")],
    [(entry("hard", tarfile.LNKTYPE, linkname="../../etc/passwd"), None)],
])
def test_escapes_are_refused_and_write_nothing_outside(tmp_path: Path, members: list) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises((UnsafeArchive, InvalidParameter)):
        extract_layer(io.BytesIO(tar_of(members)), root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]
    assert not Path("/tmp/escape").exists()


def test_absolute_names_stay_inside(tmp_path: Path) -> None:
    extract_layer(io.BytesIO(tar_of([(entry("/etc/inside"), b"x")])), tmp_path)
    assert (tmp_path / "etc/inside").read_bytes() == b"x"


def test_truncated_tar_is_an_error(tmp_path: Path) -> None:
    data = tar_of([(entry("big"), b"x" * 10000)])[:3000]
    with pytest.raises(InvalidParameter):
        extract_layer(io.BytesIO(data), tmp_path)
