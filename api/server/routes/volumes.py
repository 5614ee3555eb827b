"""/volumes: create, list, inspect, remove, prune."""

from __future__ import annotations

from aiohttp import web
from pydocker.api.models.volumes import VolumeCreateRequest
from pydocker.api.server.responses import json_response

from ..backend import VOLUMES
from ..params import filters, parse_body, query_bool
from ..versioning import api_version


async def post_volumes_create(request: web.Request) -> web.Response:
    body = await parse_body(request, VolumeCreateRequest)
    return json_response(await request.app[VOLUMES].volume_create(body), status=201)


async def get_volumes(request: web.Request) -> web.Response:
    return json_response(await request.app[VOLUMES].volumes_list(filters(request)))


async def get_volume(request: web.Request) -> web.Response:
    return json_response(await request.app[VOLUMES].volume_inspect(
        request.match_info["name"]))


async def delete_volume(request: web.Request) -> web.Response:
    await request.app[VOLUMES].volume_remove(request.match_info["name"],
                                             query_bool(request, "force"))
    return web.Response(status=204)


async def post_volumes_prune(request: web.Request) -> web.Response:
    prune_filters = filters(request)
    if api_version(request) < (1, 42):
        prune_filters["all"] = ["true"]  # before 1.42 prune took named volumes too
    return json_response(await request.app[VOLUMES].volumes_prune(prune_filters))


ROUTES = [
    web.post("/volumes/create", post_volumes_create),
    web.get("/volumes", get_volumes),
    web.post("/volumes/prune", post_volumes_prune),
    web.get("/volumes/{name}", get_volume),
    web.delete("/volumes/{name}", delete_volume),
]
