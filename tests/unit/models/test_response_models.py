"""The answer models hold what a reference dockerd answers, and name every swagger v1.50 field.

tests/golden/dockerd-*.json were recorded from Debian's dockerd 20.10 (API 1.41) on the
development machine: a busybox image imported from the test rootfs, a running container with a
published port, a volume and an env/label, plus an exited one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydocker.api.models import containers, images, networks, system, volumes
from pydocker.api.models.common import DockerModel

from .swagger import ROOT, definition_properties, needs_swagger

GOLDEN = ROOT / "tests" / "golden"

# golden file -> (model, whether the file is a list of them)
RECORDED: dict[str, tuple[type[DockerModel], bool]] = {
    "dockerd-container-inspect.json": (containers.ContainerInspectResponse, False),
    "dockerd-container-list.json": (containers.ContainerSummary, True),
    "dockerd-image-inspect.json": (images.ImageInspect, False),
    "dockerd-image-list.json": (images.ImageSummary, True),
    "dockerd-network-inspect.json": (networks.Network, False),
    "dockerd-network-list.json": (networks.Network, True),
    "dockerd-volume-inspect.json": (volumes.Volume, False),
    "dockerd-volume-list.json": (volumes.VolumeListResponse, False),
    "dockerd-version.json": (system.SystemVersion, False),
    "dockerd-info.json": (system.SystemInfo, False),
}

ANSWER_SHAPES: list[type[DockerModel]] = [
    containers.ContainerInspectResponse, containers.ContainerState, containers.ContainerSummary,
    containers.MountPoint, containers.Port, containers.Health, containers.HealthcheckResult,
    containers.DriverData, networks.NetworkSettings, networks.Network, networks.Address,
    images.ImageInspect, images.ImageSummary, volumes.Volume, volumes.VolumeListResponse,
    system.SystemVersion, system.SystemInfo,
]


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_dockerd_answers_validate_and_nothing_is_lost(name: str) -> None:
    model, many = RECORDED[name]
    recorded = json.loads((GOLDEN / name).read_text())
    for answer in recorded if many else [recorded]:
        dumped = model.model_validate(answer).model_dump(by_alias=True, exclude_unset=True)
        assert dumped == answer
        assert model.model_validate_json(json.dumps(answer)).wire() == answer


def test_the_recorded_files_are_the_ones_the_tests_know() -> None:
    assert {p.name for p in GOLDEN.glob("dockerd-*.json")} == set(RECORDED)


@needs_swagger
@pytest.mark.parametrize("model", ANSWER_SHAPES, ids=lambda m: m.__name__)
def test_every_swagger_field_of_an_answer_is_modelled(model: type[DockerModel]) -> None:
    names = {field.serialization_alias or field.alias for field in model.model_fields.values()}
    assert set(definition_properties(model.__name__)) - names == set()


def test_answers_serialize_with_docker_names() -> None:
    state: dict[str, Any] = {"Status": "exited", "OOMKilled": False, "ExitCode": 3}
    answer = containers.ContainerState.model_validate(state)
    assert answer.oom_killed is False
    assert answer.model_dump(exclude_unset=True) == state
