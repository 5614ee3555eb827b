"""Pull and push between a real image store and Debian's docker-registry on 127.0.0.1:
gzip, zstd and plain layers, platforms, shared downloads, resumed and corrupt blobs,
HEAD checks and mounts, and the same image ID after a round trip."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydocker.engine.errors import NotFound, SystemFailure
from pydocker.images.distribution.downloads import discard
from pydocker.images.distribution.service import Distribution, RegistryOptions
from pydocker.images.registry import RegistryAuth, RegistryClient, RetryPolicy
from pydocker.images.registry.manifest import (
    DOCKER_CONFIG,
    DOCKER_FOREIGN_LAYER,
    DOCKER_MANIFEST,
    Descriptor,
    build_image_manifest,
    sha256_digest,
)
from pydocker.images.store import ImageStore

from tests.fixtures.busybox import rootfs_tar_bytes

from .conftest import REGISTRY_BIN, StartRegistry
from .helpers import FaultProxy, source
from .images import compress, layer_tar, push_index, push_layers

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="layers are extracted as root")

Records = list[dict[str, Any]]


QUICK_RETRY = RetryPolicy(attempts=3, delay_unit=0.01)
ANONYMOUS = RegistryAuth()


_OPENED: list[Distribution] = []


def distribution(root: Path, retry: RetryPolicy = QUICK_RETRY, **options: Any) -> Distribution:
    dist = Distribution(ImageStore(root), RegistryOptions(retry=retry, **options),
                        lambda action, ref, repository: None)
    _OPENED.append(dist)
    return dist


@pytest.fixture(autouse=True)
async def close_distributions() -> AsyncIterator[None]:
    """Each test's distributions close their session, as the daemon does at shutdown."""
    yield
    while _OPENED:
        await _OPENED.pop().close()


async def drain(stream: AsyncGenerator[dict[str, Any], None]) -> Records:
    return [record async for record in stream]


def statuses(records: Records, layer: str = "") -> list[str]:
    return [r["status"] for r in records if r.get("id", "") == layer and "status" in r]


def scratch_left(dist: Distribution) -> list[str]:
    return [str(p.relative_to(dist.store.scratch)) for p in dist.store.scratch.rglob("*")
            if p.is_file() or (p.is_dir() and any(p.iterdir()))]


async def test_pull_gzip_zstd_and_plain_layers(start_registry: StartRegistry,
                                               tmp_path: Path) -> None:
    domain = start_registry().domain
    async with aiohttp.ClientSession() as session:
        pushed = await push_layers(RegistryClient(session, domain), "app", "v1",
                                   ["gzip", "zstd", "none"])
    dist = distribution(tmp_path / "store")
    records = await drain(dist.pull(f"{domain}/app", "v1", "", ANONYMOUS))
    assert records[0] == {"status": "Pulling from app", "id": "v1"}
    for blob in pushed.blobs:
        short = hashlib.sha256(blob).hexdigest()[:12]
        shown = statuses(records, short)
        assert shown[0] == "Pulling fs layer" and shown[-1] == "Pull complete"
        assert "Download complete" in shown and "Extracting" in shown
    assert records[-2:] == [
        {"status": f"Digest: {pushed.manifest_digest}"},
        {"status": f"Status: Downloaded newer image for {domain}/app:v1"}]
    image = dist.store.get(f"{domain}/app:v1")
    assert image.id == pushed.config_digest
    assert image.repo_digests == [f"{domain}/app@{pushed.manifest_digest}"]
    again = await drain(dist.pull(f"{domain}/app", "v1", "", ANONYMOUS))
    assert again[-1] == {"status": f"Status: Image is up to date for {domain}/app:v1"}
    assert scratch_left(dist) == []


async def test_errors_before_the_stream_are_raised(start_registry: StartRegistry,
                                                  tmp_path: Path) -> None:
    domain = start_registry().domain
    dist = distribution(tmp_path / "store")
    with pytest.raises(NotFound) as missing:
        await dist.pull(f"{domain}/app", "nosuch", "", ANONYMOUS).__anext__()
    assert str(missing.value) == (f"manifest for {domain}/app:nosuch not found: "
                                  "manifest unknown: manifest unknown")
    with pytest.raises(SystemFailure) as refused:
        await dist.pull("127.0.0.1:1/app", "v1", "", ANONYMOUS).__anext__()
    assert str(refused.value) == ('Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: '
                                  "connect: connection refused")


async def test_index_picks_the_platform(start_registry: StartRegistry, tmp_path: Path) -> None:
    domain = start_registry().domain
    async with aiohttp.ClientSession() as session:
        index, images = await push_index(RegistryClient(session, domain), "multi", "v1",
                                         ["amd64", "arm64"])
    dist = distribution(tmp_path / "store")
    await drain(dist.pull(f"{domain}/multi", "v1", "linux/amd64", ANONYMOUS))
    image = dist.store.get(f"{domain}/multi:v1")
    assert image.id == images["amd64"].config_digest
    assert image.repo_digests == [f"{domain}/multi@{index}"]
    await drain(dist.pull(f"{domain}/multi", "v1", "linux/arm64", ANONYMOUS))
    assert dist.store.get(f"{domain}/multi:v1").id == images["arm64"].config_digest
    with pytest.raises(NotFound, match="no matching manifest for linux/s390x in the manifest "
                                       "list entries"):
        await dist.pull(f"{domain}/multi", "v1", "linux/s390x", ANONYMOUS).__anext__()


async def one_big_layer(start_registry: StartRegistry, repository: str) -> str:
    """A registry (its domain) holding ``repository:v1``: one layer, big enough to share."""
    domain = start_registry().domain
    async with aiohttp.ClientSession() as session:
        await push_layers(RegistryClient(session, domain), repository, "v1", ["gzip"],
                          size=2_000_000)
    return domain


async def test_two_pulls_share_one_download(start_registry: StartRegistry,
                                            tmp_path: Path) -> None:
    domain = await one_big_layer(start_registry, "shared")
    async with FaultProxy(domain, "count") as proxy:
        dist = distribution(tmp_path / "store")
        name = f"127.0.0.1:{proxy.port}/shared"
        first, second = await asyncio.gather(drain(dist.pull(name, "v1", "", ANONYMOUS)),
                                             drain(dist.pull(name, "v1", "", ANONYMOUS)))
    # Each pull reads the small config; the layer crossed the wire once.
    assert len(proxy.blob_requests) == 3
    endings = sorted(r[-1]["status"].split(" for ")[0] for r in (first, second))
    # Whichever names the image second finds the name already there.
    assert endings == ["Status: Downloaded newer image", "Status: Image is up to date"]


async def test_a_pull_that_goes_away_leaves_a_shared_download_to_the_other(
        start_registry: StartRegistry, tmp_path: Path) -> None:
    """The shared transfer outlives the pull that started it: it downloads over the
    daemon's session, not the first pull's."""
    domain = await one_big_layer(start_registry, "left")
    async with FaultProxy(domain, "hold") as proxy:
        dist = distribution(tmp_path / "store")
        name = f"127.0.0.1:{proxy.port}/left"
        first = asyncio.ensure_future(drain(dist.pull(name, "v1", "", ANONYMOUS)))
        await proxy.held.wait()
        second = dist.pull(name, "v1", "", ANONYMOUS)
        seen = [await second.__anext__()]
        while seen[-1].get("status") != "Pulling fs layer":
            seen.append(await second.__anext__())
        await joined(dist, 2)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        proxy.release.set()
        rest = await drain(second)
    assert rest[-1]["status"] == f"Status: Downloaded newer image for {name}:v1"
    assert len(proxy.blob_requests) == 3  # two configs, the layer once


async def joined(dist: Distribution, users: int) -> None:
    """Until the one layer transfer under way has ``users`` pulls waiting on it."""
    for _ in range(1000):
        if [t.users for t in dist.downloads._transfers.values()] == [users]:
            return
        await asyncio.sleep(0)
    raise AssertionError("the second pull never joined the transfer")


async def test_a_dropped_download_resumes_with_range(start_registry: StartRegistry,
                                                     tmp_path: Path) -> None:
    domain = start_registry().domain
    async with aiohttp.ClientSession() as session:
        pushed = await push_layers(RegistryClient(session, domain), "flaky", "v1", ["gzip"])
    async with FaultProxy(domain, "drop-once") as proxy:
        dist = distribution(tmp_path / "store")
        await drain(dist.pull(f"127.0.0.1:{proxy.port}/flaky", "v1", "", ANONYMOUS))
    assert proxy.blob_requests[1].startswith("bytes=")
    assert dist.store.get(f"127.0.0.1:{proxy.port}/flaky:v1").id == pushed.config_digest


async def test_a_corrupt_blob_leaves_nothing(start_registry: StartRegistry,
                                             tmp_path: Path) -> None:
    domain = start_registry().domain
    async with aiohttp.ClientSession() as session:
        await push_layers(RegistryClient(session, domain), "bad", "v1", ["gzip"])
    async with FaultProxy(domain, "corrupt") as proxy:
        dist = distribution(tmp_path / "store")
        stream = dist.pull(f"127.0.0.1:{proxy.port}/bad", "v1", "", ANONYMOUS)
        assert (await stream.__anext__())["status"] == "Pulling from bad"
        with pytest.raises(SystemFailure, match="verification failed for digest"):
            await drain(stream)
    assert dist.store.ids() == []
    assert scratch_left(dist) == []


async def test_push_checks_mounts_and_round_trips(start_registry: StartRegistry,
                                                  tmp_path: Path) -> None:
    domain = start_registry().domain
    source = distribution(tmp_path / "source")
    image_id = source.store.import_rootfs(
        io.BytesIO(rootfs_tar_bytes(tmp_path)), repo_tag=f"{domain}/bb:v1",
        changes=[])
    pushed = await drain(source.push(f"{domain}/bb", "v1", ANONYMOUS))
    short = source.store.get(image_id).diff_ids[0][7:19]
    assert pushed[0] == {"status": f"The push refers to repository [{domain}/bb]"}
    assert statuses(pushed, short)[0] == "Preparing"
    assert statuses(pushed, short)[-1] == "Pushed"
    digest = pushed[-1]["aux"]["Digest"]
    assert pushed[-2]["status"] == f"v1: digest: {digest} size: {pushed[-1]['aux']['Size']}"
    again = await drain(source.push(f"{domain}/bb", "v1", ANONYMOUS))
    assert statuses(again, short) == ["Preparing", "Layer already exists"]
    source.store.tag(image_id, f"{domain}/other", "v2")
    mounted = await drain(source.push(f"{domain}/other", "", ANONYMOUS))
    assert statuses(mounted, short) == ["Preparing", "Mounted from bb"]
    target = distribution(tmp_path / "target")
    await drain(target.pull(f"{domain}/bb", "v1", "", ANONYMOUS))
    assert target.store.get(f"{domain}/bb:v1").id == image_id
    assert target.store.get(f"{domain}/bb:v1").repo_digests == [f"{domain}/bb@{digest}"]
    with pytest.raises(NotFound, match=f"An image does not exist locally with the tag: "
                                       f"{domain}/nosuch"):
        await drain(source.push(f"{domain}/nosuch", "", ANONYMOUS))
    assert scratch_left(source) == [] and scratch_left(target) == []


async def test_registry_killed_mid_pull_resumes_once_back(start_registry: StartRegistry,
                                                         tmp_path: Path) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        pushed = await push_layers(RegistryClient(session, registry.domain), "big", "v1",
                                   ["gzip"], size=8_000_000)
    loop = asyncio.get_running_loop()
    seen: Records = []

    def restart() -> None:
        with open(registry.root / "registry.log", "ab") as log:
            registry.proc = subprocess.Popen(
                [str(REGISTRY_BIN), "serve", str(registry.root / "config.yml")],
                stdout=log, stderr=subprocess.STDOUT)

    def emit(record: dict[str, Any]) -> None:
        seen.append(record)
        if record["status"] == "Downloading" and registry.proc.poll() is None:
            registry.proc.kill()  # mid-layer: the connection drops with the process
            registry.proc.wait()
            loop.call_later(0.5, restart)

    dist = distribution(tmp_path / "store", RetryPolicy(attempts=5, delay_unit=1.0))
    client = dist.client(registry.domain, RegistryAuth())
    layer = (await client.resolve("big", "v1")).manifest.layers[0]
    staged = await dist.downloads.fetch(client, "big", layer, emit)
    assert staged.diff_id  # verified against the blob digest, then extracted
    discard(staged)
    assert {"status": "Retrying in 1 second", "id": layer.short_id} in seen
    assert seen[-1]["status"] == "Extracting"
    assert seen[-1]["progressDetail"]["total"] == len(pushed.blobs[0])


async def test_docker_hub_names_come_from_the_mirror(start_registry: StartRegistry,
                                                     tmp_path: Path) -> None:
    mirror = start_registry().domain
    async with aiohttp.ClientSession() as session:
        pushed = await push_layers(RegistryClient(session, mirror), "library/mirrored", "v1",
                                   ["gzip"])
    dist = distribution(tmp_path / "store", registry_mirrors=("http://127.0.0.1:1",
                                                              f"http://{mirror}"))
    records = await drain(dist.pull("mirrored", "v1", "", ANONYMOUS))
    assert records[0] == {"status": "Pulling from library/mirrored", "id": "v1"}
    assert records[-1] == {"status": "Status: Downloaded newer image for mirrored:v1"}
    image = dist.store.get("docker.io/library/mirrored:v1")
    assert image.id == pushed.config_digest
    assert image.repo_digests == [f"mirrored@{pushed.manifest_digest}"]


async def test_a_foreign_layer_comes_from_its_own_url(start_registry: StartRegistry,
                                                      tmp_path: Path) -> None:
    # distribution refuses foreign URLs unless its configuration allows them
    domain = start_registry("validation:\n  manifests:\n    urls:\n      allow:\n"
                            "        - '^http://127\\.0\\.0\\.1:'\n").domain
    tar = layer_tar("foreign-file", 20_000)
    blob = compress(tar, "gzip")
    served: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        served.append(request.path)
        return web.Response(body=blob)

    app = web.Application()
    app.router.add_get("/layer.tar.gz", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
            "type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}
        ).encode()
        async with aiohttp.ClientSession() as session:
            client = RegistryClient(session, domain)
            await client.push_blob("win", sha256_digest(config), len(config), source(config))
            manifest = build_image_manifest(
                Descriptor(DOCKER_CONFIG, sha256_digest(config), len(config)),
                [Descriptor(DOCKER_FOREIGN_LAYER, sha256_digest(blob), len(blob),
                            urls=(f"http://127.0.0.1:{port}/layer.tar.gz",))])
            await client.put_manifest("win", "v1", manifest, DOCKER_MANIFEST)
        dist = distribution(tmp_path / "store")
        await drain(dist.pull(f"{domain}/win", "v1", "", ANONYMOUS))
    finally:
        await runner.cleanup()
    assert served == ["/layer.tar.gz"]  # the registry never held it
    assert dist.store.get(f"{domain}/win:v1").id == sha256_digest(config)
