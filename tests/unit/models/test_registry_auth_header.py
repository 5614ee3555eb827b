"""X-Registry-Auth and POST /auth credentials: decoded once, by the API's AuthConfig, and
handed to the registry client through the daemon's one mapping."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp.test_utils import make_mocked_request
from pydocker.api.models.auth import AuthConfig
from pydocker.api.server.routes.build import build_query
from pydocker.engine.daemon.images import registry_auth
from pydocker.images.registry import RegistryAuth

ANONYMOUS_API = AuthConfig.model_validate({})  # no X-Registry-Auth

CREDENTIALS = {"username": "alice", "password": "p?>w~", "serveraddress": "127.0.0.1:5000"}


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_either_alphabet_with_or_without_padding(encode) -> None:  # type: ignore[no-untyped-def]
    header = encode(json.dumps(CREDENTIALS).encode()).decode()
    assert AuthConfig.from_header(header).password == "p?>w~"
    assert AuthConfig.from_header(header.rstrip("=")).password == "p?>w~"


def test_tokens_and_keys_of_any_case_reach_the_registry_client() -> None:
    data = {"IdentityToken": "refresh", "RegistryToken": "bearer", "ServerAddress": "x"}
    header = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    assert registry_auth(AuthConfig.from_header(header)) == RegistryAuth(
        serveraddress="x", identitytoken="refresh", registrytoken="bearer")


def test_no_header_is_anonymous() -> None:
    assert registry_auth(AuthConfig.from_header("  ")) == RegistryAuth()
    assert registry_auth(ANONYMOUS_API) == RegistryAuth()


def test_auth_field_is_username_and_password_unless_a_username_is_given() -> None:
    encoded = base64.b64encode(b"bob:pa:ss").decode()
    decoded = AuthConfig.model_validate({"auth": encoded,
                                         "serveraddress": "r"}).with_auth_decoded()
    assert registry_auth(decoded) == RegistryAuth("bob", "pa:ss", "r")
    given = AuthConfig.model_validate({"username": "carol", "password": "pw", "auth": encoded})
    assert given.with_auth_decoded() is given
    with pytest.raises(ValueError, match="."):
        AuthConfig.model_validate({"auth": "YQ"}).with_auth_decoded()


def test_build_reads_x_registry_config_typed_and_unreadable_as_none() -> None:
    header = base64.urlsafe_b64encode(json.dumps({"r:5000": CREDENTIALS}).encode()).decode()
    query = build_query(make_mocked_request("POST", "/build",
                                            headers={"X-Registry-Config": header}))
    assert query.registry_config["r:5000"].username == "alice"
    garbled = build_query(make_mocked_request("POST", "/build",
                                              headers={"X-Registry-Config": "%%%"}))
    assert garbled.registry_config == {}
