"""One registry endpoint: where it is, whether it is trusted, and authenticated requests.

``docker.io`` is served by ``registry-1.docker.io`` and its credentials are filed under
``https://index.docker.io/v1/`` (dockerd's ``IndexServer``). Registries on loopback
(``localhost``, 127.0.0.0/8, ``::1``) and those named insecure are tried over plain http as
well as https; every other registry is https only, verified with the system CAs.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from pydocker.engine.errors import SystemFailure, Unauthorized

from .auth import Challenge, TokenAuthority, parse_challenges
from .certs import CERTS_D, tls_context
from .dial import describe, go_verb
from .errcode import error_for

DOCKER_HUB = "docker.io"
DOCKER_HUB_REGISTRY = "registry-1.docker.io"
INDEX_SERVER = "https://index.docker.io/v1/"

Body = bytes | Callable[[], AsyncIterator[bytes]] | None


@dataclass(frozen=True)
class Base:
    url: str           # "https://host:port"
    verify_tls: bool
    tls: ssl.SSLContext | None = None   # from certs.d: extra CAs, a client certificate


@dataclass(frozen=True)
class Endpoint:
    domain: str                 # as references name it: "docker.io", "127.0.0.1:5000"
    bases: tuple[Base, ...]     # tried in order until one answers
    auth_key: str               # where the CLI files this registry's credentials


def _host(domain: str) -> str:
    if domain.startswith("["):
        return domain[1:].partition("]")[0]
    return domain.rsplit(":", 1)[0] if domain.count(":") == 1 else domain


def is_loopback(domain: str) -> bool:
    host = _host(domain)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_insecure(domain: str, insecure_registries: Iterable[str]) -> bool:
    """``--insecure-registry`` entries are ``host[:port]`` names or CIDRs."""
    host = _host(domain)
    for entry in insecure_registries:
        if entry in (domain, host):
            return True
        try:
            if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def resolve_endpoint(domain: str, insecure_registries: Sequence[str] = (),
                     certs_root: Path | None = CERTS_D) -> Endpoint:
    if domain in (DOCKER_HUB, "index.docker.io", DOCKER_HUB_REGISTRY):
        return Endpoint(DOCKER_HUB, (Base(f"https://{DOCKER_HUB_REGISTRY}", True),),
                        INDEX_SERVER)
    if is_loopback(domain):
        # dockerd treats 127.0.0.0/8 as insecure; plain http is what a local registry:2 speaks.
        bases: tuple[Base, ...] = (Base(f"http://{domain}", False),
                                   Base(f"https://{domain}", False))
    elif is_insecure(domain, insecure_registries):
        bases = (Base(f"https://{domain}", False), Base(f"http://{domain}", False))
    else:
        bases = (Base(f"https://{domain}", True),)
    return Endpoint(domain, tuple(_with_certs(b, domain, certs_root) for b in bases), domain)


def _with_certs(base: Base, domain: str, certs_root: Path | None) -> Base:
    if not base.url.startswith("https://"):
        return base
    return Base(base.url, base.verify_tls, tls_context(domain, base.verify_tls, certs_root))


def mirror_endpoint(url: str, insecure_registries: Sequence[str] = ()) -> Endpoint:
    """A ``--registry-mirror`` for Docker Hub: its URL as given (scheme included); names
    and credentials stay Docker Hub's. TLS is verified unless the host is insecure."""
    base = url.rstrip("/")
    host = base.split("://", 1)[-1].split("/", 1)[0]
    verify = base.startswith("https://") and not (
        is_loopback(host) or is_insecure(host, insecure_registries))
    return Endpoint(DOCKER_HUB, (Base(base, verify),), INDEX_SERVER)


class Transport:
    """Requests to one endpoint with the credentials its challenges ask for."""

    def __init__(self, session: aiohttp.ClientSession, endpoint: Endpoint,
                 authority: TokenAuthority) -> None:
        self.session = session
        self.endpoint = endpoint
        self.authority = authority
        self._base: Base | None = None
        self._challenges: list[Challenge] | None = None

    @property
    def base(self) -> Base:
        if self._base is None:
            raise SystemFailure("registry endpoint used before it was pinged")
        return self._base

    async def ping(self) -> list[Challenge]:
        """GET /v2/ on each base in turn; the first that answers is used from then on."""
        if self._challenges is not None:
            return self._challenges
        failures: list[str] = []
        for base in self.endpoint.bases:
            try:
                async with self.session.get(f"{base.url}/v2/", ssl=_ssl(base)) as resp:
                    await resp.read()
                    if resp.status not in (200, 401):
                        failures.append(f"{base.url}/v2/: {resp.status} {resp.reason}")
                        continue
                    self._base = base
                    self._challenges = parse_challenges(
                        ", ".join(resp.headers.getall("WWW-Authenticate", [])))
                    return self._challenges
            except (aiohttp.ClientError, OSError) as exc:
                failures.append(describe("GET", f"{base.url}/v2/", exc))
        # dockerd reports the first endpoint's failure (plain http, for a local registry).
        raise SystemFailure(failures[0] if failures else "no endpoint for registry")

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base.url}/v2/{path}"

    @asynccontextmanager
    async def request(self, method: str, path: str, *, scopes: tuple[str, ...],
                      headers: Mapping[str, str] | None = None, body: Body = None,
                      params: Mapping[str, str] | None = None,
                      ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send with credentials; on a 401 with a fresh challenge, re-authorize and resend
        once (a cached token may have expired early). The caller checks the status."""
        challenges = await self.ping()
        for attempt in range(2):
            send_headers = dict(headers or {})
            challenge = _preferred(challenges)
            if challenge is not None:
                send_headers["Authorization"] = await self._authorization(
                    method, path, challenge, scopes)
            data = body() if callable(body) else body
            resp = await self.session.request(method, self.url(path), headers=send_headers,
                                              data=data, params=params, ssl=_ssl(self.base))
            try:
                if resp.status == 401 and attempt == 0:
                    refused = parse_challenges(", ".join(
                        resp.headers.getall("WWW-Authenticate", [])))
                    if self._worth_retrying(challenge, _preferred(refused), scopes):
                        challenges = refused
                        continue
                yield resp
                return
            finally:
                resp.release()

    async def _authorization(self, method: str, path: str, challenge: Challenge,
                             scopes: tuple[str, ...]) -> str:
        """The credentials for a request; failing, Go's ``Get "<url>": <why>``."""
        try:
            return await self.authority.authorization(challenge, scopes)
        except Unauthorized as exc:
            raise Unauthorized(f"{go_verb(method)} \"{self.url(path)}\": {exc}") from exc

    def _worth_retrying(self, sent: Challenge | None, asked: Challenge | None,
                        scopes: tuple[str, ...]) -> bool:
        """A new challenge, or a bearer token refused (expired early): try once more."""
        if sent is not None and sent.scheme == "bearer":
            self.authority.forget(sent, scopes)
            return asked is not None
        return asked is not None and asked != sent

    async def fail(self, resp: aiohttp.ClientResponse, not_found_prefix: str = "") -> None:
        """Raise the engine error for an unsuccessful response."""
        raise error_for(resp.status, await resp.read(), not_found_prefix)


def _preferred(challenges: Sequence[Challenge]) -> Challenge | None:
    """Bearer when offered (it scopes access), else Basic; unknown schemes are ignored."""
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def _ssl(base: Base) -> ssl.SSLContext | bool:
    """certs.d's context if there is one; else ``True``: verified with the system CAs
    (aiohttp's default), ``False``: unverified."""
    return base.tls if base.tls is not None else base.verify_tls
