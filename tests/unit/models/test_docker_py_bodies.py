"""Every body docker-py 7 builds validates, and the engine gets it back unchanged.

docker-py's APIClient is driven against a recording fake of its one HTTP call, ``_post``, so
the bodies are the real ones (including its own ``None`` stripping) without a daemon.
"""

from __future__ import annotations

import json
from typing import Any

import docker
import pytest
from docker import auth as docker_auth
from docker import types
from pydocker.api.models import auth, containers, networks, volumes

from .test_request_models import assert_round_trip

API_VERSION = "1.45"


class FakeResponse:
    status_code = 201
    text = ""

    def __init__(self, answer: dict[str, Any]) -> None:
        self._answer = answer

    def raise_for_status(self) -> None:
        pass

    def json(self) -> dict[str, Any]:
        return self._answer

    def close(self) -> None:
        pass


class RecordingClient(docker.APIClient):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(base_url="unix:///nonexistent.sock", version=API_VERSION)
        self.bodies: list[tuple[str, Any]] = []

    def _post(self, url: str, **kwargs: Any) -> FakeResponse:
        data = kwargs.get("data")
        self.bodies.append((url.split("/v" + API_VERSION, 1)[1], json.loads(data) if data else None))
        return FakeResponse({"Id": "0" * 64, "Warnings": [], "Name": "v", "Status": "ok"})

    def body(self) -> Any:
        return self.bodies[-1][1]


@pytest.fixture
def client() -> RecordingClient:
    return RecordingClient()


def full_host_config(client: RecordingClient) -> Any:
    return client.create_host_config(
        binds={"/tmp": {"bind": "/x", "mode": "ro"}, "vol": {"bind": "/data", "mode": "rw"}},
        port_bindings={80: 8080, "53/udp": ("127.0.0.1", 53), 443: None, 9000: [9000, 9001]},
        mounts=[types.Mount("/m", "vol", labels={"a": "b"}, no_copy=True),
                types.Mount("/t", None, type="tmpfs", tmpfs_size="1m", tmpfs_mode=0o700),
                types.Mount("/b", "/tmp", type="bind", propagation="rprivate", read_only=True)],
        ulimits=[types.Ulimit(name="nofile", soft=10, hard=20)],
        log_config=types.LogConfig(type="json-file", config={"max-size": "1m"}),
        device_requests=[types.DeviceRequest(count=-1, capabilities=[["gpu"]])],
        devices=["/dev/null:/dev/xnull:rwm"], device_cgroup_rules=["c 1:3 mr"],
        mem_limit="64m", memswap_limit="128m", mem_reservation="32m", mem_swappiness=10,
        shm_size="64m", nano_cpus=500_000_000, cpu_shares=512, cpu_period=100_000,
        cpu_quota=50_000, cpuset_cpus="0", cpuset_mems="0", blkio_weight=500,
        blkio_weight_device=[{"Path": "/dev/sda", "Weight": 100}],
        device_read_bps=[{"Path": "/dev/sda", "Rate": 1024}], pids_limit=100,
        oom_kill_disable=True, oom_score_adj=100, sysctls={"net.core.somaxconn": 1024},
        group_add=[1000, "audio"], init=True, tmpfs={"/run": "size=1m"},
        extra_hosts={"h": "1.2.3.4"}, dns=["8.8.8.8"], dns_search=["x"], dns_opt=["ndots:1"],
        cap_add=["NET_ADMIN"], cap_drop=["MKNOD"], restart_policy={"Name": "on-failure",
                                                                  "MaximumRetryCount": 3},
        privileged=True, publish_all_ports=True, read_only=True, security_opt=["no-new-privileges"],
        network_mode="bridge", pid_mode="host", ipc_mode="shareable", uts_mode="host",
        userns_mode="host", cgroupns="private", volumes_from=["other:ro"], links={"db": "db"},
        auto_remove=True, storage_opt={"size": "1G"}, runtime="runc", volume_driver="local",
        cgroup_parent="/x", cpu_count=1, cpu_percent=50, isolation="default",
    )


def test_create_container_with_everything(client: RecordingClient) -> None:
    client.create_container(
        "busybox", command="sh -c 'echo hi'", hostname="h", user=1000, detach=True,
        stdin_open=True, tty=True, ports=[80, ("53", "udp")], environment={"A": "1"},
        volumes=["/data"], entrypoint="/bin/sh", working_dir="/w", domainname="d",
        labels=["a", "b"], stop_signal="SIGTERM", stop_timeout=5, name="c1",
        healthcheck={"test": "true", "interval": 10**9, "retries": 2, "start_period": 10**9},
        host_config=full_host_config(client), mac_address="02:42:ac:11:00:02",
        networking_config=client.create_networking_config({"net": client.create_endpoint_config(
            aliases=["web"], links={"db": "db"}, ipv4_address="10.0.0.2",
            ipv6_address="fe80::2", link_local_ips=["169.254.0.2"], driver_opt={"o": "v"},
            mac_address="02:42:ac:11:00:03")}),
    )
    assert_round_trip(containers.ContainerCreateRequest, client.body())


def test_create_container_minimal(client: RecordingClient) -> None:
    client.create_container("busybox")
    assert_round_trip(containers.ContainerCreateRequest, client.body())
    client.create_container("busybox", ["true"], host_config=client.create_host_config())
    assert_round_trip(containers.ContainerCreateRequest, client.body())


def test_realtime_cpu_keys_in_docker_py_spelling_are_kept(client: RecordingClient) -> None:
    client.create_container("busybox", host_config=client.create_host_config(
        cpu_rt_period=1000, cpu_rt_runtime=500))
    assert client.body()["HostConfig"]["CPURealtimePeriod"] == 1000
    request = containers.ContainerCreateRequest.model_validate(client.body())
    assert request.host_config is not None
    assert request.host_config.docker_py_cpu_realtime_period == 1000
    assert request.wire() == client.body()


def test_update_commit_exec(client: RecordingClient) -> None:
    client.update_container("c1", blkio_weight=300, cpu_period=1, cpu_shares=2, cpu_quota=3,
                            cpuset_cpus="0", cpuset_mems="0", mem_limit="1g",
                            mem_reservation="1m", memswap_limit="2g", kernel_memory="10m",
                            restart_policy={"Name": "always"})
    assert_round_trip(containers.ContainerUpdateRequest, client.body())
    client.commit("c1", "repo", "tag", message="m", author="a", changes=["ENV A=1"],
                  conf={"Cmd": ["sh"], "Env": ["A=1"], "ExposedPorts": {"80/tcp": {}}})
    assert_round_trip(containers.ContainerCommitConfig, client.body())
    client.exec_create("c1", "sh -c 'echo hi'", stdout=True, stderr=True, stdin=True, tty=True,
                       privileged=True, user="root", environment={"X": "1"}, workdir="/tmp",
                       detach_keys="ctrl-p,ctrl-q")
    assert_round_trip(containers.ExecCreateRequest, client.body())
    client.exec_start("0" * 64, detach=True, tty=True)
    assert_round_trip(containers.ExecStartRequest, client.body())


def test_network_bodies(client: RecordingClient) -> None:
    ipam = types.IPAMConfig(driver="default", pool_configs=[types.IPAMPool(
        subnet="10.9.0.0/24", iprange="10.9.0.128/25", gateway="10.9.0.1",
        aux_addresses={"a": "10.9.0.5"})], options={"o": "v"})
    client.create_network("n", driver="bridge", options={"com.docker.network.bridge.name": "b"},
                          ipam=ipam, check_duplicate=True, internal=True, labels={"l": "v"},
                          enable_ipv6=True, attachable=True, scope="local", ingress=False)
    assert_round_trip(networks.NetworkCreateRequest, client.body())
    client.connect_container_to_network("c1", "n", aliases=["a"], links=[("db", "db")],
                                        ipv4_address="10.9.0.9", link_local_ips=["169.254.1.1"],
                                        driver_opt={"o": "v"}, mac_address="02:42:ac:11:00:09")
    assert_round_trip(networks.NetworkConnectRequest, client.body())
    client.disconnect_container_from_network("c1", "n", force=True)
    assert_round_trip(networks.NetworkDisconnectRequest, client.body())


def test_volume_and_auth_bodies(client: RecordingClient, tmp_path: Any) -> None:
    client.create_volume("v", driver="local", driver_opts={"type": "tmpfs"}, labels={"a": "b"})
    assert_round_trip(volumes.VolumeCreateRequest, client.body())
    client.login("user", "secret", email="u@example.com", registry="localhost:5000",
                 dockercfg_path=str(tmp_path / "config.json"))
    assert_round_trip(auth.AuthConfig, client.body())


@pytest.mark.parametrize("credentials", [
    {"username": "u", "password": "p", "email": None, "serveraddress": "localhost:5000"},
    {"IdentityToken": "token"},
    {},
])
def test_registry_auth_header_as_docker_py_encodes_it(credentials: dict[str, Any]) -> None:
    header = docker_auth.encode_header(credentials).decode()
    decoded = auth.AuthConfig.from_header(header).wire()
    assert decoded == {key.lower(): value for key, value in credentials.items()}
    assert auth.AuthConfig.from_header(header.rstrip("=")).wire() == decoded


def test_registry_config_header() -> None:
    header = docker_auth.encode_header({"localhost:5000": {"username": "u", "password": "p"}})
    config = auth.RegistryConfig.from_header(header.decode())
    assert config.root["localhost:5000"].username == "u"
    assert auth.RegistryConfig.from_header("").root == {}


@pytest.mark.parametrize("header", ["%%%", "bm90IGpzb24", "WzFd"])  # not base64, not JSON, a list
def test_a_bad_registry_auth_header_is_a_value_error(header: str) -> None:
    with pytest.raises(ValueError, match="."):
        auth.AuthConfig.from_header(header)
