"""A container's writable layer as a layer tar, and the one path from it into the store
(``docker commit`` and the builder's RUN steps)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from pydocker.images.build.commit import RUNTIME_FILES, add_upper
from pydocker.images.layerdiff import upper_tar
from pydocker.images.store import ImageStore


def make_upper(root: Path, files: list[str]) -> str:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    return str(root)


def names(upper: str, leave_out: tuple[str, ...] = ()) -> tuple[list[str], int]:
    out = io.BytesIO()
    count = upper_tar(upper, out, leave_out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        return tar.getnames(), count


def test_left_out_files_take_their_directory_only_when_alone(tmp_path: Path) -> None:
    alone = make_upper(tmp_path / "a", ["etc/hosts", "etc/hostname", "app/x"])
    assert names(alone, RUNTIME_FILES) == (["app", "app/x"], 2)
    assert names(alone)[0] == ["app", "etc", "app/x", "etc/hostname", "etc/hosts"]
    shared = make_upper(tmp_path / "b", ["etc/hosts", "etc/passwd"])
    assert names(shared, RUNTIME_FILES) == (["etc", "etc/passwd"], 2)


@pytest.mark.skipif(os.geteuid() != 0, reason="overlay whiteouts are 0/0 device nodes")
def test_whiteouts_and_opaque_directories_become_wh_entries(tmp_path: Path) -> None:
    upper = make_upper(tmp_path, ["etc/hosts", "keep/y"])
    os.mknod(tmp_path / "gone", 0o600 | 0o020000, os.makedev(0, 0))
    os.setxattr(tmp_path / "keep", "trusted.overlay.opaque", b"y")
    assert names(str(upper), RUNTIME_FILES)[0] == [
        ".wh.gone", "keep", "keep/.wh..wh..opq", "keep/y"]


def test_commit_and_run_steps_share_one_path(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    runtime_only = make_upper(tmp_path / "run0", ["etc/resolv.conf"])
    assert add_upper(store, "", runtime_only) is None
    assert store.layers.chains_by_diff_id() == {}  # no layer for a RUN that changed nothing
    empty = store.add_upper_layer(make_upper(tmp_path / "empty", []), "")
    assert empty is not None  # docker commit keeps an empty layer
    changed = make_upper(tmp_path / "run1", ["etc/resolv.conf", "app/x"])
    same_files = make_upper(tmp_path / "commit", ["app/x"])
    os.utime(tmp_path / "run1" / "app" / "x", ns=(0, 0))
    os.utime(tmp_path / "commit" / "app" / "x", ns=(0, 0))
    os.utime(tmp_path / "run1" / "app", ns=(0, 0))
    os.utime(tmp_path / "commit" / "app", ns=(0, 0))
    assert add_upper(store, "", changed) == store.add_upper_layer(same_files, "")
