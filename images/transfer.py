"""``docker save`` and ``docker load``: docker-archive (manifest.json + repositories, in
the blobs/sha256 layout Docker 25+ writes, which older docker load reads too) and OCI
image layouts (index.json)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

from pydocker.engine.errors import InvalidParameter

from . import reference
from .archive import ForwardReader, clean_name
from .compression import Compression, decompressing, sniff
from .layers import StagedLayer, chain_ids
from .store import ImageStore

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"

Progress = Callable[[dict[str, Any]], None]


# --- save ------------------------------------------------------------------------------

def _add_file(tar: tarfile.TarFile, name: str, size: int, data: BinaryIO) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    tar.addfile(info, data)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    _add_file(tar, name, len(data), io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def save(store: ImageStore, refs: list[str], out: BinaryIO) -> None:
    images = []
    for ref in refs:
        img = store.get(ref)
        tags = []
        try:
            parsed = reference.parse(ref)
            if store.is_tagged(str(parsed)):
                tags = [parsed.familiar()]
        except InvalidParameter:
            pass
        if not tags and not reference.looks_like_id(ref):
            tags = img.repo_tags
        images.append((img, tags))
    written: set[str] = set()
    manifest: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT,
                      bufsize=1 << 20, copybufsize=1 << 20,  # type: ignore[call-overload]
                      ) as tar:  # (typeshed lacks copybufsize, a 3.8+ argument)
        _add_dir(tar, "blobs")
        _add_dir(tar, "blobs/sha256")
        for img, tags in images:
            config_hex = img.id.removeprefix("sha256:")
            if config_hex not in written:
                _add_bytes(tar, f"blobs/sha256/{config_hex}", img.raw)
                written.add(config_hex)
            layers, descriptors = [], []
            for chain in chain_ids(img.diff_ids):
                diff = store.layer_diff_id(chain).removeprefix("sha256:")
                size, layer_tar = store.open_layer_tar(chain)
                with layer_tar:
                    if diff not in written:
                        _add_file(tar, f"blobs/sha256/{diff}", size, layer_tar)
                        written.add(diff)
                layers.append(f"blobs/sha256/{diff}")
                descriptors.append({"mediaType": OCI_LAYER, "digest": f"sha256:{diff}",
                                    "size": size})
            oci_manifest = json.dumps({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": img.id, "size": len(img.raw)},
                "layers": descriptors}, separators=(",", ":")).encode()
            manifest_hex = hashlib.sha256(oci_manifest).hexdigest()
            if manifest_hex not in written:
                _add_bytes(tar, f"blobs/sha256/{manifest_hex}", oci_manifest)
                written.add(manifest_hex)
            manifest.append({"Config": f"blobs/sha256/{config_hex}", "RepoTags": tags or None,
                             "Layers": layers})
            names: list[str | None] = [*tags] or [None]  # untagged: one unnamed entry
            for tag in names:
                entry = {"mediaType": OCI_MANIFEST, "digest": f"sha256:{manifest_hex}",
                         "size": len(oci_manifest)}
                if tag:
                    entry["annotations"] = {"io.containerd.image.name": str(reference.parse(tag)),
                                            "org.opencontainers.image.ref.name":
                                                tag.rpartition(":")[2]}
                    repo, _, t = tag.rpartition(":")
                    repositories.setdefault(repo, {})[t] = config_hex
                index.append(entry)
        _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
        _add_bytes(tar, "repositories", json.dumps(repositories).encode())
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(tar, "index.json", json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                                  "manifests": index}).encode())


# --- load ------------------------------------------------------------------------------

def _looks_like_layer(head: bytes) -> bool:
    """Compressed, or a tar header ("ustar" at offset 257). Configs and manifests are
    JSON; an all-zero empty layer is kept as a file (and extracted from it later)."""
    return sniff(head) is not Compression.NONE or head[257:262] == b"ustar"


def _known_layer(store: ImageStore, held: dict[str, str], parts: list[str],
                 staging: Path) -> StagedLayer | None:
    """A blob named by its digest (``blobs/sha256/<hex>``) that is an uncompressed layer
    the store already holds (``held``: diff ID → a chain ID): no need to extract it again.
    Content addressing makes the name trustworthy — the layer used is the one whose bytes
    hash to it. Handed on as already committed, so a new chain position rebuilds it from
    the stored copy."""
    if len(parts) != 3 or parts[:2] != ["blobs", "sha256"]:
        return None
    chain = held.get("sha256:" + parts[2])
    if chain is None:
        return None
    return StagedLayer(staging / ("known-" + parts[2]), "sha256:" + parts[2],
                       store.layer_size(chain), committed_as=chain)


def _unpack_outer(store: ImageStore, stream: BinaryIO, dest: Path
                  ) -> dict[str, StagedLayer | InvalidParameter]:
    """The archive's regular files, each kept inside ``dest`` — except layer blobs, which
    are extracted as they stream past (staged layers, by archive path): writing them to a
    file first would write every layer twice. A blob that fails to extract is an error
    only if a manifest names it as a layer."""
    staged: dict[str, StagedLayer | InvalidParameter] = {}
    held = store.chains_by_diff_id()
    (dest / ".staged").mkdir()
    try:
        source = io.BufferedReader(ForwardReader(decompressing(stream)), 64 << 10)
        with tarfile.open(fileobj=source, mode="r:") as tar:
            for m in tar:
                parts = clean_name(m.name)
                if not parts:
                    continue
                target = dest.joinpath(*parts)
                if m.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif m.isreg():
                    known = _known_layer(store, held, parts, dest / ".staged")
                    if known is not None:
                        staged["/".join(parts)] = known  # not read: tarfile skips it
                        continue
                    src = tar.extractfile(m)
                    assert src is not None
                    if _looks_like_layer(src.peek(512)[:512]):  # type: ignore[attr-defined]
                        try:
                            layer = store.stage_layer(cast(BinaryIO, src), under=dest / ".staged")
                        except InvalidParameter as exc:
                            staged["/".join(parts)] = exc
                        else:
                            staged["/".join(parts)] = layer
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as f:
                        shutil.copyfileobj(src, f, 1 << 20)
                elif m.issym() or m.islnk():
                    # The legacy layout links layer.tar files to each other.
                    link = "/".join(clean_name(os.path.normpath(
                        os.path.join(os.path.dirname(m.name), m.linkname)) if m.issym()
                        else m.linkname))
                    if link in staged:
                        staged["/".join(parts)] = staged[link]
                        continue
                    linked = dest / link
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if linked.is_file():
                        os.link(linked, target)
    except tarfile.TarError as exc:
        raise InvalidParameter(f"invalid tar archive: {exc}") from None
    except EOFError:
        raise InvalidParameter("invalid tar archive: unexpected end of data") from None
    return staged


def _blob(root: Path, rel: str) -> Path:
    path = root.joinpath(*clean_name(rel))
    if not path.is_file():
        raise InvalidParameter(f"invalid archive: {rel} is missing")
    return path


def _oci_entries(root: Path) -> list[dict[str, Any]]:
    """manifest.json-shaped entries from an OCI layout's index.json."""
    out = []

    def walk(descriptor: dict[str, Any], name: str | None) -> None:
        blob = json.loads(_blob(root, "blobs/" + descriptor["digest"].replace(":", "/"))
                          .read_bytes())
        if "manifests" in blob:
            for child in blob["manifests"]:
                platform = child.get("platform") or {}
                if platform and platform.get("os", "linux") != "linux":
                    continue
                walk(child, name)
                return
            return
        out.append({"Config": "blobs/" + blob["config"]["digest"].replace(":", "/"),
                    "Layers": ["blobs/" + l["digest"].replace(":", "/") for l in blob["layers"]],
                    "RepoTags": [name] if name else None})

    index = json.loads((root / "index.json").read_bytes())
    for desc in index.get("manifests") or []:
        ann = desc.get("annotations") or {}
        name = ann.get("io.containerd.image.name")
        if name:
            name = reference.parse(name).familiar()
        elif ann.get("org.opencontainers.image.ref.name", "").count(":") or "/" in ann.get(
                "org.opencontainers.image.ref.name", ""):
            name = ann["org.opencontainers.image.ref.name"]
        walk(desc, name)
    return out


def load(store: ImageStore, stream: BinaryIO, progress: Progress) -> list[str]:
    tmp = Path(tempfile.mkdtemp(dir=store.scratch))
    try:
        staged = _unpack_outer(store, stream, tmp)
        if (tmp / "manifest.json").exists():
            entries = json.loads((tmp / "manifest.json").read_bytes())
        elif (tmp / "index.json").exists():
            entries = _oci_entries(tmp)
        else:
            raise InvalidParameter("invalid archive: no manifest.json or index.json")
        lines = []
        for entry in entries:
            raw = _blob(tmp, entry["Config"]).read_bytes()
            config = json.loads(raw)
            diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
            layers = entry.get("Layers") or []
            if len(layers) != len(diff_ids):
                raise InvalidParameter("invalid archive: layer count does not match the config")
            parent = None
            for rel, diff_id in zip(layers, diff_ids):
                chain = diff_id if parent is None else chain_ids([parent, diff_id])[1]
                if not store.has_layer(chain):
                    progress({"status": "Loading layer", "id": diff_id[7:19],
                              "progressDetail": {}})
                    layer = staged.get("/".join(clean_name(rel)))
                    if isinstance(layer, InvalidParameter):
                        raise layer
                    if layer is not None:
                        store.commit_layer(layer, parent, expected_diff_id=diff_id)
                    else:
                        blob = _blob(tmp, rel)
                        with open(blob, "rb") as f:
                            store.add_layer(f, parent, expected_diff_id=diff_id,
                                            source_file=blob)
                parent = chain
            image_id = store.add_image_raw(raw)
            tags = entry.get("RepoTags") or []
            for tag in tags:
                parsed = reference.parse(tag)
                store.tag(image_id, parsed.repository, parsed.tag)
                lines.append(f"Loaded image: {parsed.familiar()}")
            if not tags:
                lines.append(f"Loaded image ID: {image_id}")
        return lines
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


