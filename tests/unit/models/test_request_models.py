"""The request models against moby's swagger, real client bodies, and Go's decoding rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from pydocker.api.models import auth, containers, hostconfig, networks, volumes
from pydocker.api.models.common import DockerModel

from .swagger import ROOT, body_properties, definition_properties, needs_swagger

GOLDEN = ROOT / "tests" / "golden"

# model -> ("definition", name) or ("body", method, path) of swagger v1.50
SWAGGER_SHAPES: list[tuple[type[DockerModel], tuple[str, ...]]] = [
    (containers.ContainerCreateRequest, ("body", "POST", "/containers/create")),
    (containers.ContainerUpdateRequest, ("body", "POST", "/containers/{id}/update")),
    (containers.ExecCreateRequest, ("body", "POST", "/containers/{id}/exec")),
    (containers.ExecStartRequest, ("body", "POST", "/exec/{id}/start")),
    (containers.ContainerCommitConfig, ("body", "POST", "/commit")),
    (networks.NetworkCreateRequest, ("body", "POST", "/networks/create")),
    (networks.NetworkConnectRequest, ("body", "POST", "/networks/{id}/connect")),
    (networks.NetworkDisconnectRequest, ("body", "POST", "/networks/{id}/disconnect")),
    (volumes.VolumeCreateRequest, ("body", "POST", "/volumes/create")),
    (auth.AuthConfig, ("body", "POST", "/auth")),
    (containers.ContainerConfig, ("definition", "ContainerConfig")),
    (containers.HealthConfig, ("definition", "HealthConfig")),
    (hostconfig.HostConfig, ("definition", "HostConfig")),
    (hostconfig.Resources, ("definition", "Resources")),
    (hostconfig.RestartPolicy, ("definition", "RestartPolicy")),
    (hostconfig.Mount, ("definition", "Mount")),
    (hostconfig.DeviceMapping, ("definition", "DeviceMapping")),
    (hostconfig.DeviceRequest, ("definition", "DeviceRequest")),
    (hostconfig.ThrottleDevice, ("definition", "ThrottleDevice")),
    (hostconfig.PortBinding, ("definition", "PortBinding")),
    (networks.NetworkingConfig, ("definition", "NetworkingConfig")),
    (networks.EndpointSettings, ("definition", "EndpointSettings")),
    (networks.EndpointIPAMConfig, ("definition", "EndpointIPAMConfig")),
    (networks.IPAM, ("definition", "IPAM")),
    (networks.IPAMConfig, ("definition", "IPAMConfig")),
    (networks.ConfigReference, ("definition", "ConfigReference")),
]

REQUEST_MODELS: dict[str, type[DockerModel]] = {
    model.__name__: model for model, _ in SWAGGER_SHAPES
}


def wire_names(model: type[DockerModel]) -> set[str]:
    return {field.serialization_alias or field.alias or name
            for name, field in model.model_fields.items()}


def assert_round_trip(model: type[DockerModel], body: dict[str, Any]) -> None:
    """Valid, and the engine gets back exactly the dict the client sent."""
    assert model.model_validate(body).model_dump(by_alias=True, exclude_unset=True) == body


@needs_swagger
@pytest.mark.parametrize(("model", "shape"), SWAGGER_SHAPES, ids=lambda x: getattr(x, "__name__", None))
def test_every_swagger_field_is_modelled(model: type[DockerModel], shape: tuple[str, ...]) -> None:
    kind, *where = shape
    expected = definition_properties(where[0]) if kind == "definition" else body_properties(*where)
    assert expected, f"nothing read from the swagger for {shape}"
    assert expected - wire_names(model) == set()


CLI_BODIES = json.loads((GOLDEN / "cli-28-request-bodies.json").read_text())["bodies"]


@pytest.mark.parametrize("recorded", CLI_BODIES, ids=lambda r: r["request"])
def test_docker_cli_bodies_validate_and_round_trip(recorded: dict[str, Any]) -> None:
    model = REQUEST_MODELS[recorded["model"]]
    assert_round_trip(model, recorded["body"])
    assert model.model_validate_json(json.dumps(recorded["body"])).wire() == recorded["body"]


@pytest.mark.parametrize(("raw", "error"), [
    ('{"StopTimeout": 1e3}', "int_type"),         # Go: cannot unmarshal number 1e3 into int
    ('{"StopTimeout": 1.0}', "int_type"),
    ('{"HostConfig": {"Memory": 1.5e400}}', "int_type"),
    ('{"HostConfig": {"IOMaximumIOps": 18446744073709551616}}', "less_than_equal"),
])
def test_json_numbers_as_go_reads_them(raw: str, error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        containers.ContainerCreateRequest.model_validate_json(raw)
    assert caught.value.errors()[0]["type"] == error


# --- Go's encoding/json rules --------------------------------------------------------------

def test_null_is_accepted_for_every_field() -> None:
    for model in REQUEST_MODELS.values():
        body = dict.fromkeys(wire_names(model))
        assert_round_trip(model, body)


def test_unknown_fields_are_ignored() -> None:
    body = {"Image": "busybox", "NoSuchField": {"x": [1]},
            "HostConfig": {"Memory": 1, "LxcConf": [{"Key": "a"}]}}
    dumped = containers.ContainerCreateRequest.model_validate(body).wire()
    assert dumped == {"Image": "busybox", "HostConfig": {"Memory": 1}}


@pytest.mark.parametrize(("body", "where"), [
    ({"Tty": 1}, ("Tty",)),                                        # a number is not a bool
    ({"Tty": "true"}, ("Tty",)),
    ({"StopTimeout": "10"}, ("StopTimeout",)),                     # a string is not a number
    ({"StopTimeout": True}, ("StopTimeout",)),                     # a bool is not a number
    ({"StopTimeout": 1.5}, ("StopTimeout",)),                      # no fraction for an int
    ({"StopTimeout": 1.0}, ("StopTimeout",)),                      # Go rejects 1.0 too
    ({"HostConfig": {"Memory": 2**63}}, ("HostConfig", "Memory")),          # int64 range
    ({"HostConfig": {"Memory": -(2**63) - 1}}, ("HostConfig", "Memory")),
    ({"HostConfig": {"BlkioWeight": 65536}}, ("HostConfig", "BlkioWeight")),  # uint16
    ({"HostConfig": {"BlkioWeight": -1}}, ("HostConfig", "BlkioWeight")),
    ({"HostConfig": {"IOMaximumIOps": 2**64}}, ("HostConfig", "IOMaximumIOps")),  # uint64
    ({"Env": "A=1"}, ("Env",)),                                    # a list, not a string
    ({"Env": ["A=1", 2]}, ("Env", 1)),
    ({"Cmd": {"a": 1}}, ("Cmd",)),
    ({"Labels": ["a"]}, ("Labels",)),
    ({"Labels": {"a": 1}}, ("Labels", "a")),
    ({"ExposedPorts": {"80/tcp": "yes"}}, ("ExposedPorts", "80/tcp")),
    ({"HostConfig": []}, ("HostConfig",)),
    ({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 8080}]}}},
     ("HostConfig", "PortBindings", "80/tcp", 0, "HostPort")),
    ({"HostConfig": {"Mounts": [{"TmpfsOptions": {"Mode": 2**32}}]}},
     ("HostConfig", "Mounts", 0, "TmpfsOptions", "Mode")),
    ({"NetworkingConfig": {"EndpointsConfig": {"n": {"Aliases": "a"}}}},
     ("NetworkingConfig", "EndpointsConfig", "n", "Aliases")),
])
def test_wrong_types_name_the_field(body: dict[str, Any], where: tuple[str | int, ...]) -> None:
    model = containers.ContainerCreateRequest
    with pytest.raises(ValidationError) as as_dict:
        model.model_validate(body)
    with pytest.raises(ValidationError) as as_json:
        model.model_validate_json(json.dumps(body))
    for caught in (as_dict, as_json):
        assert any(err["loc"][: len(where)] == where for err in caught.value.errors())


@pytest.mark.parametrize("body", [None, [], "x", 1, [{"Image": "a"}]])
def test_a_body_that_is_not_an_object_is_rejected(body: object) -> None:
    for model in REQUEST_MODELS.values():
        with pytest.raises(ValidationError):
            model.model_validate(body)


def test_limits_of_the_go_types_are_accepted() -> None:
    body = {"HostConfig": {"Memory": 2**63 - 1, "CpuQuota": -(2**63), "BlkioWeight": 65535,
                           "IOMaximumBandwidth": 2**64 - 1}}
    assert_round_trip(containers.ContainerCreateRequest, body)


def test_strslice_fields_take_a_string_or_a_list() -> None:
    for value in ("sh -c true", ["sh", "-c", "true"]):
        body = {"Cmd": value, "Entrypoint": value, "Shell": value,
                "Healthcheck": {"Test": value}, "HostConfig": {"CapAdd": value}}
        assert_round_trip(containers.ContainerCreateRequest, body)
