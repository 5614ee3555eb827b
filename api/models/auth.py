"""Registry credentials: the body of ``POST /auth`` and the X-Registry-Auth / X-Registry-Config
headers (moby api/types/registry.AuthConfig). This is the one place they are decoded; the
engine receives them typed.

The wire names are lowercase (``serveraddress``, ``identitytoken``). Go matches JSON keys
case-insensitively and docker-py writes ``IdentityToken`` into X-Registry-Auth, so keys are
matched ignoring case here as well and come back lowercase.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from pydantic import Field, RootModel, model_validator

from .common import DockerModel, StrictStr

__all__ = ["AuthConfig", "RegistryConfig", "decode_header_json"]


class AuthConfig(DockerModel):
    username: StrictStr | None = Field(None, alias="username")
    password: StrictStr | None = Field(None, alias="password")
    auth: StrictStr | None = Field(None, alias="auth")  # base64 "user:password"
    email: StrictStr | None = Field(None, alias="email")  # deprecated, still sent by clients
    serveraddress: StrictStr | None = Field(None, alias="serveraddress")
    identitytoken: StrictStr | None = Field(None, alias="identitytoken")
    registrytoken: StrictStr | None = Field(None, alias="registrytoken")

    @model_validator(mode="before")
    @classmethod
    def _lowercase_keys(cls, data: object) -> object:
        if isinstance(data, Mapping):
            return {str(key).lower(): value for key, value in data.items()}
        return data

    @classmethod
    def from_header(cls, value: str) -> AuthConfig:
        """Decode X-Registry-Auth; an empty header is no credentials. Raises ValueError."""
        if not value.strip():
            return cls.model_validate({})
        return cls.model_validate(decode_header_json(value))

    def with_auth_decoded(self) -> AuthConfig:
        """``auth`` (base64 "user:password", as config.json keeps it) as the username and
        password, when no username is given. Raises ValueError."""
        if not self.auth or self.username:
            return self
        username, _, password = base64.b64decode(self.auth).decode().partition(":")
        return self.model_copy(update={"username": username, "password": password})


class RegistryConfig(RootModel[dict[str, AuthConfig]]):
    """X-Registry-Config (build): server address -> credentials."""

    @classmethod
    def from_header(cls, value: str) -> RegistryConfig:
        """Decode X-Registry-Config; an empty header is an empty map. Raises ValueError."""
        if not value.strip():
            return cls({})
        return cls.model_validate(decode_header_json(value))


def decode_header_json(value: str) -> object:
    """base64url (padding optional) -> JSON, as the docker CLI and docker-py encode the headers;
    the plain alphabet is read too, as dockerd tolerates it from other clients.

    Raises ValueError (pydantic's ValidationError is one too) for anything else.
    """
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        decoded: object = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"invalid registry auth header: {exc}") from exc
    return decoded
