"""The registry v2 client: the image store's remote side (pull, push, login).

``RegistryClient`` talks to one registry; ``auth`` answers challenges with the credentials
the API decoded; ``manifest`` parses and builds manifests; ``platforms``
picks an index entry; ``sinks`` is where verified blobs land.
"""

from .auth import RegistryAuth, parse_challenges
from .blobs import RetryPolicy, UploadOutcome, retry_message
from .client import FetchedManifest, RegistryClient, ResolvedImage
from .manifest import Descriptor, ImageManifest, ManifestIndex, parse_manifest
from .platforms import Platform, parse_platform
from .sinks import BlobSink, BytesSink, FileSink

__all__ = [
    "BlobSink", "BytesSink", "Descriptor", "FetchedManifest", "FileSink", "ImageManifest",
    "ManifestIndex", "Platform", "RegistryAuth", "RegistryClient", "ResolvedImage",
    "RetryPolicy", "UploadOutcome", "parse_challenges", "parse_manifest", "parse_platform", "retry_message",
]
