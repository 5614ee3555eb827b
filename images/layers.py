"""Layers, each extracted once under its chain ID and shared by every image that lists
it; and the containers' writable layers on top of them.

Layout::

    layers/<chain hex>/diff        the layer's files, an overlayfs lower directory
    layers/<chain hex>/meta.json   {"diff_id", "parent", "size"}; written last, so a layer
                                   without it is one being written or removed
    layers/<chain hex>/tar-split.json.gz  what rebuilds the layer's tar byte for byte
                                   (or layer.tar itself, hard-linked, when one was at hand)
    rw/<container id>/{upper,work} a container's writable layer; ``image`` names its image

How a layer gets in (docker load, import, commit, and a registry pull alike):

1. ``stage(stream)`` extracts a tar, plain or compressed, into the scratch directory and
   hashes the uncompressed bytes as they stream past: the diff ID.
2. ``commit(staged, parent, expected_diff_id)`` refuses a layer whose diff ID is not the
   one the image config names, then renames it to its chain ID (on the same filesystem,
   so the layer appears whole or not at all); a chain already held is reused.

A registry client verifies the compressed blob's own digest (the manifest's) as it reads,
before step 2; its config goes to ``content.ConfigStore.put(raw, expected=digest)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypedDict, cast

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.atomic import write_atomic

from .archive import extract_layer
from .compression import Compression, sniff_file
from .tarsplit import RebuiltTar, split_size

META = "meta.json"
KEPT_TAR = "layer.tar"


@dataclass
class StagedLayer:
    dir: Path              # holds diff/ and the tar-split record (or layer.tar)
    diff_id: str
    size: int
    committed_as: str = ""  # the chain ID it was moved to, once committed


class RwLayer(TypedDict):
    """A container's root filesystem, as overlayfs options: lower dirs top first."""

    lower: list[str]
    upper: str
    work: str


def chain_ids(diff_ids: list[str]) -> list[str]:
    """ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
    out: list[str] = []
    for diff in diff_ids:
        if not out:
            out.append(diff)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {diff}".encode()).hexdigest())
    return out


def next_chain(parent_chain: str | None, diff_id: str) -> str:
    return diff_id if parent_chain is None else chain_ids([parent_chain, diff_id])[1]


class LayerStore:
    def __init__(self, root: Path, scratch: Path) -> None:
        self._layers = root / "layers"
        self._rw = root / "rw"
        self._scratch = scratch  # same filesystem as layers/: committing is a rename
        self._lock = threading.Lock()
        for path in (self._layers, self._rw):
            path.mkdir(parents=True, exist_ok=True)

    def _dir(self, chain_id: str) -> Path:
        return self._layers / chain_id.removeprefix("sha256:")

    # --- getting a layer in -------------------------------------------------------------

    def add(self, stream: BinaryIO, parent_chain: str | None,
            expected_diff_id: str | None = None,
            source_file: Path | None = None) -> tuple[str, str]:
        """Stage and commit one layer tar; returns (diff_id, chain_id)."""
        staged = self.stage(stream, source_file=source_file)
        try:
            return staged.diff_id, self.commit(staged, parent_chain, expected_diff_id)
        finally:
            shutil.rmtree(staged.dir, ignore_errors=True)

    def stage(self, stream: BinaryIO, source_file: Path | None = None,
              under: Path | None = None) -> StagedLayer:
        """Extract a layer before knowing its place in a chain (docker load meets blobs
        before the manifest that orders them), under the scratch directory or ``under``
        (on the same filesystem).

        ``source_file``, when the stream is read from that file, is hard-linked as the
        kept copy if it is an uncompressed tar (it costs nothing); a compressed one is not
        the layer's tar, so only a tar-split record is kept, and ``docker save`` rebuilds
        the tar from it."""
        tmp = Path(tempfile.mkdtemp(dir=under or self._scratch))
        try:
            (tmp / "diff").mkdir()
            split_in: Path | None = tmp
            if source_file is not None and sniff_file(source_file) is Compression.NONE:
                os.link(source_file, tmp / KEPT_TAR)
                split_in = None
            diff_id, size = extract_layer(stream, tmp / "diff", split_in=split_in)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return StagedLayer(tmp, diff_id, size)

    def commit(self, staged: StagedLayer, parent_chain: str | None,
               expected_diff_id: str | None = None) -> str:
        """Move a staged layer to its chain ID (unless that layer exists); returns it."""
        if expected_diff_id and staged.diff_id != expected_diff_id:
            raise InvalidParameter(
                f"layer digest mismatch: expected {expected_diff_id}, got {staged.diff_id}")
        chain = next_chain(parent_chain, staged.diff_id)
        final = self._dir(chain)
        with self._lock:
            if not final.exists():
                if staged.committed_as:
                    # Already committed under another parent: the same diff again.
                    _, tar = self.open_tar(staged.committed_as)
                    with tar:
                        staged.dir = self.stage(tar, under=staged.dir.parent).dir
                write_atomic(staged.dir / META, json.dumps(
                    {"diff_id": staged.diff_id, "parent": parent_chain,
                     "size": staged.size}).encode())
                os.rename(staged.dir, final)
                staged.committed_as = chain
        return chain

    # --- reading ------------------------------------------------------------------------

    def has(self, chain_id: str) -> bool:
        return (self._dir(chain_id) / META).exists()

    def diff_id(self, chain_id: str) -> str:
        diff_id: str = json.loads((self._dir(chain_id) / META).read_bytes())["diff_id"]
        return diff_id

    def size(self, chain_id: str) -> int:
        """The extracted size; 0 for a layer that is missing or half-written."""
        try:
            size: int = json.loads((self._dir(chain_id) / META).read_bytes())["size"]
            return size
        except (OSError, ValueError, KeyError):
            return 0

    def chains_by_diff_id(self) -> dict[str, str]:
        """Every stored layer's contents → one chain ID holding them (read once per load)."""
        held: dict[str, str] = {}
        for layer in self._layers.iterdir():
            try:
                held.setdefault(self.diff_id(layer.name), "sha256:" + layer.name)
            except (OSError, ValueError, KeyError):
                continue  # a layer being written or removed
        return held

    def open_tar(self, chain_id: str) -> tuple[int, BinaryIO]:
        """The layer's uncompressed tar, byte for byte as it came: (size, file object)."""
        layer = self._dir(chain_id)
        kept = layer / KEPT_TAR
        if kept.exists():
            return kept.stat().st_size, open(kept, "rb")
        return split_size(layer), cast(BinaryIO, RebuiltTar(layer, layer / "diff"))

    def diff_dir(self, chain_id: str) -> Path:
        return self._dir(chain_id) / "diff"

    def remove(self, chain_id: str) -> None:
        shutil.rmtree(self._dir(chain_id), ignore_errors=True)

    # --- containers' writable layers ----------------------------------------------------

    def create_rw(self, container_id: str, image_id: str, lower: list[str]) -> RwLayer:
        rw = self._rw / container_id
        (rw / "upper").mkdir(parents=True, exist_ok=True)
        (rw / "work").mkdir(exist_ok=True)
        (rw / "image").write_text(image_id)
        return {"lower": lower, "upper": str(rw / "upper"), "work": str(rw / "work")}

    def remove_rw(self, container_id: str) -> None:
        shutil.rmtree(self._rw / container_id, ignore_errors=True)

    def rw_images(self) -> set[str]:
        """The image of every container layer: their layers must stay."""
        return {meta.read_text() for rw in self._rw.iterdir()
                if (meta := rw / "image").exists()}
