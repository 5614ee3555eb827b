"""/auth, /distribution/{name}/json and /images/search: asking registries, not the store."""

from __future__ import annotations

from aiohttp import web
from pydocker.api.models.auth import AuthConfig
from pydocker.api.server.responses import json_response
from pydocker.engine.errors import InvalidParameter

from ..backend import IMAGES
from ..params import filters, parse_body, query_int, registry_auth


async def post_auth(request: web.Request) -> web.Response:
    body = await parse_body(request, AuthConfig)
    try:
        credentials = body.with_auth_decoded()
    except ValueError as exc:
        raise InvalidParameter(f"invalid auth configuration: {exc}") from exc
    return json_response(await request.app[IMAGES].auth_login(credentials))


async def get_distribution_json(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].distribution_inspect(
        request.match_info["name"], auth=registry_auth(request)))


async def get_images_search(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].images_search(
        request.query.get("term", ""), limit=query_int(request, "limit") or 0,
        filters=filters(request)))


ROUTES = [
    web.post("/auth", post_auth),
    web.get("/distribution/{name:.+}/json", get_distribution_json),
    web.get("/images/search", get_images_search),
]
