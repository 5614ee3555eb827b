"""Registry authentication: challenges, credentials and bearer tokens.

A registry answers an unauthenticated request with 401 and a ``WWW-Authenticate`` challenge
(``Basic realm=...`` or ``Bearer realm=...,service=...,scope=...``). For Bearer, the client
asks the realm (the token service) for a token scoped to ``repository:<name>:pull,push``,
as docker/distribution's ``registry/client/auth`` does: a GET with basic credentials, or, when
an identity (refresh) token is held or OAuth is forced, a POST of an OAuth2 form. Tokens are
cached per scope until they expire.

Credentials reach the engine in the API's ``X-Registry-Auth`` header, which the API decodes
(api.models.auth); here they arrive as a ``RegistryAuth``.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from pydocker.engine.errors import Unauthorized

from .dial import go_verb

CLIENT_ID = "docker"  # dockerd's OAuth client_id (registry.AuthClientID)
MIN_TOKEN_LIFETIME = 60  # seconds; distribution assumes at least this when expires_in is absent

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lower case) and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")

    @property
    def service(self) -> str:
        return self.params.get("service", "")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges (several may share one header)."""
    challenges: list[Challenge] = []
    pos, text = 0, header.strip()
    while pos < len(text):
        scheme_match = re.compile(r"\s*,?\s*([A-Za-z][A-Za-z0-9_-]*)").match(text, pos)
        if not scheme_match:
            break
        scheme, pos = scheme_match.group(1).lower(), scheme_match.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM.match(text, pos)
            # A token followed by something other than '=' starts the next challenge.
            if not param or not param.group(0).strip():
                break
            quoted = param.group(2)
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else param.group(3)
            params[param.group(1).lower()] = value
            pos = param.end()
        challenges.append(Challenge(scheme, params))
    return challenges


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for one registry, as the API's ``X-Registry-Auth`` carries them."""

    username: str = ""
    password: str = ""
    serveraddress: str = ""
    identitytoken: str = ""   # an OAuth refresh token, from an earlier login
    registrytoken: str = ""   # a bearer token to send as is

    @property
    def has_password(self) -> bool:
        return bool(self.username and self.password)


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float
    refresh_token: str = ""

    def fresh(self, now: float) -> bool:
        return now < self.expires_at


class Clock(Protocol):
    def __call__(self) -> float: ...


def repository_scope(repository: str, actions: tuple[str, ...]) -> str:
    return f"repository:{repository}:{','.join(actions)}"


@dataclass(frozen=True)
class TokenOptions:
    force_oauth: bool = False   # POST the OAuth password grant even without a refresh token
    offline: bool = False       # ask for a refresh token (docker login's offline_token)
    clock: Clock = time.monotonic
    verify_tls: bool = True


class TokenAuthority:
    """Fetches and caches bearer tokens for one registry endpoint and one set of credentials.

    The refresh token a login receives (``offline_token``) is kept and reported through
    ``identity_token``, which becomes the API's ``IdentityToken``.
    """

    def __init__(self, session: aiohttp.ClientSession, auth: RegistryAuth,
                 options: TokenOptions | None = None) -> None:
        self._session = session
        self._auth = auth
        self._options = options or TokenOptions()
        self._cache: dict[tuple[str, str, str], Token] = {}
        self.identity_token = auth.identitytoken

    def forget(self, challenge: Challenge, scopes: tuple[str, ...]) -> None:
        """Drop a cached token the registry refused (it expired early or was revoked)."""
        self._cache.pop(self._key(challenge, scopes), None)

    async def authorization(self, challenge: Challenge, scopes: tuple[str, ...]) -> str:
        """The ``Authorization`` value that answers ``challenge`` for ``scopes``."""
        if challenge.scheme == "basic":
            if not self._auth.has_password:
                raise Unauthorized("no basic auth credentials")
            return basic_header(self._auth.username, self._auth.password)
        if self._auth.registrytoken:
            return f"Bearer {self._auth.registrytoken}"
        key = self._key(challenge, scopes)
        token = self._cache.get(key)
        if token is None or not token.fresh(self._options.clock()):
            token = await self._fetch(challenge, scopes)
            self._cache[key] = token
        return f"Bearer {token.value}"

    @staticmethod
    def _key(challenge: Challenge, scopes: tuple[str, ...]) -> tuple[str, str, str]:
        return (challenge.realm, challenge.service, " ".join(sorted(scopes)))

    async def _fetch(self, challenge: Challenge, scopes: tuple[str, ...]) -> Token:
        if not challenge.realm:
            raise Unauthorized("token auth attempt for registry: no realm in challenge")
        if self.identity_token or (self._options.force_oauth and self._auth.has_password):
            return await self._fetch_oauth(challenge, scopes)
        return await self._fetch_basic(challenge, scopes)

    async def _fetch_basic(self, challenge: Challenge, scopes: tuple[str, ...]) -> Token:
        query: list[tuple[str, str]] = [("service", challenge.service)] if challenge.service \
            else []
        query += [("scope", scope) for scope in scopes]
        headers: dict[str, str] = {}
        if self._auth.has_password:
            headers["Authorization"] = basic_header(self._auth.username, self._auth.password)
            query.append(("account", self._auth.username))
            if self._options.offline:
                query += [("offline_token", "true"), ("client_id", CLIENT_ID)]
        return await self._token_request("GET", challenge.realm, params=query, headers=headers)

    async def _fetch_oauth(self, challenge: Challenge, scopes: tuple[str, ...]) -> Token:
        form = {"service": challenge.service, "client_id": CLIENT_ID,
                "scope": " ".join(scopes)}
        if self._options.offline:
            form["access_type"] = "offline"
        if self.identity_token:
            form.update(grant_type="refresh_token", refresh_token=self.identity_token)
        else:
            form.update(grant_type="password", username=self._auth.username,
                        password=self._auth.password)
        return await self._token_request("POST", challenge.realm, data=form)

    async def _token_request(self, method: str, url: str, **kwargs: object) -> Token:
        try:
            async with self._session.request(method, url, ssl=self._options.verify_tls,
                                             **kwargs) as resp:  # type: ignore[arg-type]
                body = await resp.read()
                if resp.status != 200:
                    raise Unauthorized(_token_error(method, url, resp.status, body))
        except aiohttp.ClientError as exc:
            raise Unauthorized(f"{go_verb(method)} \"{url}\": {exc}") from exc
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise Unauthorized(f"unable to decode token response: {exc}") from exc
        value = str(data.get("token") or data.get("access_token") or "")
        if not value:
            raise Unauthorized("authorization server did not include a token in the response")
        lifetime = max(int(data.get("expires_in") or 0), MIN_TOKEN_LIFETIME)
        refresh = str(data.get("refresh_token") or "")
        if refresh:
            self.identity_token = refresh
        return Token(value, self._options.clock() + lifetime, refresh)


def _token_error(method: str, url: str, status: int, body: bytes) -> str:
    """distribution's wording: the token server's own error if it sent one, else the status."""
    try:
        data = json.loads(body)
        detail = data.get("details") or data.get("error_description") or data.get("error")
    except (ValueError, AttributeError):
        detail = None
    if status == 401 or status == 403:
        return f"unauthorized: {detail}" if detail else "unauthorized: authentication required"
    return f"token auth attempt for registry: {method} {url} request failed with status: " \
           f"{status} {detail or ''}".rstrip()
