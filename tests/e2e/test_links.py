"""Container links as dockerd keeps them (issue 15): legacy ``--link`` on the default
bridge (HostConfig.Links, ALIAS_* variables, /etc/hosts, link names, DELETE ?link=1) and
endpoint links on user-defined networks, answered by the embedded DNS."""

from __future__ import annotations

import json

import docker
import pytest

from tests.e2e.harness import Daemon, detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_legacy_link_env_hosts_and_names(daemon: Daemon, client: docker.DockerClient,
                                         busybox: str) -> None:
    with detached(client, ["sleep", "60"], name="lk-target", environment={"FOO": "1"},
                  ports={"80/tcp": None}) as target:
        target.reload()
        ip = target.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        out = daemon.cli("run", "--name", "lk-user", "--link", "lk-target:my-link",
                         "busybox", "sh", "-c", "env | grep ^MY_LINK | sort; grep my-link /etc/hosts")
        try:
            assert out.stdout.splitlines() == [
                "MY_LINK_ENV_FOO=1",
                "MY_LINK_NAME=/lk-user/my-link",
                f"MY_LINK_PORT=tcp://{ip}:80",
                f"MY_LINK_PORT_80_TCP=tcp://{ip}:80",
                f"MY_LINK_PORT_80_TCP_ADDR={ip}",
                "MY_LINK_PORT_80_TCP_PORT=80",
                "MY_LINK_PORT_80_TCP_PROTO=tcp",
                f"{ip}\tmy-link {target.short_id} lk-target",
            ]
            user = client.api.inspect_container("lk-user")
            assert user["HostConfig"]["Links"] == ["/lk-target:/lk-user/my-link"]
            names = [c["Names"] for c in client.api.containers(all=True)
                     if c["Id"] == target.id]
            assert names == [["/lk-target", "/lk-user/my-link"]]

            status, _, _ = daemon.request("DELETE", "/containers/lk-user/my-link?link=1")
            assert status == 204
            assert client.api.inspect_container("lk-user")["HostConfig"]["Links"] is None
            assert target.id in [c.id for c in client.containers.list()]  # still there
        finally:
            client.api.remove_container("lk-user", force=True)


def test_link_refusals_are_dockerds(daemon: Daemon, client: docker.DockerClient,
                                    busybox: str) -> None:
    status, _, body = daemon.request("POST", "/containers/create", {
        "Image": "busybox", "HostConfig": {"Links": ["nosuch:x"]}})
    assert (status, json.loads(body)["message"]) == (
        400, "could not get container for nosuch: No such container: nosuch")
    stopped = client.containers.create("busybox", "true", name="lk-stopped")
    user = client.containers.create("busybox", "true", links={"lk-stopped": "x"})
    try:
        with pytest.raises(docker.errors.APIError,
                           match="Cannot link to a non running container: /lk-stopped AS "):
            user.start()
        status, _, body = daemon.request("DELETE", f"/containers/{user.name}?link=1")
        assert (status, json.loads(body)["message"]) == (
            409, "Conflict, cannot remove the default link name of the container")
        status, _, _ = daemon.request("DELETE", f"/containers/{user.name}/nolink?link=1")
        assert status == 404
    finally:
        user.remove(force=True)
        stopped.remove(force=True)


def test_endpoint_links_resolve_on_a_user_network(client: docker.DockerClient, busybox: str
                                                  ) -> None:
    net = client.networks.create("lk-net")
    api = client.api
    try:
        user = api.create_container(
            "busybox", ["sleep", "60"], host_config=api.create_host_config(network_mode="lk-net"),
            networking_config=api.create_networking_config({
                "lk-net": api.create_endpoint_config(links=[("lk-upstream", "bar")])}))
        other = api.create_container(
            "busybox", ["sleep", "60"], host_config=api.create_host_config(network_mode="lk-net"))
        try:
            api.start(user)
            shown = api.inspect_container(user)["NetworkSettings"]["Networks"]["lk-net"]
            assert shown["Links"] == ["lk-upstream:bar"]
            with detached(client, ["sleep", "60"], name="lk-upstream", network="lk-net") as up:
                up.reload()
                ip = up.attrs["NetworkSettings"]["Networks"]["lk-net"]["IPAddress"]
                api.start(other)
                ask = api.exec_create(user, ["nslookup", "bar"])
                assert ip in api.exec_start(ask).decode()
                ask = api.exec_create(other, ["nslookup", "bar"])  # not its link
                assert ip not in api.exec_start(ask).decode()
        finally:
            api.remove_container(user, force=True)
            api.remove_container(other, force=True)
    finally:
        net.remove()
