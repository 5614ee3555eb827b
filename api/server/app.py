"""The aiohttp application: routes from every area, versioned, behind one error path."""

from __future__ import annotations

import importlib

from aiohttp import web

from .backend import Backend, install
from .errors import error_middleware
from .versioning import add_common_headers, version_middleware, versioned

# Each module exports ROUTES; order matters only where paths overlap.
ROUTE_MODULES = ("system", "containers", "exec", "images", "networks", "volumes", "swarm", "build")


def all_routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for name in ROUTE_MODULES:
        module = importlib.import_module(f"{__package__}.routes.{name}")
        routes.extend(module.ROUTES)
    return versioned(routes)


def make_app(backend: Backend) -> web.Application:
    """The API over ``backend`` (the engine's Daemon, or a fake in tests)."""
    # Image layers and archives arrive as request bodies of any size.
    app = web.Application(middlewares=[error_middleware, version_middleware],
                          client_max_size=1 << 62)
    install(app, backend)
    app.router.add_routes(all_routes())
    app.on_response_prepare.append(add_common_headers)
    return app
