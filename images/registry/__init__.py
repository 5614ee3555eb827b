"""The registry v2 client: the image store's remote side (pull, push, login).

``RegistryClient`` talks to one registry; ``auth`` turns challenges and the API's
``X-Registry-Auth`` into credentials; ``manifest`` parses and builds manifests; ``platforms``
picks an index entry; ``sinks`` is where verified blobs land.
"""

from .auth import RegistryAuth, decode_registry_auth, encode_registry_auth, parse_challenges
from .blobs import RetryPolicy, UploadOutcome, retry_message
from .client import FetchedManifest, RegistryClient, ResolvedImage
from .manifest import Descriptor, ImageManifest, ManifestIndex, parse_manifest
from .platforms import Platform, parse_platform
from .sinks import BlobSink, BytesSink, FileSink

__all__ = [
    "BlobSink", "BytesSink", "Descriptor", "FetchedManifest", "FileSink", "ImageManifest",
    "ManifestIndex", "Platform", "RegistryAuth", "RegistryClient", "ResolvedImage",
    "RetryPolicy", "UploadOutcome", "decode_registry_auth", "encode_registry_auth",
    "parse_challenges", "parse_manifest", "parse_platform", "retry_message",
]
