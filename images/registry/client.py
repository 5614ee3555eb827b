"""The registry v2 client for one registry: manifests, blobs, tags, login.

Built on the caller's ``aiohttp.ClientSession`` (the daemon keeps one). Every method names
the repository by its path inside the registry (``library/busybox``); messages name it as
dockerd does (``busybox``, ``127.0.0.1:5000/x:y``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from pydocker.engine.errors import SystemFailure, Unauthorized
from yarl import URL

from ..reference import Reference
from .auth import RegistryAuth, TokenAuthority, TokenOptions
from .blobs import (
    ChunkSource,
    Download,
    ProgressCallback,
    RetryCallback,
    RetryPolicy,
    UploadOutcome,
    upload_blob,
)
from .certs import CERTS_D
from .manifest import (
    ACCEPT,
    MAX_MANIFEST_SIZE,
    ImageManifest,
    parse_manifest,
    sha256_digest,
)
from .platforms import DEFAULT, Platform, select
from .sinks import BlobSink, BytesSink
from .transport import Endpoint, Transport, resolve_endpoint


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest as the registry served it: its exact bytes are what the digest covers."""

    data: bytes
    media_type: str
    digest: str


@dataclass(frozen=True)
class ResolvedImage:
    """What a pull needs: the manifest for our platform and, if the reference named an index,
    the index too (its digest is the one ``RepoDigests`` records, as dockerd does)."""

    manifest: ImageManifest
    fetched: FetchedManifest
    index: FetchedManifest | None = None

    @property
    def repo_digest(self) -> str:
        return (self.index or self.fetched).digest


class RegistryClient:
    def __init__(self, session: aiohttp.ClientSession, domain: str,
                 auth: RegistryAuth | None = None, *, insecure_registries: Sequence[str] = (),
                 retry: RetryPolicy | None = None, offline_token: bool = False,
                 force_oauth: bool = False, endpoint: Endpoint | None = None,
                 certs_root: Path | None = CERTS_D) -> None:
        """``endpoint``: where to go instead of ``domain``'s own (a Docker Hub mirror);
        ``certs_root``: Docker's certs.d folder (None: none)."""
        self.endpoint: Endpoint = endpoint or resolve_endpoint(domain, insecure_registries,
                                                               certs_root)
        self.retry = retry or RetryPolicy()
        authority = TokenAuthority(session, auth or RegistryAuth(),
                                   TokenOptions(force_oauth=force_oauth, offline=offline_token))
        self._transport = Transport(session, self.endpoint, authority)

    # --- naming -------------------------------------------------------------------------

    def _familiar(self, repository: str, reference: str = "") -> str:
        tag, digest = ("", reference) if ":" in reference else (reference, "")
        return Reference(self.endpoint.domain, repository, tag, digest).familiar()

    # --- login --------------------------------------------------------------------------

    async def login(self) -> str:
        """Check the credentials as ``docker login`` does; returns the identity token the
        token service issued (``""`` when none), for the API's ``IdentityToken``."""
        challenges = await self._transport.ping()
        if not challenges:
            return ""
        async with self._transport.request("GET", "", scopes=()) as resp:
            if resp.status == 401:
                raise Unauthorized(f"login attempt to {self._transport.url('')} failed with "
                                   f"status: 401 Unauthorized")
            if resp.status != 200:
                await self._transport.fail(resp)
        return self._transport.authority.identity_token

    # --- manifests ----------------------------------------------------------------------

    async def get_manifest(self, repository: str, reference: str) -> FetchedManifest:
        """GET a manifest by tag or digest; a digest is checked against the bytes."""
        scopes = (f"repository:{repository}:pull",)
        async with self._transport.request("GET", f"{repository}/manifests/{reference}",
                                           scopes=scopes,
                                           headers={"Accept": ", ".join(ACCEPT)}) as resp:
            if resp.status != 200:
                await self._manifest_failure(resp, repository, reference)
            data = await resp.content.read(MAX_MANIFEST_SIZE + 1)
            media_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip()
            header_digest = resp.headers.get("Docker-Content-Digest", "")
        digest = sha256_digest(data)
        if reference.startswith("sha256:") and digest != reference:
            raise SystemFailure(f"manifest verification failed for digest {reference}")
        if header_digest.startswith("sha256:") and header_digest != digest \
                and not reference.startswith("sha256:"):
            raise SystemFailure(f"manifest verification failed for digest {header_digest}")
        if len(data) > MAX_MANIFEST_SIZE:
            raise SystemFailure("manifest too large")
        return FetchedManifest(data, media_type, digest)

    async def head_manifest(self, repository: str, reference: str) -> str | None:
        """The digest a tag points at (``Docker-Content-Digest``), or None if unknown."""
        scopes = (f"repository:{repository}:pull",)
        async with self._transport.request("HEAD", f"{repository}/manifests/{reference}",
                                           scopes=scopes,
                                           headers={"Accept": ", ".join(ACCEPT)}) as resp:
            if resp.status == 404:
                return None
            if resp.status != 200:
                await self._manifest_failure(resp, repository, reference)
            return resp.headers.get("Docker-Content-Digest") or None

    async def _manifest_failure(self, resp: aiohttp.ClientResponse, repository: str,
                                reference: str) -> None:
        name = self._familiar(repository, reference)
        if resp.status == 403:
            await self._transport.fail(resp, "pull access denied for "
                                       f"{self._familiar(repository)}, repository does not "
                                       "exist or may require 'docker login'")
        await self._transport.fail(resp, f"manifest for {name} not found")

    async def resolve(self, repository: str, reference: str,
                      platform: Platform = DEFAULT) -> ResolvedImage:
        """The image manifest to pull for ``platform``, through an index if there is one."""
        fetched = await self.get_manifest(repository, reference)
        parsed = parse_manifest(fetched.data, fetched.media_type)
        if isinstance(parsed, ImageManifest):
            return ResolvedImage(parsed, fetched)
        chosen = parsed.manifests[select(parsed.platforms(), platform)]
        child = await self.get_manifest(repository, chosen.digest)
        child_parsed = parse_manifest(child.data, child.media_type)
        if not isinstance(child_parsed, ImageManifest):
            raise SystemFailure(f"manifest {chosen.digest} in the index is not an image")
        return ResolvedImage(child_parsed, child, fetched)

    async def put_manifest(self, repository: str, reference: str, data: bytes,
                           media_type: str) -> str:
        """PUT a manifest under a tag (or its digest); returns the digest."""
        scopes = (f"repository:{repository}:pull,push",)
        async with self._transport.request("PUT", f"{repository}/manifests/{reference}",
                                           scopes=scopes, body=data,
                                           headers={"Content-Type": media_type}) as resp:
            if resp.status not in (200, 201, 202):
                await self._transport.fail(resp)
            return resp.headers.get("Docker-Content-Digest") or sha256_digest(data)

    # --- blobs --------------------------------------------------------------------------

    async def blob_size(self, repository: str, digest: str) -> int | None:
        """HEAD a blob: its size if the repository has it, else None."""
        scopes = (f"repository:{repository}:pull",)
        async with self._transport.request("HEAD", f"{repository}/blobs/{digest}",
                                           scopes=scopes) as resp:
            if resp.status == 404:
                return None
            if resp.status != 200:
                await self._transport.fail(resp)
            return resp.content_length or 0

    async def fetch_blob(self, repository: str, digest: str, sink: BlobSink, *,
                         size: int = 0, urls: tuple[str, ...] = (),
                         on_progress: ProgressCallback | None = None,
                         on_retry: RetryCallback | None = None) -> None:
        """Stream a blob into ``sink``; ``sink.commit(digest)`` runs only once it verified.
        ``urls`` are a foreign layer's own locations, fetched without registry credentials."""
        await Download(self._transport, repository, digest, sink, self.retry, size=size,
                       urls=urls, on_progress=on_progress, on_retry=on_retry).run()

    async def fetch_small_blob(self, repository: str, digest: str) -> bytes:
        """A config blob or similar, verified, in memory."""
        sink = BytesSink()
        await self.fetch_blob(repository, digest, sink)
        return sink.data

    async def push_blob(self, repository: str, digest: str | Callable[[], str], size: int,
                        chunks: ChunkSource,
                        *, mount_from: str = "", chunk_size: int = 0,
                        on_progress: ProgressCallback | None = None) -> UploadOutcome:
        """Upload a blob, or mount it from ``mount_from`` in the same registry if allowed.
        ``chunks`` is called again if the upload must be resent."""
        return await upload_blob(self._transport, repository, digest, size, chunks,
                                 mount_from=mount_from, chunk_size=chunk_size,
                                 on_progress=on_progress)

    # --- tags ---------------------------------------------------------------------------

    async def list_tags(self, repository: str, page_size: int = 0) -> list[str]:
        """Every tag, following the ``Link: <...>; rel="next"`` pages."""
        scopes = (f"repository:{repository}:pull",)
        path = f"{repository}/tags/list" + (f"?n={page_size}" if page_size else "")
        tags: list[str] = []
        while path:
            async with self._transport.request("GET", path, scopes=scopes) as resp:
                if resp.status != 200:
                    await self._transport.fail(resp, f"repository {self._familiar(repository)}"
                                               " not found")
                body = await resp.json(content_type=None)
                tags += [str(tag) for tag in (body.get("tags") or [])]
                next_link = resp.links.get("next")
            path = str(URL(self._transport.base.url).join(URL(str(next_link["url"])))) \
                if next_link else ""
        return tags
