"""``/vX.Y`` path prefixes, the version check, and the headers every answer carries."""

from __future__ import annotations

from aiohttp import web
from pydocker.engine.config import API_VERSION, ENGINE_VERSION, MIN_API_VERSION
from pydocker.engine.errors import InvalidParameter

from .errors import Handler

VERSION_PREFIX = "/v{version:[0-9]+(?:\\.[0-9]+)?}"
API_VERSION_KEY: web.RequestKey[str] = web.RequestKey("api_version", str)

COMMON_HEADERS = {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Server": f"Docker/{ENGINE_VERSION} (linux)",
}


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def check_version(requested: str) -> str:
    if parse_version(requested) < parse_version(MIN_API_VERSION):
        raise InvalidParameter(
            f"client version {requested} is too old. Minimum supported API version is "
            f"{MIN_API_VERSION}, please upgrade your client to a newer version")
    if parse_version(requested) > parse_version(API_VERSION):
        raise InvalidParameter(
            f"client version {requested} is too new. Maximum supported API version is "
            f"{API_VERSION}")
    return requested


def api_version(request: web.Request) -> tuple[int, ...]:
    """The version the client asked for; unversioned paths get the newest."""
    return parse_version(request.get(API_VERSION_KEY, API_VERSION))


@web.middleware
async def version_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    requested = request.match_info.get("version")
    if requested is not None:
        request[API_VERSION_KEY] = check_version(requested)
    return await handler(request)


async def add_common_headers(request: web.Request, response: web.StreamResponse) -> None:
    # Assigned, not defaulted: aiohttp has already put its own Server header there.
    response.headers.update(COMMON_HEADERS)


def versioned(routes: list[web.RouteDef]) -> list[web.RouteDef]:
    """Each route twice: as written, and under ``/vX.Y``."""
    out = list(routes)
    for route in routes:
        out.append(web.route(route.method, VERSION_PREFIX + route.path, route.handler,
                             **route.kwargs))
    return out
