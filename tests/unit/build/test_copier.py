"""COPY/ADD placement into a layer tar, from a context directory (no store, no root)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.images.build.context import Context, CopySource
from pydocker.images.build.copier import CopyPlan, write_copy
from pydocker.images.build.dockerignore import Matcher


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    root = tmp_path / "ctx"
    (root / "dir" / "sub").mkdir(parents=True)
    (root / "dir" / "a.txt").write_text("a")
    (root / "dir" / "sub" / "b.txt").write_text("b")
    (root / "dir" / "skip.key").write_text("k")
    (root / "top.txt").write_text("top")
    (root / "link").symlink_to("/dir")  # absolute: read from the context's root
    (root / "out").symlink_to("../../../../etc")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("pkg/x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    (root / "pkg.tgz").write_bytes(buf.getvalue())
    c = Context(root)
    c.ignore = Matcher(["**/*.key"])
    return c


def _layer(ctx: Context, srcs: list[str], dest: str, *, dest_is_dir: bool = False,
           unpack: bool = False, owner: tuple[int, int] | None = None,
           lower: dict[str, os.stat_result] | None = None) -> dict[str, tarfile.TarInfo]:
    sources = [CopySource(rel, real, os.path.isdir(real))
               for s in srcs for rel, real in ctx.sources(s, "COPY")]
    dir_dest = dest_is_dir or dest.endswith("/") or any(s.is_dir for s in sources)
    plan = CopyPlan(sources, dest.rstrip("/"), dir_dest, owner, unpack)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        write_copy(tar, plan, ctx, lambda p: (lower or {}).get(p))
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_directory_contents_and_ignored_files(ctx: Context) -> None:
    members = _layer(ctx, ["dir"], "/dst")
    assert set(members) == {"dst", "dst/a.txt", "dst/sub", "dst/sub/b.txt"}
    assert members["dst"].mode == 0o755 and members["dst/a.txt"].uid == 0


def test_file_into_directory_or_as_named(ctx: Context) -> None:
    assert "app/top.txt" in _layer(ctx, ["top.txt"], "/app", dest_is_dir=True)
    assert set(_layer(ctx, ["top.txt"], "/etc/renamed")) == {"etc", "etc/renamed"}


def test_existing_parents_keep_the_image_mode_and_owner(ctx: Context, tmp_path: Path) -> None:
    (tmp_path / "tmpdir").mkdir(mode=0o1777)
    os.chmod(tmp_path / "tmpdir", 0o1777)
    members = _layer(ctx, ["top.txt"], "/tmp/x", lower={"tmp": os.lstat(tmp_path / "tmpdir")})
    assert members["tmp"].mode == 0o1777


def test_chown_globs_and_symlinks_inside(ctx: Context) -> None:
    members = _layer(ctx, ["dir/*.txt", "top.txt"], "/o/", owner=(1000, 50))
    assert set(members) == {"o", "o/a.txt", "o/top.txt"}
    assert (members["o/a.txt"].uid, members["o/a.txt"].gid, members["o"].uid) == (1000, 50, 1000)
    assert "l/a.txt" in _layer(ctx, ["link/a.txt"], "/l/")


def test_add_unpacks_archives_copy_does_not(ctx: Context) -> None:
    assert "opt/pkg/x" in _layer(ctx, ["pkg.tgz"], "/opt/", unpack=True)
    assert "opt/pkg.tgz" in _layer(ctx, ["pkg.tgz"], "/opt/")


def test_nothing_outside_the_context(ctx: Context) -> None:
    assert ctx.resolve("out/passwd").startswith(str(ctx.root))
    with pytest.raises(InvalidParameter, match="file not found in build context"):
        ctx.sources("out/passwd", "COPY")
    with pytest.raises(InvalidParameter, match="excluded by .dockerignore"):
        ctx.sources("dir/skip.key", "COPY")
