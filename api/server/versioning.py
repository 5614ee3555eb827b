"""``/vX.Y`` path prefixes, the version check, and the headers every answer carries."""

from __future__ import annotations

from typing import Any

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


def container_inspect_compat(doc: dict[str, Any], version: tuple[int, ...]) -> dict[str, Any]:
    """Before API 1.45 a container's short ID and hostname were among its aliases on
    each user-defined network (DNSNames holds them since); moby still adds them back for
    older clients, and so do we."""
    if version >= (1, 45):
        return doc
    extra = [doc.get("Id", "")[:12], (doc.get("Config") or {}).get("Hostname") or ""]
    settings = dict(doc.get("NetworkSettings") or {})
    networks = {}  # copies: the engine's own records stay as they are
    for name, endpoint in (settings.get("Networks") or {}).items():
        if name not in ("bridge", "host", "none") and isinstance(endpoint, dict):
            aliases = list(endpoint.get("Aliases") or [])
            aliases += [a for a in dict.fromkeys(extra) if a and a not in aliases]
            endpoint = {**endpoint, "Aliases": aliases}
        networks[name] = endpoint
    settings["Networks"] = networks
    return {**doc, "NetworkSettings": settings}


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
