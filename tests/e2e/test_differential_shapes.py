"""Differential tests (issue 15, part 4), the shapes: container, image, network and
volume inspect, list entries and docker-py's answers from pydockerd and from the reference
dockerd, compared key for key, and field by field where the values must agree. Fields
that legitimately differ are named below with the reason (mostly the API version: the
reference is dockerd 20.10, API 1.41; we answer as moby 28, API 1.50). See
test_differential.py for how the two engines are set up and when this is skipped.
"""

from __future__ import annotations

import json
from typing import Any

import docker
import pytest

from tests.e2e.differential import (
    LABEL,
    Side,
    both_engines,
    compare_documents,
    key_differences,
    labelled,
    normal_text,
    same,
    shape,
    subnets_for,
)

pytestmark = [pytest.mark.root, pytest.mark.e2e]


# --- inspect shapes ------------------------------------------------------------------

# Fields that legitimately differ between the two engines, and why. Everything else
# must have the same keys (and the fields compared by value, the same values).
# The reference is dockerd 20.10 (API 1.41); we answer as moby 28 does (API 1.50), whose
# shapes gained and lost a few fields since. The version a client asks for changes
# neither engine's inspect shape, so those fields are named here, each with its version.
NEWER_API_FIELDS = {
    "HostConfig.KernelMemory": "gone from the API after 1.41 (deprecated in 1.42)",
    "HostConfig.KernelMemoryTCP": "gone from the API after 1.41 (deprecated in 1.42)",
    "NetworkSettings.Networks.*.DNSNames": "added in API 1.44",
    "NetworkSettings.Networks.*.GwPriority": "added in API 1.48",
}
CONTAINER_SHAPE_IGNORED = {
    **NEWER_API_FIELDS,
    "GraphDriver.Data": "paths inside each engine's data root",
}

CONTAINER_SAME_VALUES = ["Path", "Args", "Config.Env", "Config.Cmd", "Config.Entrypoint",
                         "Config.User", "Config.WorkingDir", "Config.Labels", "Config.Tty",
                         "Config.OpenStdin", "Config.ExposedPorts", "Config.StopSignal",
                         "Config.Volumes", "State.Status", "State.Running", "State.Paused",
                         "State.ExitCode", "State.OOMKilled", "State.Error",
                         "HostConfig.NetworkMode", "HostConfig.RestartPolicy",
                         "HostConfig.PortBindings", "HostConfig.Binds", "HostConfig.LogConfig",
                         "HostConfig.CapAdd", "HostConfig.Privileged", "HostConfig.IpcMode",
                         "HostConfig.ShmSize", "HostConfig.Dns", "HostConfig.ExtraHosts",
                         "HostConfig.AutoRemove", "HostConfig.ReadonlyRootfs",
                         "HostConfig.Memory", "HostConfig.CpuShares", "Mounts",
                         "NetworkSettings.Ports", "Driver", "Name", "RestartCount",
                         "Platform", "AppArmorProfile", "ExecIDs"]


def test_inspect_container(sides: tuple[Side, Side]) -> None:
    def make(side: Side, client: docker.APIClient) -> dict[str, Any]:
        host_config = client.create_host_config(
            port_bindings={80: ("127.0.0.1", None)}, restart_policy={"Name": "on-failure",
                                                                     "MaximumRetryCount": 2},
            cap_add=["NET_ADMIN"], extra_hosts={"pydt-x": "10.1.2.3"}, shm_size="32m",
            binds=[f"{side.name_for('volume', 'inspect-vol')}:/data"])
        created = client.create_container(
            side.image, ["sleep", "600"], name=side.name_for("container", "inspect"),
            labels={LABEL: "", "a": "b"}, environment={"A": "1"}, working_dir="/w",
            ports=[80], host_config=host_config, stop_signal="SIGINT", user="www-data")
        client.start(created["Id"])
        return client.inspect_container(created["Id"])  # type: ignore[no-any-return]

    ours, theirs = both_engines(sides, make)
    compare_documents(sides, ours, theirs, CONTAINER_SHAPE_IGNORED, CONTAINER_SAME_VALUES)


IMAGE_SHAPE_IGNORED = {
    "GraphDriver.Data": "paths inside each engine's data root",
    "Container": "gone from the API in 1.45 (the committing container of a legacy image)",
    "ContainerConfig": "gone from the API in 1.45",
}
# DockerVersion is the version of the engine that made the image: each its own.
IMAGE_SAME_VALUES = ["RepoTags", "Config.Cmd", "Config.Env", "Config.Entrypoint",
                     "Config.WorkingDir", "Architecture", "Os", "RootFS.Type",
                     "Parent", "Comment", "Author", "GraphDriver.Name", "Metadata"]


def test_inspect_image(sides: tuple[Side, Side]) -> None:
    ours, theirs = both_engines(sides, lambda side, client: client.inspect_image(side.image))
    compare_documents(sides, ours, theirs, IMAGE_SHAPE_IGNORED, IMAGE_SAME_VALUES)
    same(sides, "image", "inspect", "-f", "{{.Config.Cmd}} {{.Os}} {{len .RootFS.Layers}}",
         "IMG")
    same(sides, "history", "--format", "{{.CreatedBy}}|{{.Comment}}", "IMG")
    same(sides, "images", "--format", "{{.Repository}}:{{.Tag}}", "IMG")


NETWORK_SHAPE_IGNORED = {"EnableIPv4": "added in API 1.47"}
NETWORK_SAME_VALUES = ["Name", "Scope", "Driver", "EnableIPv6", "IPAM.Driver",
                       "IPAM.Options", "Internal", "Attachable", "Ingress", "ConfigFrom",
                       "ConfigOnly", "Options", "Labels"]


def test_network_create_inspect_connect(sides: tuple[Side, Side]) -> None:
    subnets = subnets_for(sides[0].run)
    for side in sides:
        net = side.name_for("network", "net")
        assert side.cli("network", "create", "--subnet", subnets[side.name], "--label",
                        "k=v", "-o", "com.example.opt=1", net).rc == 0
        assert side.cli("run", "-d", *labelled(side, "net-member"), "IMG",
                        "sleep", "600").rc == 0
    net = f"pydt-diff-{sides[0].run}-net"
    member = f"pydt-diff-{sides[0].run}-net-member"
    ours, theirs = both_engines(sides, lambda side, client: client.inspect_network(net))
    compare_documents(sides, ours, theirs, NETWORK_SHAPE_IGNORED, NETWORK_SAME_VALUES)
    same(sides, "network", "connect", "--alias", "pydt-alias", net, member)
    same(sides, "network", "connect", net, member)  # the second time: refused alike
    same(sides, "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}="
         "{{$v.Aliases}} {{end}}", member)
    same(sides, "network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", net)
    same(sides, "network", "ls", "--filter", f"name={net}", "--format",
         "{{.Name}} {{.Driver}} {{.Scope}} {{.Labels}}")
    same(sides, "network", "disconnect", net, member)
    same(sides, "network", "disconnect", net, member)
    same(sides, "network", "create", net)  # taken


VOLUME_SAME_VALUES = ["Name", "Driver", "Labels", "Options", "Scope"]


def test_volume_create_inspect_ls(sides: tuple[Side, Side]) -> None:
    for side in sides:
        vol = side.name_for("volume", "vol")
        assert side.cli("volume", "create", "--label", "k=v", vol).rc == 0
    vol = f"pydt-diff-{sides[0].run}-vol"
    ours, theirs = both_engines(sides, lambda side, client: client.inspect_volume(vol))
    compare_documents(sides, ours, theirs, {}, VOLUME_SAME_VALUES)
    same(sides, "volume", "ls", "--filter", f"name={vol}", "--format",
         "{{.Name}} {{.Driver}} {{.Labels}} {{.Scope}}")
    same(sides, "volume", "ls", "-q", "--filter", f"name={vol}", "--filter", "label=k=v")
    same(sides, "volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels}}", vol)


def test_network_ipam_shown_as_asked(sides: tuple[Side, Side]) -> None:
    """IPAM as the create sent it: no Options from docker-py (null), {} from the CLI; a
    subnet without a gateway is shown without the gateway the engine chose."""
    subnets = subnets_for(sides[0].run)

    def make(side: Side, client: docker.APIClient) -> dict[str, Any]:
        # the same blocks in 10.198/16: the other test's networks still hold 10.199
        pool = docker.types.IPAMPool(subnet=subnets[side.name].replace("10.199.", "10.198."))
        net = client.create_network(side.name_for("network", "ipam"),
                                    ipam=docker.types.IPAMConfig(pool_configs=[pool]))
        return client.inspect_network(net["Id"])["IPAM"]  # type: ignore[no-any-return]

    ours, theirs = both_engines(sides, make)
    assert normal_text(json.dumps(ours, sort_keys=True), sides[0]) == \
        normal_text(json.dumps(theirs, sort_keys=True), sides[1])


# --- docker-py: answers and list shapes ---------------------------------------------

# Patterns over the list entries' key paths ("[].Key"), each with its API version.
LIST_SHAPE_IGNORED = {
    "[].NetworkSettings.Networks.*.DNSNames": "added in API 1.44",
    "[].NetworkSettings.Networks.*.GwPriority": "added in API 1.48",
    "[].ImageManifestDescriptor": "added in API 1.48",
    "[].Health": "added to the list in API 1.50",
    "[].Manifests": "added in API 1.47",
    "[].Descriptor": "added in API 1.48",
    "[].EnableIPv4": "added in API 1.47",
}


def test_docker_py_answers(sides: tuple[Side, Side]) -> None:
    subnets = {name: subnet.replace("10.199.", "10.197.") for name, subnet in
               subnets_for(sides[0].run).items()}  # blocks of their own, as in the tests above

    def answers(side: Side, client: docker.APIClient) -> dict[str, Any]:
        net = side.name_for("network", "py-net")
        pool = docker.types.IPAMPool(subnet=subnets[side.name],
                                     gateway=subnets[side.name].replace(".0/24", ".1"))
        client.create_network(net, ipam=docker.types.IPAMConfig(pool_configs=[pool]))
        made = client.create_container(side.image, ["sh", "-c", "echo one; echo two; exit 3"],
                                       name=side.name_for("container", "py"),
                                       labels={LABEL: "", "k": "v"})
        client.start(made["Id"])
        waited = client.wait(made["Id"])
        runner = client.create_container(side.image, ["sleep", "600"], labels={LABEL: ""},
                                         name=side.name_for("container", "py-exec"),
                                         host_config=client.create_host_config(
                                             network_mode=net))
        client.start(runner["Id"])
        exec_id = client.exec_create(runner["Id"], ["sh", "-c", "echo in; exit 4"])["Id"]
        out = client.exec_start(exec_id)
        return {
            "wait": waited,
            "logs": client.logs(made["Id"], tail=1),
            "exec": [out, client.exec_inspect(exec_id)["ExitCode"]],
            "exec_inspect": shape(client.exec_inspect(exec_id)),
            "list": shape(client.containers(all=True, filters={"label": "k=v"}),
                          LIST_SHAPE_IGNORED),
            "images": shape(client.images(side.image), LIST_SHAPE_IGNORED),
            "volumes": shape(client.volumes(filters={"name": "pydt-diff-nosuch"})),
            "networks": shape(client.networks(names=[net]), LIST_SHAPE_IGNORED),
        }

    ours, theirs = both_engines(sides, answers)
    assert ours["wait"] == theirs["wait"] == {"StatusCode": 3, "Error": None}
    assert ours["logs"] == theirs["logs"] == b"two\n"
    assert ours["exec"] == theirs["exec"] == [b"in\n", 4]
    for key in ("exec_inspect", "list", "images", "volumes", "networks"):
        diffs = key_differences(ours[key], theirs[key])
        assert not diffs, f"{key}: " + "\n".join(diffs)


