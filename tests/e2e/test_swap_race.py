"""CVE-2018-15664: a container swaps a directory for a symlink to ``/`` in a tight loop
while docker cp (both ways, CLI and docker-py), stat, export, diff and commit run against
that directory. Host canaries must stay untouched: a secret file that only an escape
could read and a directory that only an escape could write into."""

from __future__ import annotations

import io
import secrets
import shutil
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

SECONDS = 4.0
HOST_SECRET = b"HOST-SECRET-must-never-leave-the-host"


@pytest.fixture
def canaries() -> Iterator[tuple[str, Path, Path]]:
    """A unique name, a host secret under /tmp/<name>/ and an empty host dir beside it."""
    tag = f"pydocker-swap-{secrets.token_hex(4)}"
    base = Path("/tmp") / tag
    base.mkdir()
    (base / "secret").write_bytes(HOST_SECRET)
    (base / "secret").chmod(0o600)
    (base / "drop").mkdir()
    yield tag, base / "secret", base / "drop"
    shutil.rmtree(base)


@pytest.fixture
def swapper(client: docker.DockerClient, busybox: str,
            canaries: tuple[str, Path, Path]) -> Iterator[docker.models.containers.Container]:
    """/d/tmp/<tag>/ holds the same names as the host's /tmp/<tag>/: while /d is a link to
    /, a path under /d resolved on the host side would land on the canaries."""
    tag = canaries[0]
    script = (f"mkdir -p /d/tmp/{tag}/drop; echo inside > /d/tmp/{tag}/secret; "
              "while :; do mv /d /d.tmp; ln -s / /d; rm /d; mv /d.tmp /d; done")
    c = client.containers.run("busybox", ["sh", "-c", script], detach=True)
    time.sleep(0.3)
    yield c
    c.remove(force=True)


def _tar_of(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _check_canaries(secret: Path, drop: Path) -> None:
    assert secret.read_bytes() == HOST_SECRET
    assert list(drop.iterdir()) == [], "a file was written into the host directory"


def test_cp_with_docker_py_stays_inside(swapper: docker.models.containers.Container,
                                        canaries: tuple[str, Path, Path]) -> None:
    tag, secret, drop = canaries
    deadline = time.monotonic() + SECONDS
    reads = writes = 0
    while time.monotonic() < deadline:
        try:
            stream, _ = swapper.get_archive(f"/d/tmp/{tag}/secret")
            data = b"".join(stream)
            reads += 1
            assert HOST_SECRET not in data
        except docker.errors.NotFound:
            pass  # /d was the link and the container has no /tmp/<tag>: fine
        try:
            swapper.put_archive(f"/d/tmp/{tag}/drop", _tar_of("pwned", b"x"))
            writes += 1
        except docker.errors.NotFound:
            pass
        try:
            stream, _ = swapper.get_archive(f"/d/tmp/{tag}")  # a directory walk
            assert HOST_SECRET not in b"".join(stream)
        except docker.errors.NotFound:
            pass
    assert reads and writes, "the race never let an operation through: the test tests nothing"
    _check_canaries(secret, drop)


def test_cp_with_the_cli_stays_inside(daemon: Daemon, swapper: docker.models.containers.Container,
                                      canaries: tuple[str, Path, Path], tmp_path: Path) -> None:
    tag, secret, drop = canaries
    src = tmp_path / "pwned"
    src.write_bytes(b"x")
    deadline = time.monotonic() + SECONDS
    n = 0
    while time.monotonic() < deadline:
        out = tmp_path / f"out{n}"
        daemon.cli("cp", f"{swapper.id}:/d/tmp/{tag}", str(out), check=False)
        for f in out.rglob("*") if out.exists() else []:
            if f.is_file():
                assert f.read_bytes() != HOST_SECRET
        daemon.cli("cp", str(src), f"{swapper.id}:/d/tmp/{tag}/drop/", check=False)
        n += 1
    assert n > 3
    _check_canaries(secret, drop)


def test_export_diff_commit_stay_inside(daemon: Daemon, client: docker.DockerClient,
                                        swapper: docker.models.containers.Container,
                                        canaries: tuple[str, Path, Path]) -> None:
    _, secret, drop = canaries
    deadline = time.monotonic() + SECONDS
    images = []
    try:
        while time.monotonic() < deadline:
            data = b"".join(swapper.export())
            assert HOST_SECRET not in data
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                assert "bin/busybox" in tar.getnames()
            for change in swapper.diff() or []:
                assert not change["Path"].startswith("/d/etc/")  # host names seen through /d
            image = swapper.commit(pause=False)
            images.append(image.id)
            for layer in [b"".join(image.save())]:
                assert HOST_SECRET not in layer
    finally:
        for image_id in images:
            client.images.remove(image_id, force=True)
    assert images
    _check_canaries(secret, drop)
