"""Blob transfers: verified, resumable downloads and uploads with cross-repository mounts.

A download streams into the caller's sink and is committed only after its digest matched
(dockerd's ``filesystem layer verification failed``). A dropped connection is retried after
``attempt * 5`` seconds, up to 5 attempts (dockerd's transfer manager), continuing with an
HTTP Range request from what the sink already holds when the registry honours it.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
from pydocker.engine.errors import EngineError, InvalidParameter, SystemFailure
from yarl import URL

from .sinks import BlobSink
from .transport import Transport

ProgressCallback = Callable[[int, int], None]          # (bytes so far, total or 0)
RetryCallback = Callable[[int, float, BaseException], None]   # (attempt, delay s, cause)
ChunkSource = Callable[[], AsyncIterator[bytes]]      # re-openable: a retry starts over


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5        # dockerd's maxDownloadAttempts
    delay_unit: float = 5.0  # dockerd waits attempt * 5 seconds ("Retrying in 5 seconds")

    def delay(self, attempt: int) -> float:
        return attempt * self.delay_unit


def retry_message(seconds: int) -> str:
    """dockerd's progress line while it waits, counting down once a second."""
    return f"Retrying in {seconds} second{'' if seconds == 1 else 's'}"


class _Dropped(Exception):
    """The transfer broke off in a way another attempt may fix."""


_TRANSIENT = (_Dropped, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError,
              asyncio.TimeoutError, ConnectionError)


def _hasher(digest: str) -> hashlib._Hash:
    algorithm = digest.partition(":")[0]
    if algorithm not in ("sha256", "sha512"):
        raise InvalidParameter(f"unsupported digest algorithm: {digest}")
    return hashlib.new(algorithm)


@dataclass
class Download:
    """One blob into one sink; ``run`` commits it or leaves the sink discarded."""

    transport: Transport
    repository: str
    digest: str
    sink: BlobSink
    retry: RetryPolicy
    size: int = 0
    urls: tuple[str, ...] = ()      # a foreign layer's own locations
    on_progress: ProgressCallback | None = None
    on_retry: RetryCallback | None = None

    def __post_init__(self) -> None:
        self._hash = _hasher(self.digest)

    async def run(self) -> None:
        try:
            async for held in self.sink.read_back():
                self._hash.update(held)
            await self._with_retries()
            actual = f"{self._hash.name}:{self._hash.hexdigest()}"
            if actual != self.digest:
                raise SystemFailure(
                    f"filesystem layer verification failed for digest {self.digest}")
        except BaseException:
            await self.sink.discard()
            raise
        await self.sink.commit(self.digest)

    async def _with_retries(self) -> None:
        attempt = 0
        while True:
            try:
                await self._stream_once()
                return
            except EngineError:
                raise
            except _TRANSIENT as exc:
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise SystemFailure(str(exc) or type(exc).__name__) from exc
                delay = self.retry.delay(attempt)
                if self.on_retry is not None:
                    self.on_retry(attempt, delay, exc)
                await asyncio.sleep(delay)

    async def _stream_once(self) -> None:
        offset = self.sink.size
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        if self.urls:
            async with self.transport.session.get(self.urls[0], headers=headers) as resp:
                await self._consume(resp, offset)
            return
        scopes = (f"repository:{self.repository}:pull",)
        async with self.transport.request("GET", f"{self.repository}/blobs/{self.digest}",
                                           scopes=scopes, headers=headers) as resp:
            await self._consume(resp, offset)

    async def _consume(self, resp: aiohttp.ClientResponse, offset: int) -> None:
        if resp.status >= 500:
            raise _Dropped(f"received unexpected HTTP status: {resp.status} {resp.reason}")
        if resp.status == 416 and offset and offset == self.size:
            return  # everything was already held
        if resp.status not in (200, 206):
            await self.transport.fail(resp, f"blob {self.digest} not found")
        if offset and not _continues_at(resp, offset):
            await self.sink.truncate()  # no Range support: start over from byte 0
            self._hash = _hasher(self.digest)
        total = self.size or _total_length(resp)
        async for chunk in resp.content.iter_chunked(1 << 16):
            await self.sink.write(chunk)
            self._hash.update(chunk)
            if self.on_progress is not None:
                self.on_progress(self.sink.size, total)
        if self.size and self.sink.size < self.size:
            raise _Dropped(f"unexpected EOF after {self.sink.size} of {self.size} bytes")


def _continues_at(resp: aiohttp.ClientResponse, offset: int) -> bool:
    content_range = resp.headers.get("Content-Range", "")
    return resp.status == 206 and content_range.startswith(f"bytes {offset}-")


def _total_length(resp: aiohttp.ClientResponse) -> int:
    content_range = resp.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    return resp.content_length or 0


class UploadOutcome(enum.Enum):
    MOUNTED = "mounted"   # "Mounted from <repository>"
    PUSHED = "pushed"     # "Pushed"


async def upload_blob(transport: Transport, repository: str, digest: str | Callable[[], str],
                      size: int, chunks: ChunkSource, *, mount_from: str = "",
                      chunk_size: int = 0,
                      on_progress: ProgressCallback | None = None) -> UploadOutcome:
    """POST an upload (or a mount), PATCH the bytes, PUT with the digest. ``digest`` may be
    a function called once the bytes are sent: a blob compressed as it streams (a push)
    knows its digest only then."""
    scopes: tuple[str, ...] = (f"repository:{repository}:pull,push",)
    params: dict[str, str] = {}
    if mount_from:
        scopes += (f"repository:{mount_from}:pull",)
        assert isinstance(digest, str), "a mount names its blob up front"
        params = {"mount": digest, "from": mount_from}
    async with transport.request("POST", f"{repository}/blobs/uploads/", scopes=scopes,
                                 params=params, headers={"Content-Length": "0"}) as resp:
        if resp.status == 201 and mount_from:
            return UploadOutcome.MOUNTED
        if resp.status != 202:
            await transport.fail(resp, f"repository {repository} not found")
        location = _location(transport, resp)
    if chunk_size:
        sent = 0
        async for piece in _pieces(chunks, chunk_size):
            headers = {"Content-Range": f"{sent}-{sent + len(piece) - 1}",
                       "Content-Length": str(len(piece))}
            location = await _patch(transport, location, scopes, piece, headers)
            sent += len(piece)
            if on_progress is not None:
                on_progress(sent, size)
    else:
        location = await _patch(transport, location, scopes,
                                _counting(chunks, on_progress, size), {})
    final = digest if isinstance(digest, str) else digest()
    async with transport.request("PUT", str(location.update_query(digest=final)),
                                 scopes=scopes, headers={"Content-Length": "0"}) as resp:
        if resp.status not in (201, 204):
            await transport.fail(resp)
    return UploadOutcome.PUSHED


async def _patch(transport: Transport, location: URL, scopes: tuple[str, ...],
                 body: bytes | ChunkSource, headers: dict[str, str]) -> URL:
    headers = {"Content-Type": "application/octet-stream", **headers}
    async with transport.request("PATCH", str(location), scopes=scopes, headers=headers,
                                 body=body) as resp:
        if resp.status != 202:
            await transport.fail(resp)
        return _location(transport, resp)


def _location(transport: Transport, resp: aiohttp.ClientResponse) -> URL:
    location = resp.headers.get("Location", "")
    if not location:
        raise SystemFailure("registry did not return an upload location")
    return URL(transport.base.url).join(URL(location))


def _counting(chunks: ChunkSource, on_progress: ProgressCallback | None,
              total: int) -> ChunkSource:
    """The source again, reporting the bytes handed to the connection as it goes."""
    async def counted() -> AsyncIterator[bytes]:
        done = 0
        async for chunk in chunks():
            done += len(chunk)
            yield chunk
            if on_progress is not None:
                on_progress(done, total)
    return counted


async def _pieces(chunks: ChunkSource, chunk_size: int) -> AsyncIterator[bytes]:
    """Re-cut the source into ``chunk_size`` pieces, each held whole so a PATCH that must
    be re-authorized can be sent again."""
    buffer = bytearray()
    async for chunk in chunks():
        buffer += chunk
        while len(buffer) >= chunk_size:
            yield bytes(buffer[:chunk_size])
            del buffer[:chunk_size]
    if buffer:
        yield bytes(buffer)
