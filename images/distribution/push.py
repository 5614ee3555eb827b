"""Pushing a repository's tags (or one) to a registry, as dockerd's pusher.

``The push refers to repository [<name>]``; per image, per layer top first (12-hex of its
diff ID): ``Preparing``, ``Waiting`` while the uploads are all busy, then ``Layer already
exists`` (a blob the metadata names, confirmed by HEAD), ``Mounted from <repo>`` (a blob
in another repository of the same registry) or ``Pushing`` and ``Pushed``. Then the
config and manifest, ``<tag>: digest: … size: N`` and the ``aux`` record. The layer's tar
is rebuilt byte for byte from the store and gzipped, so its diff ID holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from pydocker.engine.errors import EngineError, NotFound

from ..layers import chain_ids
from ..reference import Reference
from ..registry import RegistryClient, UploadOutcome
from ..registry.manifest import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    Descriptor,
    build_image_manifest,
)
from ..store import Image, ImageStore
from . import progress
from .gzipstream import GzipStream
from .metadata import BlobMetadata, BlobRecord
from .progress import Emit


def tags_to_push(store: ImageStore, ref: Reference) -> list[tuple[str, str]]:
    """(tag, image ID) for the pushed reference, or every tag of its repository."""
    if ref.tag:
        target = store.references.target(str(ref))
        found = [(ref.tag, target)] if target else []
    else:
        prefix = ref.repository + ":"
        found = sorted((name[len(prefix):], image_id)
                       for name in store.references.all_refs()
                       if name.startswith(prefix)
                       and (image_id := store.references.target(name)) is not None)
    if not found:
        raise NotFound(f"An image does not exist locally with the tag: "
                       f"{ref.familiar_repository}")
    return found


class Pusher:
    def __init__(self, store: ImageStore, client: RegistryClient, metadata: BlobMetadata,
                 slots: asyncio.Semaphore, emit: Emit) -> None:
        self._store = store
        self._client = client
        self._metadata = metadata
        self._slots = slots
        self._emit = emit

    async def push(self, ref: Reference, tag: str, image_id: str) -> None:
        image = await asyncio.to_thread(self._store.get, image_id)
        chains = chain_ids(image.diff_ids)
        pairs = list(zip(image.diff_ids, chains, strict=True))
        for diff_id, _ in reversed(pairs):
            self._emit(progress.action(_short(diff_id), "Preparing"))
        layers = await asyncio.gather(*(self._layer(ref, diff_id, chain)
                                        for diff_id, chain in reversed(pairs)))
        layers.reverse()  # the manifest lists them base first
        manifest = build_image_manifest(await self._config(ref, image), layers)
        digest = await self._client.put_manifest(ref.path, tag, manifest, DOCKER_MANIFEST)
        await asyncio.to_thread(self._store.references.set,
                                f"{ref.repository}@{digest}", image_id)
        self._emit(progress.message(f"{tag}: digest: {digest} size: {len(manifest)}"))
        self._emit(progress.aux({"Tag": tag, "Digest": digest, "Size": len(manifest)}))

    async def _config(self, ref: Reference, image: Image) -> Descriptor:
        if await self._client.blob_size(ref.path, image.id) is None:
            raw = image.raw

            async def chunks() -> AsyncIterator[bytes]:
                yield raw
            await self._client.push_blob(ref.path, image.id, len(raw), chunks)
        return Descriptor(DOCKER_CONFIG, image.id, len(image.raw))

    async def _layer(self, ref: Reference, diff_id: str, chain: str) -> Descriptor:
        short = _short(diff_id)
        if self._slots.locked():
            self._emit(progress.action(short, "Waiting"))
        async with self._slots:
            known = await self._known(ref, diff_id, short)
            if known is not None:
                return known
            return await self._upload(ref, diff_id, chain, short)

    async def _known(self, ref: Reference, diff_id: str, short: str) -> Descriptor | None:
        """A blob the registry already has for this layer: checked, or mounted."""
        records = self._metadata.in_registry(diff_id, ref.domain)
        for record in [r for r in records if r.repository == ref.repository]:
            if await self._client.blob_size(ref.path, record.digest) is not None:
                self._emit(progress.action(short, "Layer already exists"))
                return Descriptor(record.media_type, record.digest, record.size)
            await asyncio.to_thread(self._metadata.remove, diff_id, record)
        for record in [r for r in records if r.repository != ref.repository]:
            try:
                outcome = await self._client.push_blob(ref.path, record.digest, record.size,
                                                       _nothing, mount_from=record.path)
            except EngineError:
                continue  # the registry would not mount it (and took no bytes): upload
            if outcome is UploadOutcome.MOUNTED:
                await self._remember(ref, diff_id, record.digest, record.size,
                                     record.media_type)
                self._emit(progress.action(short, f"Mounted from {record.path}"))
                return Descriptor(record.media_type, record.digest, record.size)
        return None

    async def _upload(self, ref: Reference, diff_id: str, chain: str,
                      short: str) -> Descriptor:
        """Compress and send at once (dockerd's pusher does the same); the Pushing bar
        counts the layer's tar bytes against its size, as dockerd's does."""
        throttle = progress.Throttle()

        def on_progress(current: int, total: int) -> None:
            if throttle.due(current):
                self._emit(progress.progress(short, "Pushing", current, total))

        stream = GzipStream(lambda: self._store.open_layer_tar(chain), on_progress)
        await self._client.push_blob(ref.path, lambda: stream.digest, 0, stream.chunks)
        self._emit(progress.action(short, "Pushed"))
        await self._remember(ref, diff_id, stream.digest, stream.size, DOCKER_LAYER)
        return Descriptor(DOCKER_LAYER, stream.digest, stream.size)

    async def _remember(self, ref: Reference, diff_id: str, digest: str, size: int,
                        media_type: str) -> None:
        """Off the loop: the record is rewritten and fsynced."""
        await asyncio.to_thread(self._metadata.add, diff_id,
                                BlobRecord(digest, ref.repository, size, media_type))


def _short(diff_id: str) -> str:
    return diff_id.split(":", 1)[-1][:12]


async def _nothing() -> AsyncIterator[bytes]:
    """A mount sends no bytes; a registry refusing it gets them from a real upload."""
    return
    yield b""
