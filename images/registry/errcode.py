"""Registry error responses mapped to the engine's error taxonomy.

A registry answers errors with ``{"errors": [{"code": "MANIFEST_UNKNOWN", "message": ...}]}``
(docker/distribution's ``errcode``). Each renders as ``<code in words>: <message>``, e.g.
``manifest unknown: manifest unknown``, and dockerd prefixes what it was doing: ``manifest for
127.0.0.1:5000/x:y not found: manifest unknown: manifest unknown``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus

from pydocker.engine.errors import (
    EngineError,
    Forbidden,
    InvalidParameter,
    NotFound,
    SystemFailure,
    Unauthorized,
)

_INVALID = {"BLOB_UPLOAD_INVALID", "DIGEST_INVALID", "MANIFEST_INVALID", "NAME_INVALID",
            "SIZE_INVALID", "TAG_INVALID", "MANIFEST_BLOB_UNKNOWN", "UNSUPPORTED",
            "PAGINATION_NUMBER_INVALID", "RANGE_INVALID", "MANIFEST_UNVERIFIED"}
_NOT_FOUND = {"MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN", "BLOB_UPLOAD_UNKNOWN"}


@dataclass(frozen=True)
class RegistryError:
    code: str
    message: str

    def __str__(self) -> str:
        words = self.code.lower().replace("_", " ")
        return f"{words}: {self.message}" if self.message else words


def parse_errors(body: bytes) -> list[RegistryError]:
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    entries = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return []
    return [RegistryError(str(e.get("code") or "UNKNOWN"), str(e.get("message") or ""))
            for e in entries if isinstance(e, dict)]


def describe(status: int, body: bytes) -> str:
    """distribution's client wording for an error response."""
    errors = parse_errors(body)
    if errors:
        return "; ".join(str(e) for e in errors)
    text = body.decode(errors="replace").strip()
    if status == 401:
        return f"unauthorized: {text}" if text else "unauthorized: authentication required"
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    if text:
        return f"error parsing HTTP {status} response body: {text!r}"
    return f"received unexpected HTTP status: {status} {reason}".rstrip()


def error_for(status: int, body: bytes, not_found_prefix: str = "") -> EngineError:
    """The engine error for a failed registry response.

    ``not_found_prefix`` is what dockerd says before a 404's registry message (``manifest for
    x:y not found``); without it the registry's message stands alone.
    """
    message = describe(status, body)
    codes = {e.code for e in parse_errors(body)}
    if status == 401 or "UNAUTHORIZED" in codes:
        return Unauthorized(message)
    if status == 404 or codes & _NOT_FOUND:
        return NotFound(f"{not_found_prefix}: {message}" if not_found_prefix else message)
    if status == 403 or "DENIED" in codes:
        return Forbidden(message)
    if status in (400, 405, 413, 416) or codes & _INVALID:
        return InvalidParameter(message)
    return SystemFailure(message)
