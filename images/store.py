"""The content-addressed image store.

Layout under the store root::

    configs/<hex>              image config JSON, exactly the bytes whose sha256 is the ID
    layers/<chain hex>/diff    a layer, extracted once; shared by every image that has it
    layers/<chain hex>/meta.json  {"diff_id", "parent", "size"}
    layers/<chain hex>/tar-split.json.gz  what rebuilds the layer's tar byte for byte
                               (or layer.tar itself, hard-linked, when docker load had it)
    repositories.json          {"refs": {"docker.io/library/busybox:latest": "sha256:…"},
                                "tagged_at": {...}}
    rw/<container id>/{upper,work}   each container's writable layer

Layers are shared by chain ID and reference-counted by the images that list them, so
removing one image never breaks another. Everything is written to a temporary name and
renamed into place once complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydocker.engine.errors import Conflict, InvalidParameter, NotFound
from pydocker.engine.filters import labels_match
from pydocker.engine.host.atomic import write_atomic

from . import reference
from .archive import extract_layer
from .changes import apply_changes
from .tarsplit import RebuiltTar, split_size


@dataclass
class StagedLayer:
    dir: Path              # holds diff/ and the tar-split record (or layer.tar)
    diff_id: str
    size: int
    committed_as: str = ""  # the chain ID it was moved to, once committed


def chain_ids(diff_ids: list[str]) -> list[str]:
    """ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
    out: list[str] = []
    for diff in diff_ids:
        if not out:
            out.append(diff)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {diff}".encode()).hexdigest())
    return out


def rfc3339_now() -> str:
    from pydocker.engine.timeutil import rfc3339_now as now
    return now()


@dataclass
class Image:
    id: str
    raw: bytes
    config: dict[str, Any]          # the "config" section: Cmd, Env, ...
    document: dict[str, Any]        # the whole config JSON
    repo_tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def diff_ids(self) -> list[str]:
        return list((self.document.get("rootfs") or {}).get("diff_ids") or [])

    @property
    def created(self) -> str:
        return self.document.get("created") or "0001-01-01T00:00:00Z"

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.RLock()
        for sub in ("configs", "layers", "rw", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self._refs_path = root / "repositories.json"
        self._refs: dict[str, str] = {}
        if self._refs_path.exists():
            self._refs = json.loads(self._refs_path.read_bytes()).get("refs", {})
        shutil.rmtree(root / "tmp", ignore_errors=True)  # half-made layers from a crash
        (root / "tmp").mkdir(exist_ok=True)

    # --- persistence --------------------------------------------------------------------

    def _save_refs(self) -> None:
        write_atomic(self._refs_path, json.dumps({"refs": self._refs}, indent=1).encode())

    def _layer_dir(self, chain_id: str) -> Path:
        return self.root / "layers" / chain_id.removeprefix("sha256:")

    def _config_path(self, image_id: str) -> Path:
        return self.root / "configs" / image_id.removeprefix("sha256:")

    def ids(self) -> list[str]:
        return ["sha256:" + p.name for p in (self.root / "configs").iterdir()
                if not p.name.startswith(".")]

    def _load(self, image_id: str) -> Image:
        raw = self._config_path(image_id).read_bytes()
        doc = json.loads(raw)
        img = Image(id=image_id, raw=raw, config=doc.get("config") or {}, document=doc)
        for ref, target in self._refs.items():
            if target != image_id:
                continue
            parsed = reference.parse(ref)
            (img.repo_digests if parsed.digest else img.repo_tags).append(parsed.familiar())
        img.size = sum(self.layer_size(c) for c in chain_ids(img.diff_ids))
        return img

    def layer_size(self, chain_id: str) -> int:
        try:
            size: int = json.loads((self._layer_dir(chain_id) / "meta.json").read_bytes())["size"]
            return size
        except (OSError, ValueError, KeyError):
            return 0

    # --- layers -------------------------------------------------------------------------

    def add_layer(self, stream: BinaryIO, parent_chain: str | None,
                  expected_diff_id: str | None = None,
                  source_file: Path | None = None) -> tuple[str, str]:
        """Extract one layer tar; returns (diff_id, chain_id). Existing layers are reused.

        ``source_file``, when the stream is that uncompressed tar on our filesystem, is
        hard-linked as the kept copy (it costs nothing); otherwise only a tar-split record
        is kept, and ``docker save`` rebuilds the tar from it."""
        staged = self.stage_layer(stream, source_file=source_file)
        try:
            return staged.diff_id, self.commit_layer(staged, parent_chain, expected_diff_id)
        finally:
            shutil.rmtree(staged.dir, ignore_errors=True)

    def stage_layer(self, stream: BinaryIO, source_file: Path | None = None,
                    under: Path | None = None) -> StagedLayer:
        """Extract a layer before knowing its place in a chain (docker load meets blobs
        before the manifest that orders them). Staged under the store's tmp/ (or
        ``under``, on the same filesystem) so that committing is a rename."""
        tmp = Path(tempfile.mkdtemp(dir=under or self.root / "tmp"))
        try:
            (tmp / "diff").mkdir()
            split_in: Path | None = tmp
            if source_file is not None and _is_plain_tar(source_file):
                os.link(source_file, tmp / "layer.tar")
                split_in = None
            diff_id, size = extract_layer(stream, tmp / "diff", split_in=split_in)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return StagedLayer(tmp, diff_id, size)

    def commit_layer(self, staged: StagedLayer, parent_chain: str | None,
                     expected_diff_id: str | None = None) -> str:
        """Move a staged layer to its chain ID (unless that layer exists); returns it."""
        if expected_diff_id and staged.diff_id != expected_diff_id:
            raise InvalidParameter(
                f"layer digest mismatch: expected {expected_diff_id}, got {staged.diff_id}")
        diff_id = staged.diff_id
        chain = diff_id if parent_chain is None else chain_ids([parent_chain, diff_id])[1]
        final = self._layer_dir(chain)
        with self._lock:
            if not final.exists():
                if staged.committed_as:
                    # Already committed under another parent: the same diff again.
                    _, tar = self.open_layer_tar(staged.committed_as)
                    with tar:
                        staged.dir = self.stage_layer(tar, under=staged.dir.parent).dir
                write_atomic(staged.dir / "meta.json", json.dumps(
                    {"diff_id": diff_id, "parent": parent_chain, "size": staged.size}).encode())
                os.rename(staged.dir, final)
                staged.committed_as = chain
        return chain

    def is_tagged(self, ref: str) -> bool:
        """Whether a full reference (docker.io/library/x:tag or @digest) names an image."""
        return ref in self._refs

    def chains_by_diff_id(self) -> dict[str, str]:
        """Every stored layer's contents → one chain ID holding them (read once per load)."""
        held: dict[str, str] = {}
        for layer in (self.root / "layers").iterdir():
            try:
                held.setdefault(self.layer_diff_id(layer.name), "sha256:" + layer.name)
            except (OSError, ValueError, KeyError):
                continue  # a layer being written or removed
        return held

    def has_layer(self, chain_id: str) -> bool:
        return (self._layer_dir(chain_id) / "meta.json").exists()

    def layer_diff_id(self, chain_id: str) -> str:
        diff_id: str = json.loads((self._layer_dir(chain_id) / "meta.json").read_bytes())[
            "diff_id"]
        return diff_id

    def open_layer_tar(self, chain_id: str) -> tuple[int, BinaryIO]:
        """The layer's uncompressed tar, byte for byte as it came: (size, file object)."""
        layer = self._layer_dir(chain_id)
        kept = layer / "layer.tar"
        if kept.exists():
            return kept.stat().st_size, open(kept, "rb")
        return split_size(layer), RebuiltTar(layer, layer / "diff")  # type: ignore[return-value]

    def layer_diff_dir(self, chain_id: str) -> Path:
        return self._layer_dir(chain_id) / "diff"

    def lower_dirs(self, image_id: str) -> list[str]:
        img = self.get(image_id)
        return [str(self.layer_diff_dir(c)) for c in reversed(chain_ids(img.diff_ids))]

    # --- images -------------------------------------------------------------------------

    def add_image(self, document: dict[str, Any]) -> str:
        """Store a config whose layers are all present; returns the image ID."""
        raw = json.dumps(document, separators=(",", ":")).encode()
        return self.add_image_raw(raw)

    def add_image_raw(self, raw: bytes) -> str:
        doc = json.loads(raw)
        for chain in chain_ids(list((doc.get("rootfs") or {}).get("diff_ids") or [])):
            if not self.has_layer(chain):
                raise InvalidParameter(f"layer {chain} is missing from the store")
        image_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        with self._lock:
            path = self._config_path(image_id)
            if not path.exists():
                write_atomic(path, raw)
        return image_id

    def import_rootfs(self, stream: BinaryIO, *, repo_tag: str | None, changes: list[str],
                      message: str = "", platform: str | None = None) -> str:
        ref = reference.parse(repo_tag) if repo_tag else None
        config = apply_changes({}, changes)
        diff_id, _ = self.add_layer(stream, None)
        os_name, arch = "linux", _host_arch()
        if platform:
            os_name, _, arch = platform.partition("/")
            arch = arch or _host_arch()
        now = rfc3339_now()
        document = {
            "architecture": arch, "config": config, "created": now,
            "history": [{"created": now, "comment": message or "Imported from -"}],
            "os": os_name or "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
        image_id = self.add_image(document)
        if ref is not None:
            self.tag(image_id, ref.repository, ref.tag)
        return image_id

    def resolve(self, ref: str) -> str:
        """Image ID for a name, digest reference, full ID or unique ID prefix."""
        with self._lock:
            if ref.startswith("sha256:") and len(ref) == 71:
                if self._config_path(ref).exists():
                    return ref
                raise NotFound(f"No such image: {ref}")
            try:
                parsed = reference.parse(ref)
            except InvalidParameter:
                parsed = None
            if parsed is not None and str(parsed) in self._refs:
                return self._refs[str(parsed)]
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

    def tag(self, ref: str, repo: str, tag: str = "") -> None:
        image_id = self.resolve(ref)
        target = reference.parse(f"{repo}:{tag}" if tag else repo)
        if target.digest:
            raise InvalidParameter("refusing to create a tag with a digest reference")
        with self._lock:
            self._refs[str(target)] = image_id
            self._save_refs()

    def untag(self, ref: str) -> str:
        parsed = reference.parse(ref)
        with self._lock:
            image_id = self._refs.pop(str(parsed))
            self._save_refs()
        return image_id

    def refs_of(self, image_id: str) -> list[str]:
        return [r for r, i in self._refs.items() if i == image_id]

    def delete(self, ref: str, *, force: bool, noprune: bool,
               users: Callable[[str], list[tuple[str, bool]]]) -> list[dict[str, str]]:
        """docker rmi: untag, and delete the image once nothing names or uses it.

        ``users(image_id)`` lists (container id, running) for containers of that image.
        """
        image_id = self.resolve(ref)
        img = self._load(image_id)
        by_name = not (reference.looks_like_id(ref) and not self._is_name(ref))
        in_use = users(image_id)
        out: list[dict[str, str]] = []
        if by_name:
            parsed = reference.parse(ref)
            refs = self.refs_of(image_id)
            if len(refs) > 1 or (in_use and force):
                self.untag(str(parsed))
                return [{"Untagged": parsed.familiar()}]
            if in_use:
                raise Conflict(
                    f'conflict: unable to remove repository reference "{ref}" (must force) - '
                    f"container {in_use[0][0][:12]} is using its referenced image "
                    f"{img.short_id}")
            self.untag(str(parsed))
            out.append({"Untagged": parsed.familiar()})
        else:
            running = [cid for cid, run in in_use if run]
            if running:
                raise Conflict(f"conflict: unable to delete {img.short_id} (cannot be forced) - "
                               f"image is being used by running container {running[0][:12]}")
            if in_use and not force:
                raise Conflict(f"conflict: unable to delete {img.short_id} (must be forced) - "
                               f"image is being used by stopped container {in_use[0][0][:12]}")
            refs = self.refs_of(image_id)
            if len(refs) > 1 and not force:
                raise Conflict(f"conflict: unable to delete {img.short_id} (must be forced) - "
                               "image is referenced in multiple repositories")
            for r in refs:
                self.untag(r)
                out.append({"Untagged": reference.parse(r).familiar()})
            if in_use:
                return out
        out.extend(self._delete_image(image_id))
        return out

    def _is_name(self, ref: str) -> bool:
        try:
            return str(reference.parse(ref)) in self._refs
        except InvalidParameter:
            return False

    def _delete_image(self, image_id: str) -> list[dict[str, str]]:
        with self._lock:
            doomed = set(chain_ids(self._load(image_id).diff_ids))
            self._config_path(image_id).unlink()
            for other in self.ids():
                doomed -= set(chain_ids(self._load(other).diff_ids))
            for rw in (self.root / "rw").iterdir():
                meta = rw / "image"
                if meta.exists():
                    doomed -= set(chain_ids(self._load(meta.read_text()).diff_ids)) \
                        if self._config_path(meta.read_text()).exists() else set()
        out = [{"Deleted": image_id}]
        for chain in doomed:
            shutil.rmtree(self._layer_dir(chain), ignore_errors=True)
            out.append({"Deleted": chain})
        return out

    def prune(self, *, dangling_only: bool, filters: dict[str, list[str]],
              users: Callable[[str], list[tuple[str, bool]]]) -> dict[str, Any]:
        deleted: list[dict[str, str]] = []
        reclaimed = 0
        for image_id in self.ids():
            img = self._load(image_id)
            if users(image_id) or (dangling_only and img.repo_tags):
                continue
            if not labels_match(img.config.get("Labels") or {}, filters.get("label", [])):
                continue
            reclaimed += img.size
            for r in self.refs_of(image_id):
                self.untag(r)
                deleted.append({"Untagged": reference.parse(r).familiar()})
            deleted.extend(self._delete_image(image_id))
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    # --- listing ------------------------------------------------------------------------

    def list(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
             digests: bool = False) -> list[dict[str, Any]]:
        from .views import list_entry, matches, matching_tags
        filters = filters or {}
        images = [self._load(i) for i in self.ids()]
        by_ref = {r: i for i in images for r in i.repo_tags + [i.id]}
        out = []
        for img in sorted(images, key=lambda i: i.created, reverse=True):
            if matches(img, filters, by_ref):
                tags = matching_tags(img, filters["reference"]) if filters.get(
                    "reference") else None
                out.append(list_entry(img, tags))
        return out

    # --- container layers ---------------------------------------------------------------

    def commit(self, rw_upper: str, parent_id: str, config: dict[str, Any], *,
               created_by: str, comment: str, author: str, repo_tag: str | None) -> str:
        """A new image from a container's writable layer on top of its image."""
        from .layerdiff import upper_tar
        parent = self._load(parent_id)
        chains = chain_ids(parent.diff_ids)
        with tempfile.TemporaryFile(dir=self.root / "tmp") as spool:
            upper_tar(rw_upper, spool)
            spool.seek(0)
            diff_id, _ = self.add_layer(spool, chains[-1] if chains else None)
        doc = commit_layer_document(parent, config, diff_id, created_by, comment, author)
        image_id = self.add_image(doc)
        if repo_tag:
            ref = reference.parse(repo_tag)
            self.tag(image_id, ref.repository, ref.tag)
        return image_id


    def create_rw(self, container_id: str, image_id: str) -> dict[str, Any]:
        lower = self.lower_dirs(image_id)
        rw = self.root / "rw" / container_id
        (rw / "upper").mkdir(parents=True, exist_ok=True)
        (rw / "work").mkdir(exist_ok=True)
        (rw / "image").write_text(image_id)
        return {"lower": lower, "upper": str(rw / "upper"), "work": str(rw / "work")}

    def remove_rw(self, container_id: str) -> None:
        shutil.rmtree(self.root / "rw" / container_id, ignore_errors=True)


def _is_plain_tar(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4)
    return head[:2] != b"\x1f\x8b" and head != b"\x28\xb5\x2f\xfd" and head[:3] != b"BZh"


def _host_arch() -> str:
    from pydocker.engine.system import go_arch
    return go_arch()








def commit_layer_document(parent: Image, config: dict[str, Any], diff_id: str,
                          created_by: str, comment: str, author: str) -> dict[str, Any]:
    """The image config ``docker commit`` writes: the parent's, one layer more."""
    now = rfc3339_now()
    doc = dict(parent.document)
    doc["config"] = config
    doc["created"] = now
    doc["parent"] = parent.id
    if author:
        doc["author"] = author
    doc["container_config"] = None
    doc.pop("container_config")
    history = list(doc.get("history") or [])
    entry = {"created": now, "created_by": created_by}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    doc["history"] = history + [entry]
    rootfs = dict(doc.get("rootfs") or {"type": "layers"})
    rootfs["diff_ids"] = list(rootfs.get("diff_ids") or []) + [diff_id]
    doc["rootfs"] = rootfs
    return doc
