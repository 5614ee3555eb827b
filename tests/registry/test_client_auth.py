"""Basic (htpasswd) and token auth against a real docker-registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydocker.engine.errors import Unauthorized
from pydocker.images.registry import RegistryAuth, RegistryClient
from pydocker.images.registry.auth import Challenge, TokenAuthority, TokenOptions

from .helpers import TokenService, push_image, write_htpasswd

pytestmark = pytest.mark.root

USER, PASSWORD = "alice", "s3cret-pw"


@pytest.fixture
def basic_registry(start_registry, tmp_path: Path):
    htpasswd = tmp_path / "htpasswd"
    reason = write_htpasswd(htpasswd, USER, PASSWORD)
    if reason:
        pytest.skip(reason)
    return start_registry(f"auth:\n  htpasswd:\n    realm: basic-realm\n    path: {htpasswd}\n")


@pytest.fixture
async def token_service(tmp_path: Path) -> AsyncIterator[TokenService]:
    service = TokenService(tmp_path, USER, PASSWORD)
    await service.start()
    yield service
    await service.stop()


async def test_basic_auth(basic_registry) -> None:
    domain = basic_registry.domain
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, domain, RegistryAuth(USER, PASSWORD))
        assert await client.login() == ""
        pushed = await push_image(client, "private/app", "v1")
        assert (await client.get_manifest("private/app", "v1")).digest == pushed.digest
        with pytest.raises(Unauthorized) as anonymous:
            await RegistryClient(session, domain).get_manifest("private/app", "v1")
        assert str(anonymous.value) == (f"Get \"http://{domain}/v2/private/app/manifests/v1\": "
                                        "no basic auth credentials")  # dockerd's wording
        wrong = RegistryClient(session, domain, RegistryAuth(USER, "wrong"))
        with pytest.raises(Unauthorized) as refused:
            await wrong.get_manifest("private/app", "v1")
        assert str(refused.value) == "unauthorized: authentication required"
        with pytest.raises(Unauthorized) as login:
            await wrong.login()
        assert str(login.value) == (f"login attempt to http://{domain}/v2/ failed with "
                                    "status: 401 Unauthorized")


async def test_token_auth(start_registry, token_service: TokenService) -> None:
    registry = start_registry(token_service.auth_yaml())
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain, RegistryAuth(USER, PASSWORD))
        pushed = await push_image(client, "tokened/app", "v1")
        assert (await client.get_manifest("tokened/app", "v1")).digest == pushed.digest
        with pytest.raises(Unauthorized):
            await RegistryClient(session, registry.domain).get_manifest("tokened/app", "v1")
        with pytest.raises(Unauthorized) as wrong:
            await RegistryClient(session, registry.domain,
                                 RegistryAuth(USER, "wrong")).get_manifest("tokened/app", "v1")
        assert str(wrong.value) == (  # dockerd: Go's http client names the request
            f"Get \"http://{registry.domain}/v2/tokened/app/manifests/v1\": "
            "unauthorized: incorrect username or password")


async def test_token_login_gives_an_identity_token_that_pulls(
        start_registry, token_service: TokenService) -> None:
    registry = start_registry(token_service.auth_yaml())
    async with aiohttp.ClientSession() as session:
        login = RegistryClient(session, registry.domain, RegistryAuth(USER, PASSWORD),
                               offline_token=True)
        identity = await login.login()
        assert identity == token_service.refresh_token
        pushed = await push_image(login, "tokened/app", "v1")
        token_service.requests.clear()
        refreshed = RegistryClient(session, registry.domain, RegistryAuth(identitytoken=identity))
        assert (await refreshed.get_manifest("tokened/app", "v1")).digest == pushed.digest
        assert token_service.requests == ["POST refresh_token"]


async def test_token_is_cached_per_scope(start_registry, token_service: TokenService) -> None:
    registry = start_registry(token_service.auth_yaml())
    async with aiohttp.ClientSession() as session:
        client = RegistryClient(session, registry.domain, RegistryAuth(USER, PASSWORD))
        await push_image(client, "cached/app", "v1")
        token_service.requests.clear()
        for _ in range(3):
            await client.get_manifest("cached/app", "v1")
        assert token_service.requests == ["GET"]


async def test_expired_token_is_fetched_again(start_registry,
                                              token_service: TokenService) -> None:
    start_registry(token_service.auth_yaml())
    now = [1000.0]
    async with aiohttp.ClientSession() as session:
        authority = TokenAuthority(session, RegistryAuth(USER, PASSWORD),
                                   TokenOptions(clock=lambda: now[0]))
        challenge = Challenge("bearer", {"realm": f"http://127.0.0.1:{token_service.port}/token",
                                         "service": TokenService.SERVICE})
        scopes = ("repository:a:pull",)
        first = await authority.authorization(challenge, scopes)
        assert await authority.authorization(challenge, scopes) == first
        now[0] += 301
        assert await authority.authorization(challenge, scopes) != first
        assert token_service.requests == ["GET", "GET"]
