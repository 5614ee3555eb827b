"""Version routing and the error mapping, against the real app with a tiny fake backend."""

from __future__ import annotations

from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from pydocker.api.server.app import make_app
from pydocker.api.server.backend import Backend
from pydocker.api.server.errors import STATUS_BY_ERROR, status_for
from pydocker.engine import errors


class FakeSystem:
    def version(self) -> dict[str, Any]:
        return {"ApiVersion": "1.50", "Version": "test"}


@pytest.fixture
async def api(aiohttp_client: Any) -> TestClient:
    return await aiohttp_client(make_app(cast(Backend, FakeSystem())))


@pytest.mark.parametrize("prefix", ["", "/v1.24", "/v1.44", "/v1.50", "/v1.4"])
async def test_versioned_and_plain_paths_reach_the_same_handler(api: TestClient,
                                                                prefix: str) -> None:
    if prefix == "/v1.4":
        resp = await api.get(f"{prefix}/_ping")
        assert resp.status == 400
        assert "too old" in (await resp.json())["message"]
        return
    resp = await api.get(f"{prefix}/_ping")
    assert resp.status == 200
    assert await resp.text() == "OK"
    assert resp.headers["Api-Version"] == "1.50"
    assert resp.headers["Ostype"] == "linux"
    assert resp.headers["Server"].startswith("Docker/")


async def test_too_new_version_is_400_with_dockers_message(api: TestClient) -> None:
    resp = await api.get("/v1.99/version")
    assert resp.status == 400
    assert (await resp.json())["message"] == (
        "client version 1.99 is too new. Maximum supported API version is 1.50")


async def test_head_ping_has_no_body(api: TestClient) -> None:
    resp = await api.head("/_ping")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == "0"
    assert resp.headers["Builder-Version"] == "1"


@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("DELETE", "/_ping"),
                                         ("GET", "/v1.44/containers/x/nothing")])
async def test_unknown_routes_are_404_page_not_found(api: TestClient, method: str,
                                                     path: str) -> None:
    resp = await api.request(method, path)
    assert resp.status == 404
    assert await resp.json() == {"message": "page not found"}


async def test_swarm_endpoints_answer_503(api: TestClient) -> None:
    resp = await api.post("/v1.44/swarm/leave")
    assert resp.status == 503
    assert "not part of a swarm" in (await resp.json())["message"]
    resp = await api.get("/swarm")
    assert resp.status == 503


def test_every_engine_error_has_a_status() -> None:
    for cls in errors.EngineError.__subclasses__():
        assert cls in STATUS_BY_ERROR, cls
    assert status_for(errors.NotFound("x")) == 404
    assert status_for(errors.Conflict("x")) == 409
    assert status_for(errors.InvalidParameter("x")) == 400
    assert status_for(errors.NotModified("x")) == 304
    assert status_for(ValueError("x")) == 500
