"""Our answers have dockerd's shape: each validates against its wire model and carries every
key that dockerd's recorded answer (tests/golden/dockerd-*.json) carries.

The objects differ (ids, times, addresses); the keys must not, because clients index them.
Maps whose keys are data (labels, networks by name, ports, env) are compared as values only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import pytest
from pydocker.api.models import containers, images, networks, system, volumes
from pydocker.api.models.common import DockerModel

from .harness import Daemon, detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
# Maps keyed by data, not by field name: their keys are not compared.
DATA_KEYED = {"Labels", "Networks", "Ports", "ExposedPorts", "Volumes", "PortBindings",
              "Options", "Status", "Components", "Plugins", "Runtimes", "RegistryConfig",
              "Data", "Metadata", "Architectures", "Platform", "DriverStatus", "SystemStatus",
              "Swarm", "ContainerdCommit", "RuncCommit", "InitCommit", "Warnings",
              "DefaultAddressPools", "CDISpecDirs", "Containers", "IPAM", "ConfigFrom"}
# dockerd 20.10 fields that describe its own machinery (graph drivers, swarm, plugins,
# containerd) rather than the objects.
NOT_OURS = {"GraphDriver", "KernelMemory", "KernelMemoryTCP", "ExecutionDriver",
            # image inspect: API 1.45 dropped these (the goldens were taken at API 1.41)
            "Container", "ContainerConfig"}


def missing_keys(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Keys dockerd's answer has at ``path`` and ours lacks (recursively)."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        out = [f"{path}.{k}" for k in theirs if k not in ours and k not in NOT_OURS]
        for k, v in theirs.items():
            if k in ours and k not in DATA_KEYED:
                out += missing_keys(ours[k], v, f"{path}.{k}")
        return out
    if isinstance(theirs, list) and isinstance(ours, list) and theirs and ours:
        return missing_keys(ours[0], theirs[0], f"{path}[]")
    return []


def golden(name: str) -> Any:
    return json.loads((GOLDEN / f"dockerd-{name}.json").read_text())


def check(name: str, model: type[DockerModel], ours: Any) -> None:
    for item in ours if isinstance(ours, list) else [ours]:
        model.model_validate(item)
    theirs = golden(name)
    assert missing_keys(ours, theirs) == [], name



def test_answers_have_dockerds_shape(daemon: Daemon, client: docker.DockerClient,
                                     busybox: str) -> None:
    volume = client.volumes.create("pydt-shape")
    try:
        with detached(client, ["sleep", "300"], ports={"80/tcp": None},
                      volumes={"pydt-shape": {"bind": "/data"}},
                      environment={"A": "1"}, labels={"l": "v"}) as c:
            api = client.api
            check("container-inspect", containers.ContainerInspectResponse,
                  api.inspect_container(c.id))
            check("container-list", containers.ContainerSummary, api.containers(all=True))
            check("image-inspect", images.ImageInspect, api.inspect_image(busybox))
            check("image-list", images.ImageSummary, api.images())
            check("network-inspect", networks.Network, api.inspect_network("bridge"))
            check("network-list", networks.Network, api.networks())
            check("volume-inspect", volumes.Volume, api.inspect_volume("pydt-shape"))
            check("volume-list", volumes.VolumeListResponse, api.volumes())
            check("version", system.SystemVersion, api.version())
            check("info", system.SystemInfo, api.info())
    finally:
        volume.remove(force=True)
