"""Query-string and body parsing with Docker's rules; bad input raises InvalidParameter."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydocker.api.models.auth import AuthConfig, RegistryConfig
from pydocker.api.models.hostconfig import PortMap
from pydocker.engine.errors import InvalidParameter

M = TypeVar("M", bound=BaseModel)

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
        number = int(value)
    except ValueError:
        raise InvalidParameter(
            f'strconv.Atoi: parsing "{value}": invalid syntax') from None
    if not -(2 ** 63) <= number < 2 ** 63:  # Go's int on the 64-bit hosts dockerd runs on
        raise InvalidParameter(f'strconv.Atoi: parsing "{value}": value out of range')
    return number


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


# JSON bodies are configuration, never data: the largest real one (a create with many
# env vars, labels and mounts) is a few hundred KiB. Image and archive bodies are streams
# and do not come through here, so the app's own limit stays unbounded for them.
JSON_BODY_LIMIT = 16 << 20


async def read_bounded(request: web.Request, limit: int = JSON_BODY_LIMIT) -> bytes:
    """The body, refused (413) as soon as it is known to exceed ``limit``: from its
    Content-Length before reading a byte, or once that many bytes of a chunked one came."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(1 << 16):
        size += len(chunk)
        if size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_body(request: web.Request, model: type[M], *, required: bool = False) -> M:
    """The request's JSON body as ``model``; anything it cannot be is InvalidParameter (400).

    An empty body is the model with nothing set unless ``required``; ``null`` is that too,
    as Go's decoder leaves a struct untouched for it.
    """
    raw = await read_bounded(request)
    if not raw.strip() or raw.strip() == b"null":
        if required and not raw.strip():
            raise InvalidParameter("invalid JSON: body is empty")
        raw = b"{}"
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidParameter(describe(model, exc.errors(include_url=False)[0])) from None


def describe(model: type[BaseModel], error: ErrorDetails) -> str:
    """One validation error in the words of Go's encoding/json, which clients know:
    ``json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64``."""
    if error["type"] == "json_invalid":
        return f"invalid JSON: {(error.get('ctx') or {}).get('error', error['msg'])}"
    path, go_type = _walk(model, error["loc"])
    value = error.get("input")
    kind = _json_kind(value, literal=error["type"] in _NUMBER_CONVERSIONS)
    if not error["loc"]:
        return f"json: cannot unmarshal {kind} into Go value of type {model.__name__}"
    if go_type is None or error["type"] not in _TYPE_ERRORS | _NUMBER_CONVERSIONS:
        return f"invalid value for {path}: {error['msg']}"
    return f"json: cannot unmarshal {kind} into Go struct field {path} of type {go_type}"


_TYPE_ERRORS = {"string_type", "bool_type", "int_type", "float_type", "list_type",
                "dict_type", "model_type", "model_attributes_type"}
# Errors of a number that is one, but not of this integer type: Go shows the number itself.
_NUMBER_CONVERSIONS = {"less_than_equal", "greater_than_equal", "int_from_float"}
_GO_INTS: dict[tuple[int | None, int | None], str] = {
    (-(2 ** 63), 2 ** 63 - 1): "int64", (-(2 ** 31), 2 ** 31 - 1): "int32",
    (0, 2 ** 16 - 1): "uint16", (0, 2 ** 32 - 1): "uint32", (0, 2 ** 64 - 1): "uint64"}


def _json_kind(value: object, *, literal: bool) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {json.dumps(value)}" if literal or isinstance(value, float) else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, str | None]:
    """The Go-style field path of ``loc`` (struct fields only, no map keys or indexes)
    and the Go name of the type found there, None where it has none worth showing."""
    path: list[str] = []
    current: Any = model
    for part in loc:
        current = _without_none(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items()
                          if part in (f.alias, n)), None)
            if field is None:
                break
            path.append(str(part))
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]  # a map key or an index: not in the path
        else:
            break  # a union member's tag, or past the end of what the model declares
    return ".".join(path), _go_name(_without_none(current))


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _go_name(annotation: Any) -> str | None:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        if args[0] is int:
            bounds = [(getattr(m, "ge", None), getattr(m, "le", None))
                      for info in args[1:] for m in getattr(info, "metadata", [info])]
            low = next((g for g, _ in bounds if g is not None), None)
            high = next((h for _, h in bounds if h is not None), None)
            return _GO_INTS.get((low, high), "int") if low is not None else "int"
        return _go_name(args[0])
    if origin is list:
        inner = _go_name(args[0])
        return f"[]{inner}" if inner else None
    if origin is dict:
        inner = _go_name(_without_none(args[1]))
        return f"map[string]{inner}" if inner else None
    if origin in (typing.Union, types.UnionType):
        members = {_go_name(a) for a in args}
        return "strslice.StrSlice" if members >= {"string", "[]string"} else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return {str: "string", bool: "bool", int: "int", float: "float64"}.get(annotation)


def parse_timestamp(value: str, name: str) -> float | None:
    """``<seconds>[.<nanoseconds>]`` as Docker sends since/until; "" → None."""
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidParameter(f"invalid value for {name}: {value!r}") from None


def _port_range_ok(text: str) -> bool:
    """Go's nat.ParsePortRange: ``N`` or ``N-M``, each a uint16, start <= end."""
    lo, sep, hi = text.partition("-")
    if not lo.isdigit() or (sep and not hi.isdigit()):
        return False
    start, end = int(lo), int(hi or lo)
    return start <= end <= 65535


def check_port_bindings(bindings: PortMap | None) -> None:
    """HostConfig.PortBindings as dockerd checks it at create (nat.ParsePortSpecs):
    ``invalid port specification: "99999"`` for a container or host port that is not a
    port or a range of them, before anything is created."""
    for key, entries in (bindings or {}).items():
        port = key.partition("/")[0]  # any protocol passes create, as with dockerd
        if not _port_range_ok(port):
            raise InvalidParameter(f"invalid port specification: {json.dumps(port)}")
        for entry in entries or []:
            host = entry.host_port or ""
            if host and not _port_range_ok(host):
                raise InvalidParameter(f"invalid port specification: {json.dumps(host)}")


def registry_auth(request: web.Request) -> AuthConfig:
    """X-Registry-Auth, as dockerd reads it for pull, push and distribution inspect:
    credentials it cannot decode mean an anonymous request, not an error."""
    try:
        return AuthConfig.from_header(request.headers.get("X-Registry-Auth", ""))
    except ValueError:
        return AuthConfig.model_validate({})


def registry_config(request: web.Request) -> dict[str, AuthConfig]:
    """X-Registry-Config (build): every registry's credentials; unreadable ones, none (the
    FROM pulls then go anonymous, as a pull with unreadable credentials does)."""
    try:
        return RegistryConfig.from_header(request.headers.get("X-Registry-Config", "")).root
    except ValueError:
        return {}
