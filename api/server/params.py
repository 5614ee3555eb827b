"""Query-string and body parsing with Docker's rules; bad input raises InvalidParameter."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydocker.engine.errors import InvalidParameter

_TRUE = {"1", "true", "True", "TRUE", "yes"}
_FALSE = {"", "0", "false", "False", "FALSE", "no"}


def query_bool(request: web.Request, name: str, default: bool = False) -> bool:
    """Docker's BoolValue: absent → default; "", "0", "false", "no" → False; else True."""
    if name not in request.query:
        return default
    value = request.query[name].strip()
    return value not in _FALSE


def query_int(request: web.Request, name: str, default: int | None = None) -> int | None:
    value = request.query.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidParameter(
            f'strconv.Atoi: parsing "{value}": invalid syntax') from None


def query_list(request: web.Request, name: str) -> list[str]:
    return request.query.getall(name, [])


def parse_filters(raw: str | None, accepted: set[str] | None = None) -> dict[str, list[str]]:
    """Both encodings: Go's ``{"k":{"v":true}}`` and docker-py's ``{"k":["v"]}``."""
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"invalid filter: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidParameter("invalid filter: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, values in data.items():
        if isinstance(values, dict):
            out[key] = [v for v, on in values.items() if on]
        elif isinstance(values, list):
            out[key] = [str(v) for v in values]
        elif isinstance(values, str):
            out[key] = [values]
        else:
            raise InvalidParameter(f"invalid filter: bad value for {key!r}")
        if accepted is not None and key not in accepted:
            raise InvalidParameter(f"invalid filter '{key}'")
    return out


def filters(request: web.Request, accepted: set[str] | None = None) -> dict[str, list[str]]:
    return parse_filters(request.query.get("filters"), accepted)


async def json_body(request: web.Request, *, required: bool = False) -> Any:
    """The request's JSON body; an empty body is ``{}`` unless required."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise InvalidParameter("invalid JSON: body is empty")
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"invalid JSON: {exc}") from None


def parse_timestamp(value: str, name: str) -> float | None:
    """``<seconds>[.<nanoseconds>]`` as Docker sends since/until; "" → None."""
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {value!r}") from None
