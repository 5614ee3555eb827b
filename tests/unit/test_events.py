"""The event bus and Docker's event filter rules."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydocker.api.server.params import parse_filters
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.events import Event, EventBus, matches

START = Event("container", "start", "abc123", {"name": "web", "image": "busybox", "a": "1"})


@pytest.mark.parametrize("filters,expected", [
    ({}, True),
    ({"type": ["container"]}, True),
    ({"type": ["image"]}, False),
    ({"event": ["start", "die"]}, True),
    ({"event": ["die"]}, False),
    ({"container": ["web"]}, True),
    ({"container": ["abc"]}, True),
    ({"container": ["other"]}, False),
    ({"image": ["busybox"]}, True),
    ({"label": ["a=1"]}, True),
    ({"label": ["a"]}, True),
    ({"label": ["a=2"]}, False),
    ({"type": ["container"], "event": ["die"]}, False),
])
def test_filter_semantics(filters: dict[str, list[str]], expected: bool) -> None:
    assert matches(START, filters) is expected


def test_exec_actions_match_their_prefix() -> None:
    event = Event("container", "exec_start: sh -c true", "abc")
    assert matches(event, {"event": ["exec_start"]})


def test_both_filter_encodings_parse_alike() -> None:
    assert parse_filters('{"label":{"a=b":true}}') == {"label": ["a=b"]}
    assert parse_filters('{"label":["a=b"]}') == {"label": ["a=b"]}
    with pytest.raises(InvalidParameter):
        parse_filters("{not json")
    with pytest.raises(InvalidParameter):
        parse_filters('{"bogus":["x"]}', accepted={"label"})


async def test_subscribers_get_live_events_and_history_keeps_them() -> None:
    bus = EventBus()
    live = bus.subscribe()
    pending = asyncio.ensure_future(anext(live))
    await asyncio.sleep(0)
    sent = bus.publish("container", "create", "id1", {"name": "x"})
    got = await asyncio.wait_for(pending, 1)
    assert got == sent
    assert bus.history(0, None) == [sent]
    assert sent.to_json()["Actor"] == {"ID": "id1", "Attributes": {"name": "x"}}
    assert sent.to_json()["status"] == "create"
    await live.aclose()


async def test_stream_replays_history_then_follows_live_until_until() -> None:
    bus = EventBus()
    old = bus.publish("container", "create", "id1")
    bus.publish("image", "tag", "img")
    since = (old.time_nano - 1_000_000) / 1e9  # seconds, as clients send it
    stream = bus.stream(since, time.time() + 0.3, {"type": ["container"]})
    assert await anext(stream) == old  # the history, filtered
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    live = bus.publish("container", "start", "id1")
    assert await asyncio.wait_for(pending, 1) == live
    with pytest.raises(StopAsyncIteration):  # ``until`` passes with nothing more to send
        await asyncio.wait_for(anext(stream), 2)
    assert not bus._subscribers  # the subscription ends with the stream


async def test_stream_closed_early_unsubscribes() -> None:
    bus = EventBus()
    stream = bus.stream(None, None, {})
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    bus.publish("volume", "create", "v")
    await asyncio.wait_for(pending, 1)
    await stream.aclose()
    assert not bus._subscribers


async def test_a_listener_that_does_not_read_misses_events_past_its_buffer() -> None:
    """dockerd's publisher drops events for a listener 1024 behind; so does the bus, and
    publishing never fails or blocks because of it."""
    from pydocker.engine.events import LISTENER_BUFFER

    bus = EventBus()
    stream = bus.subscribe()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)  # subscribed, waiting for the first event
    for n in range(LISTENER_BUFFER + 100):
        bus.publish("volume", "create", f"v{n}")
    assert (await first).actor_id == "v0"
    got = [(await anext(stream)).actor_id for _ in range(LISTENER_BUFFER - 1)]
    assert got == [f"v{n}" for n in range(1, LISTENER_BUFFER)]
    bus.publish("volume", "create", "late")
    assert (await anext(stream)).actor_id == "late"  # the dropped ones are gone for good
    await stream.aclose()
