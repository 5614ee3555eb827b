"""A layer's tar rebuilt from its tar-split record and its files is the tar it came as,
byte for byte, whatever the producer put in it; a changed layer refuses to rebuild."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
from pydocker.images.archive import extract_layer
from pydocker.images.tarsplit import SPLIT_FILE, LayerChanged, RebuiltTar, split_size

from .test_archive import entry


def build(members: list[tuple[tarfile.TarInfo, bytes | None]],
          fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()  # tarfile pads to a 10240-byte record: trailing zeros included


def import_layer(tmp_path: Path, data: bytes, compress: bool = False) -> Path:
    layer = tmp_path / "layer"
    (layer / "diff").mkdir(parents=True)
    diff_id, _ = extract_layer(io.BytesIO(gzip.compress(data) if compress else data),
                               layer / "diff", split_in=layer)
    assert diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    return layer


def rebuilt(layer: Path, chunk: int = 1000) -> bytes:
    out = bytearray()
    with RebuiltTar(layer, layer / "diff") as tar:
        while piece := tar.read(chunk):
            out += piece
    assert split_size(layer) == len(out)
    return bytes(out)


def xattr_entry(name: str) -> tarfile.TarInfo:
    info = entry(name)
    info.pax_headers = {"SCHILY.xattr.user.note": "kept"}
    return info


@pytest.mark.parametrize("chunk", [1, 511, 4096, 1 << 20])
def test_rebuilds_every_kind_of_member_byte_for_byte(tmp_path: Path, chunk: int) -> None:
    long_name = "d/" + "n" * 150 + "/file"
    data = build([
        (entry("d", tarfile.DIRTYPE, mode=0o755), None),
        (entry("d/empty"), b""),
        (entry("d/big", mode=0o4755, mtime=1234567890), os.urandom(70_000)),
        (entry(long_name), b"long name through a PAX header"),
        (xattr_entry("d/xattr"), b"x"),
        (entry("d/link", tarfile.SYMTYPE, linkname="big"), None),
        (entry("d/hard", tarfile.LNKTYPE, linkname="d/big"), None),
        (entry("d/.wh.gone"), b""),
        (entry("d/tail"), b"t" * 513),
    ])
    layer = import_layer(tmp_path, data)
    assert rebuilt(layer, chunk) == data


def test_gnu_tar_and_compressed_input(tmp_path: Path) -> None:
    data = build([(entry("x" * 120), b"gnu long name"), (entry("y"), b"why")],
                 fmt=tarfile.GNU_FORMAT)
    layer = import_layer(tmp_path, data, compress=True)
    assert rebuilt(layer) == data  # the diff ID is over the uncompressed tar


def test_the_record_holds_headers_not_payloads(tmp_path: Path) -> None:
    payload = os.urandom(1 << 20)
    layer = import_layer(tmp_path, build([(entry("blob"), payload)]))
    assert os.path.getsize(layer / SPLIT_FILE) < 4096
    assert rebuilt(layer)[512:512 + len(payload)] == payload


def test_payloads_a_later_member_removes_are_kept(tmp_path: Path) -> None:
    """Duplicate names and whiteouts of the layer's own files: the diff holds the last
    version, the tar still rebuilds with every version."""
    data = build([
        (entry("dup"), b"first version"),
        (entry("dir", tarfile.DIRTYPE), None),
        (entry("dir/inner"), b"inside a directory that a whiteout removes"),
        (entry("dup"), b"second version"),
        (entry(".wh.dir"), b""),
    ])
    layer = import_layer(tmp_path, data)
    assert (layer / "diff" / "dup").read_bytes() == b"second version"
    assert not (layer / "diff" / "dir").is_dir()
    assert rebuilt(layer) == data


def test_a_changed_layer_file_refuses_to_rebuild(tmp_path: Path) -> None:
    layer = import_layer(tmp_path, build([(entry("f"), b"original")]))
    (layer / "diff" / "f").write_bytes(b"changed!!")
    with pytest.raises(LayerChanged):
        rebuilt(layer)
