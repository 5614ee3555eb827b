"""The image store: configs by digest, layers by chain ID, names, containers' rw layers.

Layout under the store root::

    configs/<hex>          image config JSON, exactly the bytes whose sha256 is the ID
                           (content.ConfigStore)
    layers/<chain hex>/    a layer, extracted once and shared by every image that has it;
    rw/<container id>/     each container's writable layer (layers.LayerStore)
    repositories.json      {"refs": {"docker.io/library/busybox:latest": "sha256:…"}}
                           (refs.ReferenceStore)
    tmp/                   scratch: layers being staged, archives being loaded; emptied
                           at start (what is there was cut short by a crash)

Layers are shared by chain ID and reference-counted by the images (and containers) that
use them, so removing one image never breaks another. Everything is written to a
temporary name and renamed into place once complete. ImageStore is the facade the engine
calls; its parts are public (``configs``, ``layers``, ``references``) for the transfer
code and the registry client, which stage, verify and commit through them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any, BinaryIO

from pydocker.engine.errors import InvalidParameter, NotFound

from . import reference, removal, views
from .changes import apply_changes
from .content import ConfigStore
from .image import Image, commit_layer_document, import_document
from .layerdiff import upper_tar
from .layers import LayerStore, StagedLayer, chain_ids
from .refs import ReferenceStore
from .removal import ImageUsers, Report

__all__ = ["Image", "ImageStore", "StagedLayer", "chain_ids", "commit_layer_document"]


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.RLock()  # removal's reference count against concurrent adds
        self.scratch = root / "tmp"  # on the layers' filesystem: what is staged is renamed
        shutil.rmtree(self.scratch, ignore_errors=True)  # half-made layers from a crash
        self.scratch.mkdir(parents=True)
        self.configs = ConfigStore(root / "configs")
        self.layers = LayerStore(root, self.scratch)
        self.references = ReferenceStore(root / "repositories.json")

    # --- images -------------------------------------------------------------------------

    def ids(self) -> list[str]:
        return self.configs.ids()

    def _load(self, image_id: str) -> Image:
        raw = self.configs.read(image_id)
        doc = json.loads(raw)
        img = Image(id=image_id, raw=raw, config=doc.get("config") or {}, document=doc)
        img.repo_tags, img.repo_digests = self.references.names_of(image_id)
        img.size = sum(self.layers.size(c) for c in chain_ids(img.diff_ids))
        return img

    def resolve(self, ref: str) -> str:
        """Image ID for a name, digest reference, full ID or unique ID prefix."""
        if ref.startswith("sha256:") and len(ref) == 71:
            if self.configs.exists(ref):
                return ref
            raise NotFound(f"No such image: {ref}")
        try:
            parsed: reference.Reference | None = reference.parse(ref)
        except InvalidParameter:
            parsed = None
        named = self.references.target(str(parsed)) if parsed is not None else None
        if named is not None:
            return named
        if reference.looks_like_id(ref):
            bare = ref.removeprefix("sha256:")
            matches = [i for i in self.ids() if i[7:].startswith(bare)]
            if len(matches) == 1:
                return matches[0]
        if parsed is None and not reference.looks_like_id(ref):
            raise InvalidParameter("invalid reference format")
        name = parsed.familiar() if parsed is not None else ref
        raise NotFound(f"No such image: {name}")

    def get(self, ref: str) -> Image:
        return self._load(self.resolve(ref))

    def find(self, ref: str) -> Image | None:
        try:
            return self.get(ref)
        except (NotFound, InvalidParameter):
            return None

    def labels(self, ref: str) -> dict[str, str]:
        """An image's labels (none once it is gone): its config only, without the names
        and layer sizes a whole ``get`` reads."""
        try:
            doc = json.loads(self.configs.read(self.resolve(ref)))
        except (NotFound, InvalidParameter):
            return {}
        return dict((doc.get("config") or {}).get("Labels") or {})

    def add_image(self, document: dict[str, Any]) -> str:
        """Store a config whose layers are all present; returns the image ID."""
        return self.add_image_raw(json.dumps(document, separators=(",", ":")).encode())

    def add_image_raw(self, raw: bytes, expected: str | None = None) -> str:
        """Store a config as given (``expected``: the digest it must have) once every layer
        it lists is in the store; returns the image ID."""
        doc = json.loads(raw)
        for chain in chain_ids(list((doc.get("rootfs") or {}).get("diff_ids") or [])):
            if not self.layers.has(chain):
                raise InvalidParameter(f"layer {chain} is missing from the store")
        with self._lock:
            return self.configs.put(raw, expected)

    # --- names --------------------------------------------------------------------------

    def is_tagged(self, ref: str) -> bool:
        """Whether a full reference (docker.io/library/x:tag or @digest) names an image."""
        return self.references.is_tagged(ref)

    def tag(self, ref: str, repo: str, tag: str = "") -> None:
        image_id = self.resolve(ref)
        target = reference.parse(f"{repo}:{tag}" if tag else repo)
        if target.digest:
            raise InvalidParameter("refusing to create a tag with a digest reference")
        self.references.set(str(target), image_id)

    def untag(self, ref: str) -> str:
        return self.references.pop(str(reference.parse(ref)))

    def refs_of(self, image_id: str) -> list[str]:
        return self.references.refs_of(image_id)

    # --- removal ------------------------------------------------------------------------

    def delete(self, ref: str, *, force: bool, noprune: bool, users: ImageUsers) -> Report:
        """docker rmi (``noprune``: keep the untagged parents a build left).
        ``users(image_id)`` lists (container id, running) for containers of that image."""
        return removal.delete(self, ref, force=force, users=users, prune=not noprune)

    def prune(self, *, dangling_only: bool, filters: dict[str, list[str]],
              users: ImageUsers) -> dict[str, Any]:
        return removal.prune(self, dangling_only=dangling_only, filters=filters, users=users)

    def children(self, image_id: str) -> list[str]:
        """The images whose parent is this one (the builder's step chain)."""
        return [i for i in self.ids() if self._parent(i) == image_id]

    def _parent(self, image_id: str) -> str:
        try:
            parent: str = json.loads(self.configs.read(image_id)).get("parent") or ""
        except (OSError, ValueError):
            return ""  # removed meanwhile
        return parent

    def remove_image(self, image_id: str) -> Report:
        """Delete a config, then every layer of it no other image or container uses."""
        with self._lock:
            doomed = set(chain_ids(self._load(image_id).diff_ids))
            self.configs.delete(image_id)
            keep = set(self.ids()) | {i for i in self.layers.rw_images()
                                      if self.configs.exists(i)}
            for other in keep:
                doomed -= set(chain_ids(self._load(other).diff_ids))
        out = [{"Deleted": image_id}]
        for chain in doomed:
            self.layers.remove(chain)
            out.append({"Deleted": chain})
        return out

    # --- layers -------------------------------------------------------------------------

    def add_layer(self, stream: BinaryIO, parent_chain: str | None,
                  expected_diff_id: str | None = None,
                  source_file: Path | None = None) -> tuple[str, str]:
        """Extract one layer tar; returns (diff_id, chain_id). Existing layers are reused.
        ``source_file``: the file the stream reads, kept as the layer's tar if it is one."""
        return self.layers.add(stream, parent_chain, expected_diff_id, source_file)

    def stage_layer(self, stream: BinaryIO, source_file: Path | None = None,
                    under: Path | None = None) -> StagedLayer:
        return self.layers.stage(stream, source_file, under)

    def commit_layer(self, staged: StagedLayer, parent_chain: str | None,
                     expected_diff_id: str | None = None) -> str:
        return self.layers.commit(staged, parent_chain, expected_diff_id)

    def chains_by_diff_id(self) -> dict[str, str]:
        return self.layers.chains_by_diff_id()

    def has_layer(self, chain_id: str) -> bool:
        return self.layers.has(chain_id)

    def layer_diff_id(self, chain_id: str) -> str:
        return self.layers.diff_id(chain_id)

    def layer_size(self, chain_id: str) -> int:
        return self.layers.size(chain_id)

    def open_layer_tar(self, chain_id: str) -> tuple[int, BinaryIO]:
        return self.layers.open_tar(chain_id)

    def layer_diff_dir(self, chain_id: str) -> Path:
        return self.layers.diff_dir(chain_id)

    def lower_dirs(self, image_id: str) -> list[str]:
        """An image's layer directories, top first (overlayfs lowerdir order)."""
        img = self.get(image_id)
        return [str(self.layers.diff_dir(c)) for c in reversed(chain_ids(img.diff_ids))]

    # --- new images from a tar or a container -------------------------------------------

    def import_rootfs(self, stream: BinaryIO, *, repo_tag: str | None, changes: list[str],
                      message: str = "", platform: str | None = None) -> str:
        """docker import: one layer from a (possibly compressed) tar of a root filesystem."""
        ref = reference.parse(repo_tag) if repo_tag else None
        config = apply_changes({}, changes)
        diff_id, _ = self.add_layer(stream, None)
        image_id = self.add_image(import_document(config, diff_id, message, platform))
        if ref is not None:
            self.tag(image_id, ref.repository, ref.tag)
        return image_id

    def commit(self, rw_upper: str, parent_id: str, config: dict[str, Any], *,
               created_by: str, comment: str, author: str, repo_tag: str | None) -> str:
        """A new image from a container's writable layer on top of its image."""
        parent = self._load(parent_id)
        diff_id = self.add_upper_layer(rw_upper, parent_id)
        assert diff_id is not None  # an empty writable layer is still a layer here
        doc = commit_layer_document(parent, config, diff_id, created_by, comment, author)
        image_id = self.add_image(doc)
        if repo_tag:
            ref = reference.parse(repo_tag)
            self.tag(image_id, ref.repository, ref.tag)
        return image_id

    def add_upper_layer(self, rw_upper: str, parent_id: str, *,
                        leave_out: Collection[str] = (), none_if_empty: bool = False
                        ) -> str | None:
        """A container's writable layer as a layer over ``parent_id``'s: its diff ID.

        The one path from a writable layer to a layer, for ``docker commit`` and the
        builder's RUN steps: the tar is written once, then extracted. ``leave_out`` and
        ``none_if_empty`` are the builder's (its runtime files; no layer for a RUN that
        changed nothing)."""
        with tempfile.TemporaryFile(dir=self.scratch) as spool:
            if not upper_tar(rw_upper, spool, leave_out) and none_if_empty:
                return None
            spool.seek(0)
            diff_id, _ = self.add_layer(spool, self.top_chain(parent_id))
        return diff_id

    def top_chain(self, image_id: str) -> str | None:
        """The chain ID of an image's top layer (None for none: scratch, or no image)."""
        if not image_id:
            return None
        chains = chain_ids(self.get(image_id).diff_ids)
        return chains[-1] if chains else None

    # --- container layers ---------------------------------------------------------------

    def create_rw(self, container_id: str, image_id: str) -> dict[str, Any]:
        """A container's writable layer over its image: {"lower", "upper", "work"}."""
        return dict(self.layers.create_rw(container_id, image_id, self.lower_dirs(image_id)))

    def remove_rw(self, container_id: str) -> None:
        self.layers.remove_rw(container_id)

    def disk_usage(self) -> tuple[int, list[dict[str, Any]]]:
        """``/system/df``'s images: (bytes of every layer counted once, the list entries
        with SharedSize: the bytes of their layers that another image holds too)."""
        images = [self._load(i) for i in self.ids()]
        chains = {img.id: chain_ids(img.diff_ids) for img in images}
        holders: dict[str, int] = {}
        for layers in chains.values():
            for chain in set(layers):
                holders[chain] = holders.get(chain, 0) + 1
        sizes = {chain: self.layers.size(chain) for chain in holders}
        entries = self.list(loaded=images)
        for entry in entries:
            entry["SharedSize"] = sum(sizes[c] for c in set(chains.get(entry["Id"], []))
                                      if holders[c] > 1)
        return sum(sizes.values()), entries

    # --- listing (last: the method's name would shadow the builtin in annotations) -----

    def list(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
             digests: bool = False, loaded: list[Image] | None = None) -> list[dict[str, Any]]:
        """``loaded``: every image, when the caller has just read them all."""
        filters = filters or {}
        images = loaded if loaded is not None else [self._load(i) for i in self.ids()]
        by_ref = {r: i for i in images for r in i.repo_tags + [i.id]}
        parents = {i.document.get("parent") for i in images}
        out = []
        for img in sorted(images, key=lambda i: i.created, reverse=True):
            if not (all or img.repo_tags or img.repo_digests) and img.id in parents:
                continue  # dockerd: an untagged image under another is the build's, not shown
            if views.matches(img, filters, by_ref):
                tags = views.matching_tags(img, filters["reference"]) if filters.get(
                    "reference") else None
                out.append(views.list_entry(img, tags))
        return out
