"""What the API layer needs from the engine: the Daemon object, by key.

The Daemon is the single backend; each route module calls the area object it
exposes (``daemon.containers``, ``daemon.images``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from pydocker.engine.daemon import Daemon as Backend
else:
    Backend = Any

__all__ = ["DAEMON", "Backend", "daemon"]

DAEMON: web.AppKey[Backend] = web.AppKey("daemon")


def daemon(request: web.Request) -> Backend:
    return request.app[DAEMON]
