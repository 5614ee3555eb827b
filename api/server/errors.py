"""The one place where engine errors become HTTP statuses and Docker's JSON error body."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydocker.api.server.responses import json_response
from pydocker.engine import errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.EngineError], int] = {
    errors.InvalidParameter: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.NotModified: 304,
    errors.Unimplemented: 501,
    errors.Unavailable: 503,
    errors.SystemFailure: 500,
    errors.EngineError: 500,
}


def status_for(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_response(status: int, message: str) -> web.Response:
    if status == 304:
        return web.Response(status=304)
    return json_response({"message": message}, status=status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.EngineError as exc:
        status = status_for(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.path, exc)
        else:
            log.debug("%s %s: %d %s", request.method, request.path, status, exc)
        return error_response(status, str(exc))
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            return error_response(404, "page not found")
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.text or exc.reason)
    except json.JSONDecodeError as exc:
        return error_response(400, f"invalid JSON: {exc}")
    except (ConnectionResetError, BrokenPipeError):
        # The client went away mid-answer (docker-py closes a logs stream once it has what
        # it wants): nothing reaches it now and it is no error of ours. aiohttp takes a
        # cancelled handler as the premature disconnection it is, without a traceback.
        log.debug("%s %s: the client went away", request.method, request.path)
        raise asyncio.CancelledError from None
    except OSError as exc:  # the host refused: a full disk, a missing file ...
        log.error("%s %s: %s", request.method, request.path, exc)
        return error_response(500, errors.os_error_text(exc))
    except Exception as exc:  # the last resort: never a traceback to the client
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, str(exc) or type(exc).__name__)
