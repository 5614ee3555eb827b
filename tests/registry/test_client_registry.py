"""The registry client against a real docker-registry (distribution 2.8) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from pydocker.engine.errors import NotFound, SystemFailure
from pydocker.images.registry import (
    BytesSink,
    FileSink,
    Platform,
    RegistryClient,
    RetryPolicy,
    UploadOutcome,
    parse_manifest,
)
from pydocker.images.registry.manifest import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    Descriptor,
    ImageManifest,
    build_index,
    sha256_digest,
)

from .helpers import FaultProxy, layer_blob, push_image, push_random_blob, source

pytestmark = pytest.mark.root

FAST_RETRY = RetryPolicy(attempts=3, delay_unit=0.01)


async def test_push_then_pull_by_tag_and_by_digest(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain)
        pushed = await push_image(client, "team/app", "v1")
        by_tag = await client.get_manifest("team/app", "v1")
        assert by_tag.data == pushed.manifest and by_tag.digest == pushed.digest
        assert by_tag.media_type == DOCKER_MANIFEST
        by_digest = await client.get_manifest("team/app", pushed.digest)
        assert by_digest.data == pushed.manifest
        assert await client.head_manifest("team/app", "v1") == pushed.digest
        resolved = await client.resolve("team/app", "v1")
        assert resolved.index is None and resolved.repo_digest == pushed.digest
        for blob, layer in zip(pushed.layers, resolved.manifest.layers, strict=True):
            sink = BytesSink()
            await client.fetch_blob("team/app", layer.digest, sink, size=layer.size)
            assert sink.data == blob and sink.committed == layer.digest
        assert await client.fetch_small_blob(
            "team/app", resolved.manifest.config.digest) == pushed.config


async def test_blob_head_mount_and_chunked_upload(start_registry) -> None:
    registry = start_registry()
    blob = layer_blob("shared", 50_000)
    digest = sha256_digest(blob)
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain)
        assert await client.blob_size("one/a", digest) is None
        outcome = await client.push_blob("one/a", digest, len(blob), source(blob),
                                         chunk_size=16_384)
        assert outcome is UploadOutcome.PUSHED
        assert await client.blob_size("one/a", digest) == len(blob)
        mounted = await client.push_blob("two/b", digest, len(blob), source(blob),
                                         mount_from="one/a")
        assert mounted is UploadOutcome.MOUNTED
        assert await client.blob_size("two/b", digest) == len(blob)
        # A mount from a repository without the blob falls back to a real upload (202).
        other = layer_blob("other")
        assert await client.push_blob("three/c", sha256_digest(other), len(other),
                                      source(other), mount_from="one/a") \
            is UploadOutcome.PUSHED


async def test_manifest_list_picks_the_platform(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain)
        amd = await push_image(client, "multi", "amd64", "amd64")
        arm = await push_image(client, "multi", "arm64", "arm64", "v8")
        index = build_index([
            Descriptor(DOCKER_MANIFEST, amd.digest, len(amd.manifest),
                       platform=Platform("linux", "amd64")),
            Descriptor(DOCKER_MANIFEST, arm.digest, len(arm.manifest),
                       platform=Platform("linux", "arm64", "v8"))])
        index_digest = await client.put_manifest("multi", "latest", index, DOCKER_LIST)
        default = await client.resolve("multi", "latest")
        assert default.fetched.digest == amd.digest
        assert default.index is not None and default.repo_digest == index_digest
        arm_pick = await client.resolve("multi", "latest", Platform("linux", "aarch64"))
        assert arm_pick.fetched.digest == arm.digest
        with pytest.raises(NotFound) as caught:
            await client.resolve("multi", "latest", Platform("linux", "s390x"))
        assert str(caught.value) == \
            "no matching manifest for linux/s390x in the manifest list entries"


async def test_unknown_repository_and_tag_get_dockers_wording(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain)
        with pytest.raises(NotFound) as manifest:
            await client.get_manifest("x", "y")
        assert str(manifest.value) == (f"manifest for {registry.domain}/x:y not found: "
                                       "manifest unknown: manifest unknown")
        with pytest.raises(NotFound) as tags:
            await client.list_tags("x")
        assert str(tags.value) == (f"repository {registry.domain}/x not found: "
                                   "name unknown: repository name not known to registry")
        assert await client.head_manifest("x", "y") is None
        with pytest.raises(NotFound):
            await client.fetch_blob("x", "sha256:" + "0" * 64, BytesSink())


async def test_tags_are_listed_across_pages(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain)
        pushed = await push_image(client, "paged", "a")
        for tag in ("b", "c"):
            await client.put_manifest("paged", tag, pushed.manifest, DOCKER_MANIFEST)
        assert sorted(await client.list_tags("paged", page_size=1)) == ["a", "b", "c"]


async def test_corrupted_blob_is_rejected_and_nothing_committed(start_registry,
                                                                tmp_path: Path) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        pushed = await push_image(RegistryClient(session, registry.domain), "bad", "v1")
        layer = parse_manifest(pushed.manifest)
        assert isinstance(layer, ImageManifest)
        async with FaultProxy(registry.domain, "corrupt") as proxy:
            client = RegistryClient(session, f"127.0.0.1:{proxy.port}", retry=FAST_RETRY)
            sink = FileSink(tmp_path / "blobs" / "layer")
            with pytest.raises(SystemFailure) as caught:
                await client.fetch_blob("bad", layer.layers[0].digest, sink)
        assert str(caught.value) == \
            f"filesystem layer verification failed for digest {layer.layers[0].digest}"
        assert list((tmp_path / "blobs").iterdir()) == []


async def test_partial_sink_resumes_with_range(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain)
        blob = layer_blob("big", 200_000)
        digest = sha256_digest(blob)
        await client.push_blob("resume", digest, len(blob), source(blob, 50_000))
        half = len(blob) // 2
        sink = BytesSink(blob[:half])
        progress: list[int] = []
        await client.fetch_blob("resume", digest, sink, size=len(blob),
                                on_progress=lambda done, total: progress.append(done))
        assert sink.data == blob and sink.committed == digest
        assert progress[0] > half  # only the rest came over the wire


async def test_dropped_connection_is_retried_from_where_it_stopped(start_registry,
                                                                   tmp_path: Path) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        blob, digest = await push_random_blob(session, registry.domain, "drop", 300_000)
        retries: list[tuple[int, float]] = []
        async with FaultProxy(registry.domain, "drop-once") as proxy:
            client = RegistryClient(session, f"127.0.0.1:{proxy.port}", retry=FAST_RETRY)
            sink = FileSink(tmp_path / "layer")
            await client.fetch_blob("drop", digest, sink, size=len(blob),
                                    on_retry=lambda n, delay, exc: retries.append((n, delay)))
        assert (tmp_path / "layer").read_bytes() == blob
        assert retries == [(1, 0.01)]
        assert proxy.blob_requests[0] == "" and proxy.blob_requests[1].startswith("bytes=")
        assert proxy.blob_requests[1] != "bytes=0-"


async def test_retries_are_bounded(start_registry, tmp_path: Path) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        blob, digest = await push_random_blob(session, registry.domain, "never", 300_000)
        async with FaultProxy(registry.domain, "drop-always") as proxy:
            client = RegistryClient(session, f"127.0.0.1:{proxy.port}", retry=FAST_RETRY)
            retries: list[int] = []
            with pytest.raises(SystemFailure):
                await client.fetch_blob("never", digest, FileSink(tmp_path / "out" / "layer"),
                                        size=len(blob),
                                        on_retry=lambda n, delay, exc: retries.append(n))
        assert retries == [1, 2] and list((tmp_path / "out").iterdir()) == []


async def test_foreign_layer_is_fetched_from_its_urls(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        blob, digest = await push_random_blob(session, registry.domain, "elsewhere", 10_000)
        client = RegistryClient(session, registry.domain)
        sink = BytesSink()
        url = f"http://{registry.domain}/v2/elsewhere/blobs/{digest}"
        await client.fetch_blob("not/this/one", digest, sink, urls=(url,))
        assert sink.data == blob and sink.committed == digest


async def test_unreachable_registry() -> None:
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, "127.0.0.1:1")
        with pytest.raises(SystemFailure, match=r"127\.0\.0\.1:1/v2/"):
            await client.get_manifest("x", "latest")


async def test_blob_redirected_to_another_host(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        blob, digest = await push_random_blob(session, registry.domain, "moved", 10_000)
        async with FaultProxy(registry.domain, "redirect") as proxy:
            client = RegistryClient(session, f"127.0.0.1:{proxy.port}")
            sink = BytesSink()
            await client.fetch_blob("moved", digest, sink)
        assert sink.data == blob and proxy.blob_requests == [""]


async def test_manifest_not_matching_its_digest_is_refused(start_registry) -> None:
    registry = start_registry()
    async with aiohttp.ClientSession() as session:
        pushed = await push_image(RegistryClient(session, registry.domain), "m", "v1")
        async with FaultProxy(registry.domain, "corrupt-manifest") as proxy:
            client = RegistryClient(session, f"127.0.0.1:{proxy.port}")
            with pytest.raises(SystemFailure) as caught:
                await client.get_manifest("m", pushed.digest)
        assert str(caught.value) == f"manifest verification failed for digest {pushed.digest}"
