"""/containers: create, inspect, list, start/stop/kill/restart/wait, rm, logs, attach."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web
from pydocker.api.models.containers import (
    ContainerCommitConfig,
    ContainerCreateRequest,
    ContainerUpdateRequest,
)
from pydocker.api.server.responses import json_response
from pydocker.engine.errors import InvalidParameter

from ..backend import CONTAINERS
from ..hijack import Hijacked
from ..params import (
    check_port_bindings,
    filters,
    parse_body,
    parse_timestamp,
    query_bool,
    query_int,
    read_bounded,
)
from ..streams import (
    json_lines,
    request_body,
    stat_header,
    stream_archive,
    stream_content_type,
    stream_tar,
)
from ..versioning import api_version, container_inspect_compat

log = logging.getLogger(__name__)


async def post_containers_create(request: web.Request) -> web.Response:
    body = await parse_body(request, ContainerCreateRequest, required=True)
    check_port_bindings(body.host_config.port_bindings if body.host_config else None)
    name = request.query.get("name")
    container_id, warnings = await request.app[CONTAINERS].container_create(
        name, body, request.query.get("platform"))
    return json_response({"Id": container_id, "Warnings": warnings}, status=201)


async def get_containers_json(request: web.Request) -> web.Response:
    out = await request.app[CONTAINERS].container_list(
        all_=query_bool(request, "all"), limit=query_int(request, "limit"),
        size=query_bool(request, "size"), filters=filters(request))
    return json_response(out)


async def get_container_json(request: web.Request) -> web.Response:
    doc = await request.app[CONTAINERS].container_inspect(
        request.match_info["name"], size=query_bool(request, "size"))
    return json_response(container_inspect_compat(doc, api_version(request)))


async def post_container_start(request: web.Request) -> web.Response:
    if request.content_length and request.content_length > 7:
        body = await read_bounded(request)
        if body.strip() not in (b"", b"{}", b"null"):
            raise InvalidParameter(
                "starting container with non-empty request body was deprecated since "
                "API v1.22 and removed in v1.24")
    await request.app[CONTAINERS].container_start(request.match_info["name"])
    return web.Response(status=204)


async def post_container_stop(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_stop(
        request.match_info["name"], query_int(request, "t"), request.query.get("signal") or None)
    return web.Response(status=204)


async def post_container_restart(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_restart(
        request.match_info["name"], query_int(request, "t"), request.query.get("signal") or None)
    return web.Response(status=204)


async def post_container_kill(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_kill(request.match_info["name"],
                                                 request.query.get("signal") or None)
    return web.Response(status=204)


async def post_container_pause(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_pause(request.match_info["name"])
    return web.Response(status=204)


async def post_container_unpause(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_unpause(request.match_info["name"])
    return web.Response(status=204)


async def post_container_wait(request: web.Request) -> web.StreamResponse:
    waiting = await request.app[CONTAINERS].container_wait(
        request.match_info["name"], request.query.get("condition", ""))
    # Headers first: the docker CLI starts the container only after this answer begins.
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    code = await waiting
    try:
        await response.write(json.dumps({"StatusCode": code, "Error": None}).encode() + b"\n")
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client stopped waiting
    return response


async def delete_container(request: web.Request) -> web.Response:
    name = request.match_info["name"] + request.match_info.get("alias", "")
    if query_bool(request, "link"):  # the name is "container/alias": remove that link
        await request.app[CONTAINERS].container_remove_link(name)
        return web.Response(status=204)
    await request.app[CONTAINERS].container_remove(
        name, force=query_bool(request, "force"),
        volumes=query_bool(request, "v"))
    return web.Response(status=204)


async def post_container_rename(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_rename(request.match_info["name"],
                                                   request.query.get("name", ""))
    return web.Response(status=204)


async def post_containers_prune(request: web.Request) -> web.Response:
    return json_response(await request.app[CONTAINERS].containers_prune(
        filters(request, {"until", "label", "label!"})))


async def get_container_logs(request: web.Request) -> web.StreamResponse:
    tail = request.query.get("tail", "all")
    tty, chunks = request.app[CONTAINERS].container_logs(
        request.match_info["name"], stdout=query_bool(request, "stdout"),
        stderr=query_bool(request, "stderr"),
        since=parse_timestamp(request.query.get("since", ""), "since") or 0,
        until=parse_timestamp(request.query.get("until", ""), "until") or 0,
        tail=-1 if tail in ("all", "") else _tail(tail),
        timestamps=query_bool(request, "timestamps"), follow=query_bool(request, "follow"),
        details=query_bool(request, "details"))
    response = web.StreamResponse(headers={
        "Content-Type": stream_content_type(tty, api_version(request))})
    await response.prepare(request)
    async with contextlib.aclosing(chunks):  # a client gone: its log file closes now
        async for chunk in chunks:
            await response.write(chunk)
    await response.write_eof()
    return response


def _tail(value: str) -> int:
    """A count, or every line: dockerd reads "all", a negative count and anything that
    is not a number alike."""
    try:
        n = int(value)
    except ValueError:
        return -1
    return -1 if n < 0 else n


async def post_container_attach(request: web.Request) -> web.StreamResponse:
    backend = request.app[CONTAINERS]
    container_id, tty, keys = backend.container_attach_target(
        request.match_info["name"], request.query.get("detachKeys"))
    conn = await Hijacked.take(request, stream_content_type(tty, api_version(request)))
    try:
        await backend.container_attach(
            container_id, conn, logs=query_bool(request, "logs"),
            stream=query_bool(request, "stream"), stdin=query_bool(request, "stdin"),
            stdout=query_bool(request, "stdout"), stderr=query_bool(request, "stderr"),
            detach_keys=keys)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    except Exception:
        log.exception("attach to %s failed", container_id[:12])
    return await conn.close()


async def post_container_resize(request: web.Request) -> web.Response:
    await request.app[CONTAINERS].container_resize(
        request.match_info["name"], query_int(request, "h", 0) or 0,
        query_int(request, "w", 0) or 0)
    return web.Response(status=200)


async def get_container_stats(request: web.Request) -> web.StreamResponse:
    samples = request.app[CONTAINERS].container_stats(
        request.match_info["name"], stream=query_bool(request, "stream", True),
        one_shot=query_bool(request, "one-shot"))
    return await json_lines(request, samples)


async def post_container_update(request: web.Request) -> web.Response:
    body = await parse_body(request, ContainerUpdateRequest)
    warnings = await request.app[CONTAINERS].container_update(request.match_info["name"], body)
    return json_response({"Warnings": warnings})


async def get_container_changes(request: web.Request) -> web.Response:
    return json_response(
        await request.app[CONTAINERS].container_changes(request.match_info["name"]))


async def get_container_export(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    export = await request.app[CONTAINERS].container_export(name)  # 404 before the stream
    return await stream_tar(request, export, f"export of {name}")


async def head_container_archive(request: web.Request) -> web.Response:
    info = await request.app[CONTAINERS].container_archive_stat(request.match_info["name"],
                                                                _archive_path(request))
    return web.Response(status=200, headers={"X-Docker-Container-Path-Stat": stat_header(info),
                                             "Content-Type": "application/x-tar"})


async def get_container_archive(request: web.Request) -> web.StreamResponse:
    name, path = request.match_info["name"], _archive_path(request)
    backend = request.app[CONTAINERS]
    return await stream_archive(
        request, lambda start, out: backend.container_archive_get(name, path, start, out))


async def put_container_archive(request: web.Request) -> web.Response:
    async with request_body(request) as stream:
        await request.app[CONTAINERS].container_archive_put(
            request.match_info["name"], _archive_path(request), stream,
            copy_uid_gid=query_bool(request, "copyUIDGID"),
            no_overwrite_dir_non_dir=query_bool(request, "noOverwriteDirNonDir"))
    return web.Response(status=200)


def _archive_path(request: web.Request) -> str:
    path = request.query.get("path", "")
    if not path:
        raise InvalidParameter("path must not be empty")
    if "\x00" in path:
        raise InvalidParameter(f"invalid path {path!r}: contains a NUL byte")
    return path


async def post_commit(request: web.Request) -> web.Response:
    body = await parse_body(request, ContainerCommitConfig)
    image_id = await request.app[CONTAINERS].container_commit(
        request.query.get("container", ""), repo=request.query.get("repo", ""),
        tag=request.query.get("tag", ""), comment=request.query.get("comment", ""),
        author=request.query.get("author", ""), pause=query_bool(request, "pause", True),
        changes=request.query.getall("changes", []), config=body)
    return json_response({"Id": image_id}, status=201)


async def get_container_top(request: web.Request) -> web.Response:
    return json_response(await request.app[CONTAINERS].container_top(
        request.match_info["name"], request.query.get("ps_args", "")))


ROUTES = [
    web.post("/containers/create", post_containers_create),
    web.get("/containers/json", get_containers_json),
    web.post("/containers/prune", post_containers_prune),
    web.get("/containers/{name}/json", get_container_json),
    web.post("/containers/{name}/start", post_container_start),
    web.post("/containers/{name}/stop", post_container_stop),
    web.post("/containers/{name}/restart", post_container_restart),
    web.post("/containers/{name}/kill", post_container_kill),
    web.post("/containers/{name}/pause", post_container_pause),
    web.post("/containers/{name}/unpause", post_container_unpause),
    web.post("/containers/{name}/wait", post_container_wait),
    web.post("/containers/{name}/rename", post_container_rename),
    web.post("/containers/{name}/attach", post_container_attach),
    web.post("/containers/{name}/resize", post_container_resize),
    web.get("/containers/{name}/logs", get_container_logs),
    web.get("/containers/{name}/top", get_container_top),
    web.get("/containers/{name}/stats", get_container_stats),
    web.get("/containers/{name}/changes", get_container_changes),
    web.get("/containers/{name}/export", get_container_export),
    web.post("/commit", post_commit),
    web.get("/containers/{name}/archive", get_container_archive, allow_head=False),
    web.head("/containers/{name}/archive", head_container_archive),
    web.put("/containers/{name}/archive", put_container_archive),
    web.post("/containers/{name}/update", post_container_update),
    web.delete("/containers/{name}", delete_container),
    web.delete("/containers/{name}{alias:/[^/]+}", delete_container),  # ?link=1
]
