"""/_ping, /version, /info, /events, /system/df."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web
from pydocker.api.server.responses import json_response

from ..backend import daemon
from ..params import filters, parse_timestamp

EVENT_FILTERS = {"container", "daemon", "event", "image", "label", "network", "node",
                 "plugin", "scope", "secret", "service", "type", "volume", "config"}

PING_HEADERS = {
    "Builder-Version": "1",
    "Swarm": "inactive",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
}


async def get_ping(request: web.Request) -> web.Response:
    headers = dict(PING_HEADERS)
    if request.method == "HEAD":
        headers["Content-Type"] = "text/plain; charset=utf-8"
        headers["Content-Length"] = "0"
        return web.Response(status=200, headers=headers)
    return web.Response(text="OK", content_type="text/plain", charset="utf-8", headers=headers)


async def get_version(request: web.Request) -> web.Response:
    return json_response(daemon(request).version())


async def get_info(request: web.Request) -> web.Response:
    return json_response(await daemon(request).info())


async def get_system_df(request: web.Request) -> web.Response:
    return json_response(await daemon(request).system_df())


async def get_events(request: web.Request) -> web.StreamResponse:
    wanted = filters(request, EVENT_FILTERS)
    since = parse_timestamp(request.query.get("since", ""), "since")
    until = parse_timestamp(request.query.get("until", ""), "until")
    bus = daemon(request).events
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    # Subscribe before replaying history so nothing published in between is lost.
    live = bus.subscribe()
    pending = asyncio.ensure_future(anext(live))
    try:
        sent_up_to = 0
        if since is not None:
            until_ns = int(until * 1e9) if until is not None else None
            for event in bus.history(int(since * 1e9), until_ns):
                if _wanted(event, wanted):
                    await _send(response, event)
                sent_up_to = event.time_nano
        while True:
            timeout = None if until is None else max(0.0, until - time.time())
            if timeout == 0.0:
                break
            done, _ = await asyncio.wait({pending}, timeout=timeout)
            if not done:
                break
            event = pending.result()
            pending = asyncio.ensure_future(anext(live))
            if event.time_nano > sent_up_to and _wanted(event, wanted):
                await _send(response, event)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        pending.cancel()
        await live.aclose()
    return response


def _wanted(event, wanted) -> bool:  # type: ignore[no-untyped-def]
    from pydocker.engine.events import matches
    return matches(event, wanted)


async def _send(response: web.StreamResponse, event) -> None:  # type: ignore[no-untyped-def]
    await response.write(json.dumps(event.to_json()).encode() + b"\n")


async def options_any(request: web.Request) -> web.Response:
    return web.Response(status=200)


ROUTES = [
    web.get("/_ping", get_ping, allow_head=True),
    web.get("/version", get_version),
    web.get("/info", get_info),
    web.get("/system/df", get_system_df),
    web.get("/events", get_events),
]
