"""/_ping, /version, /info, /events, /system/df."""

from __future__ import annotations

from aiohttp import web
from pydocker.api.server.responses import json_response

from ..backend import SYSTEM
from ..params import filters, parse_timestamp
from ..streams import json_lines

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
    return json_response(request.app[SYSTEM].version())


async def get_info(request: web.Request) -> web.Response:
    return json_response(await request.app[SYSTEM].info())


async def get_system_df(request: web.Request) -> web.Response:
    return json_response(await request.app[SYSTEM].system_df())


async def get_events(request: web.Request) -> web.StreamResponse:
    wanted = filters(request, EVENT_FILTERS)
    since = parse_timestamp(request.query.get("since", ""), "since")
    until = parse_timestamp(request.query.get("until", ""), "until")
    return await json_lines(request, request.app[SYSTEM].events_stream(since, until, wanted))


async def options_any(request: web.Request) -> web.Response:
    return web.Response(status=200)


ROUTES = [
    web.get("/_ping", get_ping, allow_head=True),
    web.get("/version", get_version),
    web.get("/info", get_info),
    web.get("/system/df", get_system_df),
    web.get("/events", get_events),
]
