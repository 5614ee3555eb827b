"""/containers/{id}/exec and /exec/{id}: create, start (hijacked or detached), inspect."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydocker.api.models.containers import ExecCreateRequest, ExecStartRequest
from pydocker.api.server.responses import json_response

from ..backend import EXECS
from ..hijack import Hijacked
from ..params import parse_body, query_int
from ..streams import STDOUT, frame, stream_content_type
from ..versioning import api_version


async def post_container_exec(request: web.Request) -> web.Response:
    body = await parse_body(request, ExecCreateRequest, required=True)
    exec_id = await request.app[EXECS].exec_create(request.match_info["name"], body)
    return json_response({"Id": exec_id}, status=201)


async def post_exec_start(request: web.Request) -> web.StreamResponse:
    body = await parse_body(request, ExecStartRequest)
    backend, exec_id = request.app[EXECS], request.match_info["id"]
    own_tty = backend.exec_check_start(exec_id)
    if body.detach:
        await backend.exec_start(exec_id, None, tty=bool(body.tty), console_size=None)
        return web.Response(status=200)
    tty = bool(body.tty) if "tty" in body.model_fields_set else own_tty
    conn = await Hijacked.take(request, stream_content_type(tty, api_version(request)))
    try:
        await backend.exec_start(exec_id, conn, tty=tty, console_size=body.console_size)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception as exc:  # noqa: BLE001 - after the hijack errors go in-band, as dockerd writes them
        if not conn.closing:
            message = f"OCI runtime exec failed: {exc}: unknown\r\n".encode()
            await conn.write(message if tty else frame(STDOUT, message))
    return await conn.close()


async def post_exec_resize(request: web.Request) -> web.Response:
    await request.app[EXECS].exec_resize(
        request.match_info["id"], query_int(request, "h", 0) or 0, query_int(request, "w", 0) or 0)
    return web.Response(status=200)


async def get_exec_json(request: web.Request) -> web.Response:
    return json_response(request.app[EXECS].exec_inspect(request.match_info["id"]))


ROUTES = [
    web.post("/containers/{name}/exec", post_container_exec),
    web.post("/exec/{id}/start", post_exec_start),
    web.post("/exec/{id}/resize", post_exec_resize),
    web.get("/exec/{id}/json", get_exec_json),
]
