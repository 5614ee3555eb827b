"""Pulling one image (or every tag of a repository) into the store, as dockerd's puller.

Per image: ``Pulling from <path>`` (id: the tag, or the reference for a digest), then per
layer (12-hex of the blob digest) ``Already exists`` or ``Pulling fs layer`` and the
download's own lines, ``Pull complete`` once committed in order; ``Digest: …``. An image
whose config is already stored is not pulled again (dockerd checks the config digest), and
the status line says ``Downloaded newer image`` only if a name moved.

Layers are committed only after their digest and diff ID verified (the download manager
checks the blob, ``LayerStore.commit`` the diff ID); a failure leaves no staged layer and
no image behind.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from pydocker.engine.errors import SystemFailure

from .. import reference
from ..layers import StagedLayer, chain_ids
from ..reference import Reference
from ..registry import RegistryClient, ResolvedImage
from ..store import ImageStore
from . import progress
from .downloads import DownloadManager, discard
from .metadata import BlobMetadata, BlobRecord
from .progress import Emit


@dataclass(frozen=True)
class Target:
    """One image to pull: the reference it goes under and what the registry resolved."""

    ref: Reference
    resolved: ResolvedImage


def pulling_id(ref: Reference) -> str:
    return ref.tag if ref.tag and not ref.digest else ref.familiar()


def status_line(ref: Reference, updated: bool) -> str:
    verb = "Downloaded newer image" if updated else "Image is up to date"
    return f"Status: {verb} for {ref.familiar()}"


class Puller:
    def __init__(self, store: ImageStore, downloads: DownloadManager,
                 client: RegistryClient, metadata: BlobMetadata, emit: Emit) -> None:
        self._store = store
        self._metadata = metadata
        self._downloads = downloads
        self._client = client
        self._emit = emit

    async def pull(self, target: Target) -> bool:
        """Pull one image; True if its reference now names another image than before."""
        ref, resolved = target.ref, target.resolved
        self._emit(progress.message(f"Pulling from {ref.path}", pulling_id(ref)))
        config = resolved.manifest.config.digest
        if not self._store.configs.exists(config):
            raw = await self._client.fetch_small_blob(ref.path, config)
            await self._layers(ref, resolved, raw)
            await asyncio.to_thread(self._store.add_image_raw, raw, config)
        self._emit(progress.message(f"Digest: {resolved.repo_digest}"))
        return await asyncio.to_thread(self._name, ref, config, resolved.repo_digest)

    def _name(self, ref: Reference, image_id: str, repo_digest: str) -> bool:
        refs = self._store.references
        updated = refs.target(str(ref)) != image_id
        refs.set(str(ref), image_id)
        digested = f"{ref.repository}@{repo_digest}"
        if digested != str(ref):
            refs.set(digested, image_id)
        return updated

    async def _layers(self, ref: Reference, resolved: ResolvedImage, raw: bytes) -> None:
        diff_ids = list((json.loads(raw).get("rootfs") or {}).get("diff_ids") or [])
        layers = resolved.manifest.layers
        if len(diff_ids) != len(layers):
            raise SystemFailure("layers from manifest don't match image configuration")
        chains = chain_ids(diff_ids)
        tasks: list[asyncio.Future[StagedLayer] | None] = []
        for layer, chain in zip(layers, chains, strict=True):
            if self._store.has_layer(chain):
                self._emit(progress.action(layer.short_id, "Already exists"))
                tasks.append(None)
                continue
            self._emit(progress.action(layer.short_id, "Pulling fs layer"))
            tasks.append(asyncio.ensure_future(
                self._downloads.fetch(self._client, ref.path, layer, self._emit)))
        try:
            for index, task in enumerate(tasks):
                if task is None:
                    continue
                staged = await task
                try:
                    parent = chains[index - 1] if index else None
                    await asyncio.to_thread(self._store.commit_layer, staged, parent,
                                            diff_ids[index])
                finally:
                    discard(staged)
                # Off the loop: the record is rewritten and fsynced.
                await asyncio.to_thread(self._metadata.add, diff_ids[index], BlobRecord(
                    layers[index].digest, ref.repository, layers[index].size,
                    layers[index].media_type))
                self._emit(progress.action(layers[index].short_id, "Pull complete"))
        finally:
            await _cancel([t for t in tasks if t is not None and not t.done()])


async def _cancel(tasks: list[asyncio.Future[StagedLayer]]) -> None:
    for task in tasks:
        task.cancel()
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, StagedLayer):
            discard(outcome)  # finished as it was cancelled: nobody will commit it


def name_only(ref: str, tag: str) -> Reference:
    """The API's ``fromImage`` and ``tag`` as one reference (dockerd's postImagesCreate):
    a ``tag`` that is a digest pins it; neither tag nor digest means every tag."""
    parsed = reference.parse(ref, default_tag=False)
    if tag:
        bare = Reference(parsed.domain, parsed.path)
        if tag.startswith("sha256:"):
            return reference.parse(f"{bare}@{tag}")
        return reference.parse(f"{bare}:{tag}")
    return parsed
