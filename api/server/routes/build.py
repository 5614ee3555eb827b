"""/build: the classic builder (POST /build with the context as the body)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from pydocker.api.models.build import BuildQuery
from pydocker.api.server.responses import json_response
from pydocker.engine import errors

from ..backend import BUILD
from ..params import filters, query_bool, query_int, registry_config
from ..streams import json_progress, request_body

# BuildKit's keys, plus the label ones dockerd lets through (`docker system prune --filter
# label=...` sends every prune the same filters).
PRUNE_FILTERS = {"until", "id", "parent", "type", "description", "inuse", "shared", "private",
                 "label", "label!"}
HANGUP_POLL = 0.5  # seconds between looks at the client's connection


def _json_query(request: web.Request, name: str, what: str, kind: type) -> object:
    raw = request.query.get(name, "")
    if not raw:
        return kind()
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise errors.InvalidParameter(f"error reading {what}: {exc}") from None
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise errors.InvalidParameter(f"error reading {what}: json: cannot unmarshal "
                                      f"{type(value).__name__} into Go value of type "
                                      f"{'map[string]string' if kind is dict else '[]string'}")
    return value


def build_query(request: web.Request) -> BuildQuery:
    """The query as dockerd's newImageBuildOptions reads it (400s before anything runs)."""
    if query_bool(request, "squash"):
        raise errors.InvalidParameter("squash is only supported with experimental mode")
    hosts = [h for v in request.query.getall("extrahosts", []) for h in v.split(",") if h]
    return BuildQuery.model_validate({
        "tags": request.query.getall("t", []),
        "dockerfile": request.query.get("dockerfile", ""),
        "build_args": _json_query(request, "buildargs", "build args", dict),
        "labels": _json_query(request, "labels", "labels", dict),
        "cache_from": _json_query(request, "cachefrom", "cache from", list),
        "ulimits": _json_query(request, "ulimits", "ulimits", list),
        "no_cache": query_bool(request, "nocache"),
        "rm": query_bool(request, "rm", True),
        "force_rm": query_bool(request, "forcerm"),
        "quiet": query_bool(request, "q"),
        "pull": query_bool(request, "pull"),
        "target": request.query.get("target", ""),
        "registry_config": registry_config(request),
        "platform": request.query.get("platform", ""),
        "remote": request.query.get("remote", ""),
        "network_mode": request.query.get("networkmode", ""),
        "extra_hosts": hosts,
        "shm_size": query_int(request, "shmsize", 0),
        "memory": query_int(request, "memory", 0),
        "memory_swap": query_int(request, "memswap", 0),
        "cpu_shares": query_int(request, "cpushares", 0),
        "cpuset_cpus": request.query.get("cpusetcpus", ""),
        "cpu_period": query_int(request, "cpuperiod", 0),
        "cpu_quota": query_int(request, "cpuquota", 0),
    })


async def post_build(request: web.Request) -> web.StreamResponse:
    query = build_query(request)
    async with request_body(request) as body:
        items = await request.app[BUILD].build(body, query)
    return await _until_hangup(request, asyncio.ensure_future(json_progress(request, items)))


async def _until_hangup(request: web.Request, task: asyncio.Future[web.StreamResponse]
                        ) -> web.StreamResponse:
    """The build stops when its client goes, as dockerd's does (its context is cancelled):
    a RUN may print nothing for minutes, so waiting for a failed write is not enough."""
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=HANGUP_POLL)
            transport = request.transport
            if not task.done() and (transport is None or transport.is_closing()):
                task.cancel()
    except asyncio.CancelledError:
        task.cancel()  # the daemon is stopping: the build stops with it
        raise
    return task.result()


async def post_build_prune(request: web.Request) -> web.Response:
    filters(request, PRUNE_FILTERS)  # checked; the classic builder keeps nothing they select
    return json_response(await request.app[BUILD].build_prune())


ROUTES = [web.post("/build", post_build), web.post("/build/prune", post_build_prune)]
