"""Image manifests: Docker schema2, OCI image manifests, manifest lists and OCI indexes.

Parsed into frozen dataclasses and validated the way dockerd validates them before it pulls
anything: a known media type, ``schemaVersion`` 2, well-formed digests and sizes. Foreign
(non-distributable) layers keep their ``urls``: dockerd fetches them from there rather than
from the registry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from pydocker.engine.errors import InvalidParameter

from .platforms import Platform

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = OCI_LAYER + "+gzip"
OCI_LAYER_ZSTD = OCI_LAYER + "+zstd"
OCI_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_NONDIST_GZIP = OCI_NONDIST + "+gzip"
OCI_NONDIST_ZSTD = OCI_NONDIST + "+zstd"

IMAGE_MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
INDEXES = (DOCKER_LIST, OCI_INDEX)
# What dockerd sends in Accept, in its order.
ACCEPT = (DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX)

_COMPRESSION = {
    DOCKER_LAYER: "gzip", DOCKER_FOREIGN_LAYER: "gzip",
    OCI_LAYER: "", OCI_LAYER_GZIP: "gzip", OCI_LAYER_ZSTD: "zstd",
    OCI_NONDIST: "", OCI_NONDIST_GZIP: "gzip", OCI_NONDIST_ZSTD: "zstd",
    "application/vnd.docker.image.rootfs.diff.tar": "",
}
_FOREIGN = {DOCKER_FOREIGN_LAYER, OCI_NONDIST, OCI_NONDIST_GZIP, OCI_NONDIST_ZSTD}
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$")
MAX_MANIFEST_SIZE = 4 << 20  # dockerd's maxManifestBodySize


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest says about a blob or a child manifest."""

    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def compression(self) -> str:
        """``gzip``, ``zstd`` or ``""`` (an uncompressed tar)."""
        return _COMPRESSION.get(self.media_type, "gzip")

    @property
    def foreign(self) -> bool:
        """Non-distributable: the registry may not hold it; fetch it from ``urls``."""
        return self.media_type in _FOREIGN

    @property
    def short_id(self) -> str:
        """The 12-hex id dockerd's progress shows for a blob."""
        return self.digest.split(":", 1)[-1][:12]

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"mediaType": self.media_type, "size": self.size,
                                   "digest": self.digest}
        if self.urls:
            data["urls"] = list(self.urls)
        if self.annotations:
            data["annotations"] = dict(self.annotations)
        if self.platform is not None:
            data["platform"] = _platform_json(self.platform)
        return data


@dataclass(frozen=True)
class ImageManifest:
    """A schema2 or OCI image manifest: one config and the layers, base first."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


@dataclass(frozen=True)
class ManifestIndex:
    """A manifest list or OCI index: one manifest per platform."""

    media_type: str
    manifests: tuple[Descriptor, ...]

    def platforms(self) -> list[Platform | None]:
        return [entry.platform for entry in self.manifests]


Manifest = ImageManifest | ManifestIndex


def parse_manifest(data: bytes, media_type: str = "") -> Manifest:
    """Parse and validate a manifest; ``media_type`` is the response's Content-Type."""
    if len(data) > MAX_MANIFEST_SIZE:
        raise InvalidParameter("manifest too large")
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InvalidParameter(f"invalid manifest: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidParameter("invalid manifest: not a JSON object")
    kind = _media_type(doc, media_type)
    if doc.get("schemaVersion") != 2:
        raise InvalidParameter(f"unsupported manifest schema version {doc.get('schemaVersion')}")
    if kind in INDEXES:
        return ManifestIndex(kind, tuple(_descriptor(e) for e in _list(doc, "manifests")))
    config = doc.get("config")
    if not isinstance(config, dict):
        raise InvalidParameter("invalid manifest: missing config")
    return ImageManifest(kind, _descriptor(config),
                         tuple(_descriptor(e) for e in _list(doc, "layers")))


def _media_type(doc: dict[str, object], header: str) -> str:
    declared = str(doc.get("mediaType") or "")
    header = header.split(";", 1)[0].strip()
    if declared and header in ACCEPT and declared != header:
        raise InvalidParameter(f"mediaType in manifest should be '{header}' not '{declared}'")
    kind = declared or header
    if kind not in ACCEPT:
        # OCI allows mediaType to be absent: an index has "manifests", a manifest "config".
        kind = OCI_INDEX if "manifests" in doc else OCI_MANIFEST if "config" in doc else kind
    if kind not in ACCEPT:
        raise InvalidParameter(f"unsupported manifest media type and no default available: "
                               f"{kind}")
    return kind


def _list(doc: dict[str, object], key: str) -> list[dict[str, object]]:
    value = doc.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidParameter(f"invalid manifest: {key} must be a list of descriptors")
    return cast(list[dict[str, object]], value)


def _descriptor(raw: dict[str, object]) -> Descriptor:
    digest, size = raw.get("digest"), raw.get("size")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise InvalidParameter(f"invalid checksum digest format: {digest}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidParameter(f"invalid descriptor size for {digest}")
    urls = raw.get("urls") or []
    annotations = raw.get("annotations") or {}
    plat = raw.get("platform")
    return Descriptor(
        media_type=str(raw.get("mediaType") or ""), digest=digest, size=size,
        urls=tuple(str(u) for u in urls) if isinstance(urls, list) else (),
        platform=_platform(plat) if isinstance(plat, dict) else None,
        annotations={str(k): str(v) for k, v in annotations.items()}
        if isinstance(annotations, dict) else {})


def _platform(raw: Mapping[str, object]) -> Platform:
    return Platform(str(raw.get("os") or ""), str(raw.get("architecture") or ""),
                    str(raw.get("variant") or ""))


def _platform_json(platform: Platform) -> dict[str, str]:
    data = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        data["variant"] = platform.variant
    return data


def _encode(doc: Mapping[str, object]) -> bytes:
    """Indented like the docker CLI writes manifests, so digests are stable and readable."""
    return json.dumps(doc, indent=3).encode()


def build_image_manifest(config: Descriptor, layers: Sequence[Descriptor],
                         media_type: str = DOCKER_MANIFEST) -> bytes:
    """The manifest to push for an image: its config and its (compressed) layers."""
    return _encode({"schemaVersion": 2, "mediaType": media_type, "config": config.to_json(),
                    "layers": [layer.to_json() for layer in layers]})


def build_index(manifests: Sequence[Descriptor], media_type: str = DOCKER_LIST) -> bytes:
    """A manifest list (or OCI index) over per-platform manifests already pushed."""
    return _encode({"schemaVersion": 2, "mediaType": media_type,
                    "manifests": [entry.to_json() for entry in manifests]})
