"""/networks: list, inspect, create, remove, connect, disconnect, prune."""

from __future__ import annotations

from aiohttp import web
from pydocker.api.models.networks import (
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkDisconnectRequest,
)
from pydocker.api.server.responses import json_response

from ..backend import NETWORKS
from ..params import filters, parse_body

LIST_FILTERS = {"dangling", "driver", "id", "label", "name", "scope", "type"}


async def get_networks(request: web.Request) -> web.Response:
    return json_response(await request.app[NETWORKS].networks_list(
        filters(request, LIST_FILTERS)))


async def get_network(request: web.Request) -> web.Response:
    return json_response(await request.app[NETWORKS].network_inspect(
        request.match_info["id"]))


async def post_networks_create(request: web.Request) -> web.Response:
    body = await parse_body(request, NetworkCreateRequest, required=True)
    net = await request.app[NETWORKS].network_create(body)
    return json_response({"Id": net["Id"], "Warning": ""}, status=201)


async def delete_network(request: web.Request) -> web.Response:
    await request.app[NETWORKS].network_remove(request.match_info["id"])
    return web.Response(status=204)


async def post_network_connect(request: web.Request) -> web.Response:
    body = await parse_body(request, NetworkConnectRequest, required=True)
    await request.app[NETWORKS].network_connect(request.match_info["id"], body)
    return web.Response(status=200)


async def post_network_disconnect(request: web.Request) -> web.Response:
    body = await parse_body(request, NetworkDisconnectRequest, required=True)
    await request.app[NETWORKS].network_disconnect(request.match_info["id"], body)
    return web.Response(status=200)


async def post_networks_prune(request: web.Request) -> web.Response:
    return json_response(await request.app[NETWORKS].networks_prune(
        filters(request, {"until", "label", "label!"})))


ROUTES = [
    web.get("/networks", get_networks),
    web.post("/networks/create", post_networks_create),
    web.post("/networks/prune", post_networks_prune),
    web.get("/networks/{id}", get_network),
    web.delete("/networks/{id}", delete_network),
    web.post("/networks/{id}/connect", post_network_connect),
    web.post("/networks/{id}/disconnect", post_network_disconnect),
]
