"""/images: import, load, save, inspect, list, history, tag, remove, prune."""

from __future__ import annotations

from aiohttp import web
from pydocker.api.server.responses import json_response
from pydocker.engine import errors

from ..backend import IMAGES
from ..params import filters, query_bool, registry_auth
from ..streams import json_progress, request_body, stream_tar
from .distribution import ROUTES as DISTRIBUTION_ROUTES


async def post_images_create(request: web.Request) -> web.StreamResponse:
    if request.query.get("fromSrc") is None:
        return await json_progress(request, request.app[IMAGES].image_pull(
            request.query.get("fromImage", ""), tag=request.query.get("tag", ""),
            platform=request.query.get("platform", ""),
            auth=registry_auth(request)))
    if request.query["fromSrc"] != "-":
        raise errors.Unimplemented("importing from a URL is not supported; send the tar as the body")
    async with request_body(request) as stream:
        return await json_progress(request, request.app[IMAGES].image_import(
            stream, repo=request.query.get("repo") or None, tag=request.query.get("tag") or "",
            changes=request.query.getall("changes", []),
            message=request.query.get("message", ""),
            platform=request.query.get("platform") or None))


async def post_image_push(request: web.Request) -> web.StreamResponse:
    return await json_progress(request, request.app[IMAGES].image_push(
        request.match_info["name"], tag=request.query.get("tag", ""),
        auth=registry_auth(request)))


async def post_images_load(request: web.Request) -> web.StreamResponse:
    quiet = query_bool(request, "quiet")
    async with request_body(request) as stream:
        # dockerd answers 200 and reports a bad archive in the stream (docker-py's
        # ImageLoadError comes from there).
        return await json_progress(request, request.app[IMAGES].images_load(stream, quiet=quiet),
                                   always_in_band=True)


async def get_images_save(request: web.Request) -> web.StreamResponse:
    names = request.query.getall("names", []) if "name" not in request.match_info else [
        request.match_info["name"]]
    save = await request.app[IMAGES].images_save(names)  # 404 while we still can
    return await stream_tar(request, save, f"saving {names}")


async def get_images_json(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].images_list(
        all_=query_bool(request, "all"), filters=filters(request),
        digests=query_bool(request, "digests")))


async def get_image_json(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].image_inspect(request.match_info["name"]))


async def get_image_history(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].image_history(request.match_info["name"]))


async def post_image_tag(request: web.Request) -> web.Response:
    await request.app[IMAGES].image_tag(
        request.match_info["name"], request.query.get("repo", ""), request.query.get("tag", ""))
    return web.Response(status=201)


async def delete_image(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].image_delete(
        request.match_info["name"], force=query_bool(request, "force"),
        noprune=query_bool(request, "noprune")))


async def post_images_prune(request: web.Request) -> web.Response:
    return json_response(await request.app[IMAGES].images_prune(filters(request)))


ROUTES = DISTRIBUTION_ROUTES + [
    web.post("/images/create", post_images_create),
    web.get("/images/json", get_images_json),
    web.post("/images/prune", post_images_prune),
    web.post("/images/load", post_images_load),
    web.get("/images/get", get_images_save),
    web.get("/images/{name:.+}/get", get_images_save),
    web.get("/images/{name:.+}/json", get_image_json),
    web.get("/images/{name:.+}/history", get_image_history),
    web.post("/images/{name:.+}/tag", post_image_tag),
    web.post("/images/{name:.+}/push", post_image_push),
    web.delete("/images/{name:.+}", delete_image),
]
