"""Routes against a small fake backend (STYLE 6.3.2): what they parse, what they hand the
backend, how they answer, and that a bad body never reaches the backend at all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any, BinaryIO, cast

import pytest
from aiohttp.test_utils import TestClient
from pydocker.api.models.containers import ContainerCreateRequest
from pydocker.api.models.networks import NetworkConnectRequest
from pydocker.api.server.app import make_app
from pydocker.api.server.backend import Backend
from pydocker.engine.errors import InvalidParameter, NotFound


class FakeBackend:
    """Records each call; one container "c1" exists."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def _get(self, ref: str) -> str:
        if ref != "c1":
            raise NotFound(f"No such container: {ref}")
        return ref

    async def container_create(self, name: str | None, body: ContainerCreateRequest,
                               platform: str | None) -> tuple[str, list[str]]:
        self.calls.append(("create", body))
        return "c1", []

    async def container_list(self, *, all_: bool, limit: int | None, size: bool,
                             filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        self.calls.append(("list", limit))
        return []

    def container_stats(self, ref: str, *, stream: bool, one_shot: bool
                        ) -> AsyncGenerator[dict[str, Any], None]:
        self._get(ref)
        return self._stream([{"id": ref, "n": n} for n in range(3 if stream else 1)])

    def events_stream(self, since: float | None, until: float | None,
                      filters: dict[str, list[str]]) -> AsyncGenerator[dict[str, Any], None]:
        self.calls.append(("events", (since, until, filters)))
        return self._stream([{"Type": "container", "Action": "start"}])

    async def images_load(self, stream: BinaryIO, *, quiet: bool
                          ) -> AsyncGenerator[dict[str, Any], None]:
        # The body is a blocking file for a worker thread, as the real loader reads it.
        if await asyncio.to_thread(stream.read) != b"bad":
            yield {"status": "Loading"}
        raise InvalidParameter("invalid tar archive")

    async def network_connect(self, ref: str, body: NetworkConnectRequest) -> None:
        self.calls.append(("connect", (ref, body)))

    async def _stream(self, items: list[dict[str, Any]]) -> AsyncGenerator[dict[str, Any], None]:
        for item in items:
            yield item


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
async def api(aiohttp_client: Any, fake: FakeBackend) -> TestClient:
    return await aiohttp_client(make_app(cast(Backend, fake)))


async def test_create_hands_the_validated_model_to_the_backend(api: TestClient,
                                                               fake: FakeBackend) -> None:
    resp = await api.post("/v1.50/containers/create", json={
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"Memory": 6 << 20}, "Unknown": 1})
    assert resp.status == 201
    assert await resp.json() == {"Id": "c1", "Warnings": []}
    [(_, body)] = fake.calls
    assert body.wire() == {"Image": "busybox", "Cmd": ["true"],
                           "HostConfig": {"Memory": 6 << 20}}


@pytest.mark.parametrize("raw,message", [
    (b'{"Image": "busybox", "HostConfig": {"Memory": "1g"}}',
     "json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64"),
    (b'{"Image": "busybox", "HostConfig": {"Memory": 99999999999999999999}}',
     ("json: cannot unmarshal number 99999999999999999999 into Go struct field "
      "HostConfig.Memory of type int64")),
    (b'{"Image": "busybox", "Env": "A=1"}',
     "json: cannot unmarshal string into Go struct field Env of type []string"),
    (b'{"Image": "busybox", "Cmd": {}}',
     "json: cannot unmarshal object into Go struct field Cmd of type strslice.StrSlice"),
    (b"[]", "json: cannot unmarshal array into Go value of type ContainerCreateRequest"),
    (b"", "invalid JSON: body is empty"),
    (b"{", "invalid JSON: EOF while parsing an object at line 1 column 1"),
    (b'{"Image": "\xff"}', "invalid JSON: invalid unicode code point at line 1 column 12"),
    (b'{"a":' * 1000 + b"1" + b"}" * 1000, "invalid JSON: recursion limit exceeded"),
])
async def test_a_bad_body_is_400_naming_the_field_and_reaches_no_backend(
        api: TestClient, fake: FakeBackend, raw: bytes, message: str) -> None:
    resp = await api.post("/containers/create", data=raw)
    assert resp.status == 400
    assert (await resp.json())["message"].startswith(message)
    assert fake.calls == []


async def test_connect_passes_the_body_model(api: TestClient, fake: FakeBackend) -> None:
    resp = await api.post("/networks/n1/connect", json={
        "Container": "c1", "EndpointConfig": {"Aliases": ["web"]}})
    assert resp.status == 200
    [(_, (ref, body))] = fake.calls
    assert ref == "n1"
    assert body.container == "c1"
    assert body.endpoint_config is not None and body.endpoint_config.aliases == ["web"]
    resp = await api.post("/networks/n1/connect", json={"Container": 5})
    assert resp.status == 400


async def test_stats_of_an_unknown_container_is_404_before_the_stream(api: TestClient) -> None:
    resp = await api.get("/containers/nope/stats")
    assert resp.status == 404
    assert await resp.json() == {"message": "No such container: nope"}


async def test_stats_are_json_lines(api: TestClient) -> None:
    resp = await api.get("/containers/c1/stats?stream=1")
    assert resp.status == 200
    lines = (await resp.read()).decode().splitlines()
    assert [json.loads(line)["n"] for line in lines] == [0, 1, 2]


async def test_events_parse_the_window_and_filters(api: TestClient, fake: FakeBackend) -> None:
    resp = await api.get("/events", params={"since": "10.5", "until": "20",
                                            "filters": json.dumps({"type": ["container"]})})
    assert resp.status == 200
    assert json.loads(await resp.read()) == {"Type": "container", "Action": "start"}
    assert fake.calls == [("events", (10.5, 20.0, {"type": ["container"]}))]


async def test_events_reject_bad_filters_before_the_stream(api: TestClient,
                                                           fake: FakeBackend) -> None:
    resp = await api.get("/events", params={"filters": json.dumps({"nope": ["x"]})})
    assert resp.status == 400
    assert fake.calls == []


async def test_load_reports_a_failure_in_band_once_progress_was_sent(api: TestClient) -> None:
    resp = await api.post("/images/load", data=b"tar")
    assert resp.status == 200
    lines = [json.loads(line) for line in (await resp.read()).splitlines()]
    assert lines == [{"status": "Loading"}, {"errorDetail": {"message": "invalid tar archive"},
                                             "error": "invalid tar archive"}]


async def test_load_failing_before_any_progress_is_in_band_too(api: TestClient) -> None:
    resp = await api.post("/images/load", data=b"bad")  # as dockerd: 200, error in the stream
    assert resp.status == 200
    assert [json.loads(line) for line in (await resp.read()).splitlines()] == [
        {"errorDetail": {"message": "invalid tar archive"}, "error": "invalid tar archive"}]


@pytest.mark.parametrize("query", ["limit=abc", "limit=99999999999999999999"])
async def test_an_integer_query_beyond_go_int_is_400(api: TestClient, fake: FakeBackend,
                                                     query: str) -> None:
    resp = await api.get(f"/containers/json?{query}")
    assert resp.status == 400
    assert (await resp.json())["message"].startswith("strconv.Atoi: parsing")
    assert fake.calls == []
    resp = await api.get("/containers/json?limit=9223372036854775807")
    assert resp.status == 200
    assert fake.calls == [("list", 2 ** 63 - 1)]
