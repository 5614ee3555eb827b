"""The engine's registry side: pull, push, login, search and distribution inspect, over
one HTTP session for the daemon's lifetime, with one download manager (and upload limit).
A layer transfer shared between pulls outlives the pull that started it, so it cannot run
on that pull's own session.

Pull and push answer as async generators of progress records. Everything that can fail
before the first record (a bad reference, a missing manifest, bad credentials, an
unreachable registry) is raised before it, so the API answers with a real HTTP status;
later failures go in-band.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
from pydocker.engine.errors import EngineError, InvalidParameter

from .. import reference
from ..layers import StagedLayer
from ..reference import Reference
from ..registry import RegistryAuth, RegistryClient, RetryPolicy
from ..registry.certs import CERTS_D
from ..registry.platforms import Platform, host_platform, parse_platform
from ..registry.transport import mirror_endpoint
from ..store import ImageStore
from . import progress, remote
from .downloads import DownloadManager
from .metadata import BlobMetadata
from .progress import Emit, Record
from .pull import Puller, Target, name_only, status_line
from .push import Pusher, tags_to_push

EventSink = Callable[[str, str, str], None]   # (action, reference, repository)


@dataclass(frozen=True)
class RegistryOptions:
    """The daemon's registry settings (dockerd's flags of the same names)."""

    max_concurrent_downloads: int = 3
    max_concurrent_uploads: int = 5
    insecure_registries: tuple[str, ...] = ()
    registry_mirrors: tuple[str, ...] = ()   # Docker Hub only, tried in order before it
    certs_dir: Path | None = CERTS_D          # Docker's per-registry TLS folders
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class Distribution:
    def __init__(self, store: ImageStore, options: RegistryOptions,
                 on_event: EventSink) -> None:
        self.store = store
        self.options = options
        self.on_event = on_event
        self.downloads = DownloadManager(store.scratch, self._stage,
                                         options.max_concurrent_downloads)
        self.upload_slots = asyncio.Semaphore(max(1, options.max_concurrent_uploads))
        self.metadata = BlobMetadata(store.root / "distribution.json")
        self._http: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The daemon's registry session, made on first use (it needs the running loop).

        Without a cookie jar: one client's registry cookies must not reach another's
        requests (each request stands alone, as with Go's http.Client in dockerd)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._http

    async def close(self) -> None:
        """At daemon shutdown: the session's connections go."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def reconfigure(self, options: RegistryOptions) -> None:
        """New settings for pulls and pushes that start from now on (SIGHUP's reload)."""
        self.options = options
        self.downloads.set_limit(options.max_concurrent_downloads)
        self.upload_slots = asyncio.Semaphore(max(1, options.max_concurrent_uploads))

    def _stage(self, stream: BinaryIO, source: Path) -> StagedLayer:
        return self.store.stage_layer(stream, source_file=source)

    def client(self, domain: str, auth: RegistryAuth) -> RegistryClient:
        return RegistryClient(self.session(), domain, auth,
                              insecure_registries=self.options.insecure_registries,
                              retry=self.options.retry, certs_root=self.options.certs_dir)

    async def pull(self, from_image: str, tag: str, platform: str,
                   auth: RegistryAuth) -> AsyncGenerator[Record, None]:
        """``docker pull``: a tag, a digest, or every tag (no tag given)."""
        ref = name_only(from_image, tag)
        wanted = parse_platform(platform) if platform else host_platform()
        client, targets = await self._resolve(ref, auth, wanted)

        async def work(emit: Emit) -> None:
            puller = Puller(self.store, self.downloads, client, self.metadata, emit)
            updated = [await puller.pull(target) for target in targets]
            emit({"status": status_line(ref, any(updated))})
            self.on_event("pull", ref.familiar(), ref.familiar_repository)

        async for record in relay(work):
            yield record

    async def _resolve(self, ref: Reference, auth: RegistryAuth, wanted: Platform
                       ) -> tuple[RegistryClient, list[Target]]:
        """The client and images to pull: from the first Docker Hub mirror that has them
        (dockerd's fall-back order), else from the reference's own registry."""
        if ref.domain == reference.DEFAULT_DOMAIN:
            for mirror in self.options.registry_mirrors:
                client = RegistryClient(
                    self.session(), ref.domain, auth, retry=self.options.retry,
                    endpoint=mirror_endpoint(mirror, self.options.insecure_registries))
                try:
                    return client, await _targets(client, ref, wanted)
                except EngineError:
                    continue  # not there, or the mirror is down: the next, then the origin
        client = self.client(ref.domain, auth)
        return client, await _targets(client, ref, wanted)

    async def push(self, name: str, tag: str, auth: RegistryAuth
                   ) -> AsyncGenerator[Record, None]:
        """``docker push``: one tag, or every tag of the repository (no tag given)."""
        ref = name_only(name, tag)
        if ref.digest:
            raise InvalidParameter("cannot push a digest reference")
        client = self.client(ref.domain, auth)

        async def work(emit: Emit) -> None:
            emit(progress.message(f"The push refers to repository [{ref.repository}]"))
            pusher = Pusher(self.store, client, self.metadata, self.upload_slots, emit)
            for tag_name, image_id in await asyncio.to_thread(tags_to_push, self.store, ref):
                await pusher.push(ref, tag_name, image_id)
            self.on_event("push", ref.familiar(), ref.familiar_repository)

        async for record in relay(work):
            yield record

    async def login(self, auth: RegistryAuth) -> dict[str, str]:
        """``POST /auth``: the credentials checked against the registry they name."""
        domain = remote.server_domain(auth.serveraddress)
        client = RegistryClient(self.session(), domain, auth, offline_token=True,
                                insecure_registries=self.options.insecure_registries,
                                certs_root=self.options.certs_dir)
        token = await client.login()
        return {"IdentityToken": token, "Status": "Login Succeeded"}

    async def inspect(self, name: str, auth: RegistryAuth) -> dict[str, Any]:
        """``GET /distribution/{name}/json``."""
        ref = reference.parse(name)
        client = self.client(ref.domain, auth)
        return await remote.inspect(client, ref.path, ref.digest or ref.tag)

    async def search(self, term: str, limit: int, filters: dict[str, list[str]]
                     ) -> list[dict[str, Any]]:
        """``GET /images/search`` on Docker Hub's index or the registry the term names."""
        index, query = reference.DEFAULT_DOMAIN, term
        first, sep, rest = term.partition("/")
        if sep and ("." in first or ":" in first or first == "localhost"):
            index, query = first, rest
        results = await remote.search(self.session(), index, query, limit or 25)
        return [r for r in results if _search_match(r, filters)]


def _search_match(result: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    for key, field_name in (("is-official", "is_official"), ("is-automated", "is_automated")):
        for wanted in filters.get(key, []):
            if bool(result.get(field_name)) != (wanted.lower() in ("1", "true")):
                return False
    return all(int(result.get("star_count") or 0) >= int(stars)
               for stars in filters.get("stars", []) if stars.isdigit())


async def _targets(client: RegistryClient, ref: Reference,
                   platform: Platform) -> list[Target]:
    if ref.tag or ref.digest:
        return [Target(ref, await client.resolve(ref.path, ref.digest or ref.tag, platform))]
    tags = await client.list_tags(ref.path)
    return [Target(Reference(ref.domain, ref.path, tag),
                   await client.resolve(ref.path, tag, platform)) for tag in sorted(tags)]


async def relay(work: Callable[[Emit], Awaitable[None]]) -> AsyncGenerator[Record, None]:
    """Run ``work`` and yield what it emits as it emits it; its error ends the stream."""
    queue: asyncio.Queue[Record | None] = asyncio.Queue()
    task = asyncio.ensure_future(work(queue.put_nowait))
    task.add_done_callback(lambda _: queue.put_nowait(None))
    try:
        while (record := await queue.get()) is not None:
            yield record
        await task
    finally:
        task.cancel()

