"""The daemon's event bus: every subsystem publishes here, ``GET /events`` reads here.

Keeps a bounded history so ``since`` can replay recent events, as dockerd does
(it keeps 256); live subscribers each get their own queue, bounded as dockerd's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydocker.engine.filters import labels_match

HISTORY = 1024
LISTENER_BUFFER = 1024  # events a listener may be behind (moby's pubsub bufferSize)

# Event types whose ``Actor.ID`` answers the filter of the same name.
_ID_FILTER_BY_TYPE = {"container": "container", "image": "image", "network": "network",
                      "volume": "volume", "daemon": "daemon"}


@dataclass(frozen=True)
class Event:
    type: str
    action: str
    actor_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    time_nano: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "scope": "local",
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        }
        if self.type in ("container", "image"):
            # The pre-1.22 fields; docker-py users and old scripts still read them.
            out["status"] = self.action
            out["id"] = self.actor_id
            if "image" in self.attributes:
                out["from"] = self.attributes["image"]
        return out


def matches(event: Event, filters: Mapping[str, list[str]]) -> bool:
    """Docker's event filter semantics: OR within one key, AND across keys."""
    for key, values in filters.items():
        if not values:
            continue
        if key == "type":
            ok = event.type in values
        elif key == "event":
            # "exec_start" matches "exec_start: sh -c ..." like dockerd does.
            ok = any(event.action == v or event.action.startswith(v + ":") for v in values)
        elif key == "label":
            ok = any(labels_match(event.attributes, [v]) for v in values)
        elif key == "scope":
            ok = "local" in values
        elif key == "image" and event.type == "container":
            # Container events match on the image they run, as dockerd's matchImage does.
            ok = event.attributes.get("image") in values
        elif key in _ID_FILTER_BY_TYPE.values():
            if event.type != key:
                return False
            name = event.attributes.get("name", "")
            ok = any(v in (event.actor_id, name) or event.actor_id.startswith(v) for v in values)
        else:
            ok = True  # unknown keys are rejected by the API layer before we get here
        if not ok:
            return False
    return True


class EventBus:
    def __init__(self) -> None:
        self._history: deque[Event] = deque(maxlen=HISTORY)
        self._subscribers: set[asyncio.Queue[Event]] = set()

    def publish(self, type_: str, action: str, actor_id: str,
                attributes: Mapping[str, str] | None = None) -> Event:
        event = Event(type_, action, actor_id, dict(attributes or {}), time.time_ns())
        self._history.append(event)
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                # A listener that does not read misses events (dockerd's publisher
                # drops them too, past the same 1024) rather than keeping them all.
                queue.put_nowait(event)
        return event

    def history(self, since_ns: int, until_ns: int | None) -> list[Event]:
        return [e for e in self._history
                if e.time_nano >= since_ns and (until_ns is None or e.time_nano <= until_ns)]

    @contextlib.contextmanager
    def _subscription(self) -> Iterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=LISTENER_BUFFER)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def subscribe(self) -> AsyncGenerator[Event, None]:
        with self._subscription() as queue:
            while True:
                yield await queue.get()

    async def stream(self, since: float | None, until: float | None,
                     filters: Mapping[str, list[str]]) -> AsyncGenerator[Event, None]:
        """``GET /events``: the history from ``since`` (seconds, when given), then live
        events until ``until`` (seconds, when given; else until the consumer stops)."""
        # Subscribe before reading the history so nothing published in between is lost.
        with self._subscription() as queue:
            sent_up_to = 0
            if since is not None:
                until_ns = int(until * 1e9) if until is not None else None
                for event in self.history(int(since * 1e9), until_ns):
                    if matches(event, filters):
                        yield event
                    sent_up_to = event.time_nano
            while (live := await _next_before(queue, until)) is not None:
                if live.time_nano > sent_up_to and matches(live, filters):
                    yield live


async def _next_before(queue: asyncio.Queue[Event], until: float | None) -> Event | None:
    """The next event, or None once ``until`` (seconds since the epoch) has passed."""
    if until is None:
        return await queue.get()
    timeout = until - time.time()
    if timeout <= 0:
        return None
    try:
        return await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        return None
