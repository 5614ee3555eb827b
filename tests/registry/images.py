"""Real images for the pull tests: layer tars compressed as asked, a config naming their
diff IDs, pushed to a registry as a manifest (or an index of several)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass

import zstandard
from pydocker.images.registry import RegistryClient
from pydocker.images.registry.manifest import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_LAYER,
    OCI_LAYER_ZSTD,
    Descriptor,
    build_image_manifest,
    build_index,
    sha256_digest,
)
from pydocker.images.registry.platforms import Platform

from .helpers import source

MEDIA = {"gzip": DOCKER_LAYER, "zstd": OCI_LAYER_ZSTD, "none": OCI_LAYER}


def layer_tar(name: str, size: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    return raw.getvalue()


def compress(tar: bytes, kind: str) -> bytes:
    if kind == "gzip":
        return gzip.compress(tar, mtime=0)
    if kind == "zstd":
        return zstandard.ZstdCompressor().compress(tar)
    return tar


@dataclass
class RemoteImage:
    config_digest: str     # the image ID a pull must end with
    manifest_digest: str
    blobs: list[bytes]     # the layers as pushed (compressed)


async def push_layers(client: RegistryClient, repository: str, tag: str,
                      kinds: list[str], size: int = 50_000,
                      architecture: str = "amd64") -> RemoteImage:
    tars = [layer_tar(f"file-{i}", size) for i in range(len(kinds))]
    blobs = [compress(t, k) for t, k in zip(tars, kinds, strict=True)]
    config = json.dumps({
        "architecture": architecture, "os": "linux", "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]},
    }).encode()
    for blob in (config, *blobs):
        await client.push_blob(repository, sha256_digest(blob), len(blob), source(blob, 65536))
    manifest = build_image_manifest(
        Descriptor(DOCKER_CONFIG, sha256_digest(config), len(config)),
        [Descriptor(MEDIA[k], sha256_digest(b), len(b)) for b, k in zip(blobs, kinds,
                                                                      strict=True)])
    digest = await client.put_manifest(repository, tag, manifest, DOCKER_MANIFEST)
    return RemoteImage(sha256_digest(config), digest, blobs)


async def push_index(client: RegistryClient, repository: str, tag: str,
                     architectures: list[str]) -> tuple[str, dict[str, RemoteImage]]:
    """An index over one image per architecture; (index digest, images by architecture)."""
    images: dict[str, RemoteImage] = {}
    entries = []
    for arch in architectures:
        image = await push_layers(client, repository, f"{tag}-{arch}", ["gzip"],
                                  architecture=arch)
        images[arch] = image
        fetched = await client.get_manifest(repository, image.manifest_digest)
        entries.append(Descriptor(DOCKER_MANIFEST, fetched.digest, len(fetched.data),
                                  platform=Platform("linux", arch)))
    index = build_index(entries)
    return await client.put_manifest(repository, tag, index, DOCKER_LIST), images
