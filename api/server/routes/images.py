"""/images: import, inspect, list, history, tag, remove, prune."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from pydocker.api.server.responses import json_response
from pydocker.engine import errors
from pydocker.engine.errors import EngineError

from ..backend import daemon
from ..params import filters, query_bool
from ..streams import JsonStream, request_body, stream_tar

log = logging.getLogger(__name__)


async def post_images_create(request: web.Request) -> web.StreamResponse:
    if request.query.get("fromSrc") is None:
        image = request.query.get("fromImage", "")
        raise errors.Unimplemented(f"pulling images is not supported yet by pydocker ({image})")
    if request.query["fromSrc"] != "-":
        raise errors.Unimplemented("importing from a URL is not supported; send the tar as the body")
    repo = request.query.get("repo") or None
    tag = request.query.get("tag") or ""
    repo_tag = f"{repo}:{tag}" if repo and tag else repo
    out = JsonStream(request)
    try:
        async with request_body(request) as stream:
            image_id = await daemon(request).images.import_rootfs(
                stream, repo_tag=repo_tag, changes=request.query.getall("changes", []),
                message=request.query.get("message", ""),
                platform=request.query.get("platform") or None)
    except EngineError as exc:
        if not out.started:
            raise  # nothing written yet: a proper HTTP error, as dockerd answers
        await out.error(str(exc))
        return await out.finish()
    await out.write({"status": image_id})
    return await out.finish()


async def post_images_load(request: web.Request) -> web.StreamResponse:
    quiet = query_bool(request, "quiet")
    out = JsonStream(request)
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def progress(obj: dict[str, Any]) -> None:
        if not quiet:
            loop.call_soon_threadsafe(events.put_nowait, obj)

    async def relay() -> None:
        while (obj := await events.get()) is not None:
            await out.write(obj)

    relaying = asyncio.ensure_future(relay())
    try:
        async with request_body(request) as stream:
            lines = await daemon(request).images.load(stream, progress)
    except EngineError as exc:
        events.put_nowait(None)
        await relaying
        if not out.started:
            raise
        await out.error(str(exc))
        return await out.finish()
    events.put_nowait(None)
    await relaying
    for line in lines:
        await out.write({"stream": line + "\n"})
    return await out.finish()


async def get_images_save(request: web.Request) -> web.StreamResponse:
    names = request.query.getall("names", []) if "name" not in request.match_info else [
        request.match_info["name"]]
    d = daemon(request)
    for name in names:
        await asyncio.to_thread(d.image_store.resolve, name)  # 404 while we still can
    return await stream_tar(request, lambda out: d.images.save(names, out),
                            f"saving {names}")


async def get_images_json(request: web.Request) -> web.Response:
    return json_response(await daemon(request).images.list(
        all_=query_bool(request, "all"), filters=filters(request),
        digests=query_bool(request, "digests")))


async def get_image_json(request: web.Request) -> web.Response:
    return json_response(await daemon(request).images.inspect(request.match_info["name"]))


async def get_image_history(request: web.Request) -> web.Response:
    return json_response(await daemon(request).images.history(request.match_info["name"]))


async def post_image_tag(request: web.Request) -> web.Response:
    await daemon(request).images.tag(request.match_info["name"], request.query.get("repo", ""),
                                     request.query.get("tag", ""))
    return web.Response(status=201)


async def delete_image(request: web.Request) -> web.Response:
    return json_response(await daemon(request).images.delete(
        request.match_info["name"], force=query_bool(request, "force"),
        noprune=query_bool(request, "noprune")))


async def post_images_prune(request: web.Request) -> web.Response:
    return json_response(await daemon(request).images.prune(filters(request)))


ROUTES = [
    web.post("/images/create", post_images_create),
    web.get("/images/json", get_images_json),
    web.post("/images/prune", post_images_prune),
    web.post("/images/load", post_images_load),
    web.get("/images/get", get_images_save),
    web.get("/images/{name:.+}/get", get_images_save),
    web.get("/images/{name:.+}/json", get_image_json),
    web.get("/images/{name:.+}/history", get_image_history),
    web.post("/images/{name:.+}/tag", post_image_tag),
    web.delete("/images/{name:.+}", delete_image),
]
