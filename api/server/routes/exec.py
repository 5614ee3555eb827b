"""/containers/{id}/exec and /exec/{id}: create, start (hijacked or detached), inspect."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydocker.api.server.responses import json_response
from pydocker.engine.errors import InvalidParameter

from ..backend import daemon
from ..hijack import Hijacked
from ..params import json_body, query_int
from ..streams import STDOUT, frame, stream_content_type
from ..versioning import api_version


async def post_container_exec(request: web.Request) -> web.Response:
    body = await json_body(request, required=True)
    if not isinstance(body, dict):
        raise InvalidParameter("invalid JSON: expected an object")
    e = await daemon(request).exec_create(request.match_info["name"], body)
    return json_response({"Id": e.id}, status=201)


async def post_exec_start(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    d = daemon(request)
    e = d.exec_check_start(request.match_info["id"])
    if body.get("Detach"):
        await d.exec_start(e, None, tty=bool(body.get("Tty")))
        return web.Response(status=200)
    tty = bool(body.get("Tty", e.config.get("Tty")))
    conn = await Hijacked.take(request, stream_content_type(tty, api_version(request)))
    try:
        await d.exec_start(e, conn, tty=tty, console_size=body.get("ConsoleSize"))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception as exc:  # noqa: BLE001 - after the hijack errors go in-band, as dockerd writes them
        if not conn.closing:
            message = f"OCI runtime exec failed: {exc}: unknown\r\n".encode()
            await conn.write(message if tty else frame(STDOUT, message))
    return await conn.close()


async def post_exec_resize(request: web.Request) -> web.Response:
    await daemon(request).exec_resize(request.match_info["id"], query_int(request, "h", 0) or 0,
                                      query_int(request, "w", 0) or 0)
    return web.Response(status=200)


async def get_exec_json(request: web.Request) -> web.Response:
    return json_response(daemon(request).execs.get(request.match_info["id"]).inspect())


ROUTES = [
    web.post("/containers/{name}/exec", post_container_exec),
    web.post("/exec/{id}/start", post_exec_start),
    web.post("/exec/{id}/resize", post_exec_resize),
    web.get("/exec/{id}/json", get_exec_json),
]
