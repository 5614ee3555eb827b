"""The one base of every wire model, the Go scalar types, and the two small shared answers.

Request bodies are decoded the way dockerd's ``encoding/json`` decodes them, because clients are
written against that: ``null`` is accepted for any field (Go's zero value, here ``None``),
unknown fields are ignored, a string is never a number, a bool is never a number, a number with a
fraction or exponent is not an integer, and every integer is range-checked for its Go type
(int64, uint16, ...). Hence every field is Optional and strict-typed. Two deliberate limits: a
null *inside* a list or map is refused (no client sends one, and the engine would trip on it),
and keys are matched exactly, not case-insensitively as Go does; the known clients' odd
spellings (docker-py's ``CPURealtimePeriod``, ``detachKeys``; ``IdentityToken`` in auth) are
fields of their own, or folded to lowercase in :mod:`.auth`.

Every field defaults to ``None`` and nothing is coerced, so for a valid body
``model.model_dump(by_alias=True, exclude_unset=True)`` gives back the keys and values the client
sent (less the unknown keys): the engine keeps taking dicts while the boundary is typed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, StrictStr
from pydantic.alias_generators import to_pascal

__all__ = [
    "DockerModel",
    "EmptyObjectMap",
    "ErrorResponse",
    "IdResponse",
    "Int",
    "Int64",
    "JsonObject",
    "StrList",
    "StrMap",
    "StrSlice",
    "StrictBool",
    "StrictStr",
    "UInt16",
    "UInt32",
    "UInt64",
]


def _go_int(bits: int, *, signed: bool) -> object:
    """An integer type with the range of Go's ``int<bits>`` / ``uint<bits>``, strictly typed."""
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    return Field(strict=True, ge=low, le=high)


Int64 = Annotated[int, _go_int(64, signed=True)]
Int = Int64  # Go's int on the 64-bit platforms dockerd runs on
UInt16 = Annotated[int, _go_int(16, signed=False)]
UInt32 = Annotated[int, _go_int(32, signed=False)]
UInt64 = Annotated[int, _go_int(64, signed=False)]

StrList = list[StrictStr]
StrMap = dict[str, StrictStr]
# moby's strslice.StrSlice: a JSON string or an array of strings (Cmd, Entrypoint, Shell, ...).
StrSlice = StrictStr | list[StrictStr]
# Go's map[string]struct{} (ExposedPorts, Volumes): any object, or null, per key.
EmptyObjectMap = dict[str, dict[str, JsonValue] | None]
# A part of the API the engine passes through or ignores (ClusterVolumeSpec, ...): any object.
JsonObject = dict[str, JsonValue]


class DockerModel(BaseModel):
    """Docker's PascalCase wire names; acronyms (IPAddress, NanoCpus, Dns) are explicit aliases."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )

    def wire(self) -> dict[str, JsonValue]:
        """The body as the client sent it (known keys only), for code that still takes dicts."""
        dumped: dict[str, JsonValue] = self.model_dump(by_alias=True, exclude_unset=True)
        return dumped


class ErrorResponse(DockerModel):
    """Every error body: ``{"message": "..."}`` (lowercase on the wire)."""

    message: StrictStr = Field(alias="message")


class IdResponse(DockerModel):
    """``{"Id": "..."}``: the answer of commit, exec create and the like."""

    id: StrictStr = Field(alias="Id")
