"""Swarm endpoints: no swarm here, so they answer 503 as an inactive dockerd does.

Clients (compose, docker info, docker-py) call these to find out; a 404 would make
them think the daemon is broken.
"""

from __future__ import annotations

from aiohttp import web
from pydocker.engine.errors import Unavailable

NOT_A_MANAGER = ("This node is not a swarm manager. Use \"docker swarm init\" or "
                 "\"docker swarm join\" to connect this node to swarm and try again.")
NOT_IN_SWARM = "This node is not part of a swarm"


async def swarm_not_manager(request: web.Request) -> web.Response:
    raise Unavailable(NOT_A_MANAGER)


async def swarm_not_member(request: web.Request) -> web.Response:
    raise Unavailable(NOT_IN_SWARM)


_MANAGER_PATHS = ["/swarm", "/swarm/unlockkey", "/nodes", "/nodes/{id}", "/services",
                  "/services/{id}", "/services/{id}/logs", "/tasks", "/tasks/{id}",
                  "/tasks/{id}/logs", "/secrets", "/secrets/{id}", "/configs", "/configs/{id}"]

ROUTES = (
    [web.get(p, swarm_not_manager) for p in _MANAGER_PATHS]
    + [web.post(p, swarm_not_manager) for p in ("/swarm/init", "/swarm/join", "/swarm/update",
                                                "/swarm/unlock", "/services/create",
                                                "/secrets/create", "/configs/create")]
    + [web.post("/swarm/leave", swarm_not_member)]
)
