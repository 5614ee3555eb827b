"""The registry routes against a fake backend: what they hand it, and how failures answer
(a real status before the first progress line, in-band after it)."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from pydocker.api.models.auth import AuthConfig
from pydocker.api.server.app import make_app
from pydocker.api.server.backend import Backend
from pydocker.engine.errors import NotFound, Unauthorized

ANONYMOUS_API = AuthConfig.model_validate({})  # no X-Registry-Auth


class FakeRegistryBackend:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def image_pull(self, from_image: str, *, tag: str, platform: str,
                         auth: AuthConfig) -> AsyncGenerator[dict[str, Any], None]:
        self.calls.append(("pull", (from_image, tag, platform, auth)))
        if tag == "missing":
            raise NotFound("manifest for x:missing not found: manifest unknown: manifest unknown")
        yield {"status": "Pulling from x", "id": tag}
        if tag == "broken":
            raise NotFound("blob unknown: blob unknown to registry")

    async def image_push(self, name: str, *, tag: str, auth: AuthConfig
                         ) -> AsyncGenerator[dict[str, Any], None]:
        self.calls.append(("push", (name, tag, auth)))
        yield {"status": f"The push refers to repository [{name}]"}

    async def auth_login(self, body: AuthConfig) -> dict[str, str]:
        self.calls.append(("auth", body))
        if body.password != "right":
            raise Unauthorized("login attempt to http://r/v2/ failed with status: 401 "
                               "Unauthorized")
        return {"IdentityToken": "", "Status": "Login Succeeded"}


@pytest.fixture
def fake() -> FakeRegistryBackend:
    return FakeRegistryBackend()


@pytest.fixture
async def api(aiohttp_client: Any, fake: FakeRegistryBackend) -> TestClient:
    return cast(TestClient, await aiohttp_client(make_app(cast(Backend, fake))))


async def test_pull_hands_the_query_and_auth_header(api: TestClient,
                                                   fake: FakeRegistryBackend) -> None:
    resp = await api.post("/v1.50/images/create?fromImage=127.0.0.1:5000/x&tag=v1"
                          "&platform=linux/arm64", headers={"X-Registry-Auth": "e30="})
    assert resp.status == 200
    assert await resp.read() == b'{"status":"Pulling from x","id":"v1"}\r\n'
    assert fake.calls == [("pull", ("127.0.0.1:5000/x", "v1", "linux/arm64",
                                     ANONYMOUS_API))]


async def test_pull_hands_decoded_credentials_and_unreadable_ones_as_anonymous(
        api: TestClient, fake: FakeRegistryBackend) -> None:
    header = base64.urlsafe_b64encode(b'{"Username": "u", "password": "p"}').decode()
    await api.post("/images/create?fromImage=x&tag=v1", headers={"X-Registry-Auth": header})
    await api.post("/images/create?fromImage=x&tag=v1", headers={"X-Registry-Auth": "%%%"})
    assert [call[1][3] for call in fake.calls] == [
        AuthConfig.model_validate({"username": "u", "password": "p"}), ANONYMOUS_API]


async def test_pull_failures_before_and_after_the_stream(api: TestClient) -> None:
    missing = await api.post("/images/create?fromImage=x&tag=missing")
    assert missing.status == 404
    assert (await missing.json())["message"].startswith("manifest for x:missing not found")
    broken = await api.post("/images/create?fromImage=x&tag=broken")
    assert broken.status == 200
    lines = (await broken.read()).split(b"\r\n")
    assert lines[1] == (b'{"errorDetail":{"message":"blob unknown: blob unknown to registry"},'
                        b'"error":"blob unknown: blob unknown to registry"}')


async def test_push_routes_names_with_slashes(api: TestClient,
                                             fake: FakeRegistryBackend) -> None:
    resp = await api.post("/v1.41/images/127.0.0.1:5000/a/b/push?tag=v2")
    assert resp.status == 200
    assert fake.calls == [("push", ("127.0.0.1:5000/a/b", "v2", ANONYMOUS_API))]


async def test_auth_parses_the_body_and_answers_401(api: TestClient,
                                                   fake: FakeRegistryBackend) -> None:
    ok = await api.post("/auth", json={"username": "u", "password": "right",
                                       "serveraddress": "r"})
    assert await ok.json() == {"IdentityToken": "", "Status": "Login Succeeded"}
    bad = await api.post("/auth", json={"username": "u", "password": "wrong"})
    assert bad.status == 401
    wrong_type = await api.post("/auth", json={"username": 5})
    assert wrong_type.status == 400
    assert [c[0] for c in fake.calls] == ["auth", "auth"]


async def test_auth_takes_the_auth_field_as_username_and_password(
        api: TestClient, fake: FakeRegistryBackend) -> None:
    encoded = base64.b64encode(b"u:right").decode()
    ok = await api.post("/auth", json={"auth": encoded, "serveraddress": "r"})
    assert ok.status == 200
    assert fake.calls[-1][1].username == "u"
    bad = await api.post("/auth", json={"auth": "YQ"})
    assert bad.status == 400
    assert (await bad.json())["message"].startswith("invalid auth configuration: ")
