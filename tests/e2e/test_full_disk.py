"""A full disk: the daemon's data root on a 64 MiB tmpfs (mounted here, unmounted after),
filled by import, load, pull, build, a container's logs and commit. Each gives dockerd's
"no space left on device", leaves the store as it was (image list and inspect work, no
partial image) and gives back what it took; the daemon keeps serving."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import docker
import pytest
from pydocker.images.registry import RegistryClient

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon, leftovers
from tests.registry.conftest import StartRegistry, start_registry  # noqa: F401 - fixture
from tests.registry.images import push_layers
from tests.unit.images.test_layers import layer_tar

pytestmark = [pytest.mark.root, pytest.mark.e2e]

DISK = 64 << 20
TOO_BIG = 80 << 20        # more than the disk holds
HALF = 36 << 20           # fits once, not twice
NO_SPACE = "no space left on device"
# What the store may grow by from an operation that failed: its state files rewritten.
SLACK = 256 << 10


def _used(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@pytest.fixture(scope="module")
def big() -> bytes:
    """Incompressible, and more than the disk holds."""
    return os.urandom(TOO_BIG)


@pytest.fixture(scope="module")
def small_disk_daemon(tmp_path_factory: pytest.TempPathFactory,
                      busybox_tar: bytes) -> Iterator[Daemon]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    base = tmp_path_factory.mktemp("fulldisk")
    d = Daemon(base)
    d.data_root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0711", "pydt-full",
                    str(d.data_root)], check=True)
    try:
        d.start()
        try:
            import_busybox(d, busybox_tar)
            yield d
            client = d.client()
            for c in client.containers.list(all=True):
                c.remove(force=True)
            client.close()
        finally:
            code = d.stop()
        assert code == 0, d.log()
        left = [m for m in leftovers(d) if not m.startswith("mount: pydt-full ")]
        assert not left, left
    finally:
        subprocess.run(["umount", str(d.data_root)], check=True)


class Store:
    """The store's view before an operation, to compare with after it failed."""

    def __init__(self, d: Daemon) -> None:
        self.d = d
        self.images = self._images()
        self.used = _used(d.data_root)

    def _images(self) -> list[str]:
        status, _, body = self.d.request("GET", "/images/json?all=1")
        assert status == 200, body
        return sorted(i["Id"] for i in json.loads(body))

    def check_unchanged(self) -> None:
        assert self._images() == self.images  # no partial image
        for image_id in self.images:
            status, _, body = self.d.request("GET", f"/images/{image_id}/json")
            assert status == 200, body
        scratch = self.d.data_root / "image" / "tmp"
        kept = [p for p in scratch.rglob("*") if not p.is_dir()]
        kept += [p for p in self.d.data_root.rglob("*.tmp") if p.is_file()]  # torn writes
        assert not kept, kept
        assert _used(self.d.data_root) <= self.used + SLACK, \
            f"{_used(self.d.data_root) - self.used} bytes kept by a failed operation"
        assert self.d.request("GET", "/_ping")[0] == 200


def _stream_error(body: bytes) -> str:
    """The error of a JSON-lines progress stream ("" if it ends without one)."""
    for line in body.splitlines():
        if line.strip() and "error" in json.loads(line):
            return str(json.loads(line)["error"])
    return ""


def test_import(small_disk_daemon: Daemon, big: bytes) -> None:
    d = small_disk_daemon
    store = Store(d)
    status, _, body = d.request("POST", "/images/create?fromSrc=-&repo=full&tag=import",
                                layer_tar({"big": big}),
                                {"Content-Type": "application/x-tar"})
    assert NO_SPACE in (_stream_error(body) if status == 200 else body.decode()), body[-500:]
    store.check_unchanged()


def test_load(small_disk_daemon: Daemon, big: bytes) -> None:
    d = small_disk_daemon
    layer = layer_tar({"big": big})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [
                             "sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    archive = layer_tar({
        config_name: config, "l1/layer.tar": layer,
        "manifest.json": json.dumps([{"Config": config_name, "RepoTags": ["full:load"],
                                      "Layers": ["l1/layer.tar"]}]).encode()})
    store = Store(d)
    status, _, body = d.request("POST", "/images/load?quiet=1", archive,
                                {"Content-Type": "application/x-tar"})
    assert NO_SPACE in (_stream_error(body) if status == 200 else body.decode()), body[-500:]
    store.check_unchanged()


def test_pull(small_disk_daemon: Daemon, start_registry: StartRegistry  # noqa: F811
              ) -> None:
    d = small_disk_daemon
    domain = start_registry().domain

    async def push() -> None:
        async with aiohttp.ClientSession() as session:
            await push_layers(RegistryClient(session, domain), "full", "v1",
                              ["none", "gzip"], size=HALF)

    asyncio.run(push())
    store = Store(d)
    client = d.client()
    try:
        records = list(client.api.pull(f"{domain}/full", tag="v1", stream=True, decode=True))
    finally:
        client.close()
    assert NO_SPACE in records[-1].get("error", ""), records[-3:]
    store.check_unchanged()


def test_build(small_disk_daemon: Daemon) -> None:
    d = small_disk_daemon
    context = layer_tar({"Dockerfile": b"FROM busybox\nCOPY half /half\n",
                       "half": os.urandom(HALF)})
    store = Store(d)
    client = d.client()
    try:
        with pytest.raises(docker.errors.BuildError, match=NO_SPACE):
            client.images.build(fileobj=io.BytesIO(context), custom_context=True,
                                tag="full:build")
        assert not client.containers.list(all=True)  # the step container went
    finally:
        client.close()
    store.check_unchanged()


def test_commit(small_disk_daemon: Daemon) -> None:
    d = small_disk_daemon
    client = d.client()
    c = client.containers.run("busybox", ["dd", "if=/dev/urandom", "of=/half", "bs=1M",
                                          f"count={HALF >> 20}"], detach=True)
    try:
        assert c.wait()["StatusCode"] == 0
        store = Store(d)
        with pytest.raises(docker.errors.APIError, match=NO_SPACE):
            c.commit("full", "commit")
        store.check_unchanged()
    finally:
        c.remove(force=True)
        client.close()


def test_logs(small_disk_daemon: Daemon) -> None:
    """A container that writes more than the disk holds to its log: it runs to its end
    (its output is dropped once the log cannot grow, as dockerd's json-file logger
    does), its logs up to there are readable, and removing it gives back the space."""
    d = small_disk_daemon
    store = Store(d)
    client = d.client()
    try:
        c = client.containers.run(
            "busybox", ["sh", "-c", f"yes 0123456789abcdef | head -c {TOO_BIG}; echo end"],
            detach=True)
        # Its exit is settled even if the disk has no room left for its record.
        assert c.wait(timeout=120)["StatusCode"] == 0
        logs = c.logs(stream=True)
        assert next(logs).startswith(b"0123456789abcdef")
        logs.close()
        c.remove()
    finally:
        client.close()
    store.check_unchanged()
