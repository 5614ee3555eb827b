"""Routes for containers (filled in by its issue)."""

from aiohttp import web

ROUTES: list[web.RouteDef] = []
