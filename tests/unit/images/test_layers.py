"""The layer store: staging, digest checks and commit, and the tar each layer keeps."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from pydocker.engine.errors import InvalidParameter
from pydocker.images.store import ImageStore

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda data: data,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
    "zstd": zstandard.ZstdCompressor().compress,
}


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            info.uid, info.gid = os.getuid(), os.getgid()  # extractable without root
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("compression", list(COMPRESSORS))
def test_a_layer_read_from_a_file_keeps_its_uncompressed_tar(compression: str,
                                                            tmp_path: Path) -> None:
    """Whatever the blob's compression, the layer's kept tar is the uncompressed tar whose
    digest is the diff ID (an xz blob was once hard-linked as if it were that tar, so
    ``docker save`` wrote xz bytes under a tar's digest)."""
    tar = layer_tar({"etc/hello": b"hi\n"})
    blob = tmp_path / "blob"
    blob.write_bytes(COMPRESSORS[compression](tar))
    store = ImageStore(tmp_path / "store")
    with open(blob, "rb") as f:
        diff_id, chain = store.add_layer(f, None, expected_diff_id=sha256(tar),
                                         source_file=blob)
    assert diff_id == chain == sha256(tar)
    assert (store.layer_diff_dir(chain) / "etc/hello").read_bytes() == b"hi\n"
    size, kept = store.open_layer_tar(chain)
    with kept:
        data = kept.read()
    assert (size, sha256(data)) == (len(tar), diff_id)
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        assert t.getnames() == ["etc/hello"]


def test_a_layer_whose_digest_is_not_the_configs_is_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    tar = layer_tar({"a": b"a"})
    with pytest.raises(InvalidParameter, match="layer digest mismatch"):
        store.add_layer(io.BytesIO(tar), None, expected_diff_id=sha256(b"other"))
    assert not store.has_layer(sha256(tar))
    assert list((tmp_path / "store" / "tmp").iterdir()) == []  # the staged copy is gone


def test_staged_layers_commit_once_per_chain_and_share_between_chains(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    base, top = layer_tar({"base": b"b"}), layer_tar({"top": b"t"})
    staged = store.stage_layer(io.BytesIO(top))
    _, base_chain = store.add_layer(io.BytesIO(base), None)
    first = store.commit_layer(staged, None, expected_diff_id=sha256(top))
    second = store.commit_layer(staged, base_chain)  # the same diff on another parent
    assert first == sha256(top) and second not in (first, base_chain)
    assert store.chains_by_diff_id() == {sha256(base): base_chain,
                                         sha256(top): store.chains_by_diff_id()[sha256(top)]}
    for chain in (first, second):
        assert store.layer_diff_id(chain) == sha256(top)
        assert (store.layer_diff_dir(chain) / "top").read_bytes() == b"t"


def test_a_config_is_stored_only_once_its_layers_are(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    tar = layer_tar({"a": b"a"})
    doc = {"os": "linux", "rootfs": {"type": "layers", "diff_ids": [sha256(tar)]}}
    with pytest.raises(InvalidParameter, match="missing from the store"):
        store.add_image(doc)
    store.add_layer(io.BytesIO(tar), None)
    image_id = store.add_image(doc)
    assert store.ids() == [image_id] and store.get(image_id).diff_ids == [sha256(tar)]
    raw = store.get(image_id).raw
    with pytest.raises(InvalidParameter, match="digest mismatch"):
        store.add_image_raw(raw, expected=sha256(b"another config"))
    assert store.add_image_raw(raw, expected=image_id) == image_id
