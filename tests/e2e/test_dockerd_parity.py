"""Behaviours where docker-py's integration suite caught us differing from dockerd
(issue 15): each test here pins dockerd's answer, checked with docker-py."""

from __future__ import annotations

import json

import docker
import pytest

from tests.e2e.harness import Daemon, detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_kill_returns_once_the_container_has_exited(client: docker.DockerClient,
                                                     busybox: str) -> None:
    c = client.containers.run("busybox", "sleep 9999", detach=True)
    try:
        c.kill()
        state = client.api.inspect_container(c.id)["State"]  # no wait in between
        assert state["Running"] is False
        assert state["ExitCode"] == 137
    finally:
        c.remove()  # not a 409: it is already down


def test_prune_reports_the_removed_containers_and_their_space(
        daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    done = client.containers.run("busybox", ["sh", "-c", "head -c 5000 /dev/zero > /data"],
                                 detach=True)
    running = client.containers.run("busybox", "sleep 9999", detach=True)
    try:
        done.wait()
        status, _, body = daemon.request("GET", f"/containers/{done.id}/json?size=1")
        assert status == 200
        assert json.loads(body)["SizeRw"] >= 5000
        result = client.containers.prune()
        assert done.id in result["ContainersDeleted"]
        assert running.id not in result["ContainersDeleted"]
        assert result["SpaceReclaimed"] >= 5000
    finally:
        running.remove(force=True)


def test_exec_pty_comes_from_create_and_framing_from_start(
        client: docker.DockerClient, busybox: str) -> None:
    """dockerd runs the exec in a pty (onlcr: \\r\\n) when its create asked for a tty,
    and frames the stream when its start did not: docker-py's default exec_start."""
    with detached(client, ["cat"], stdin_open=True) as c:
        api = client.api
        tty_exec = api.exec_create(c.id, ["sh", "-c", "echo out; echo err >&2"], tty=True)
        assert api.exec_start(tty_exec, demux=True) == (b"out\r\nerr\r\n", None)
        piped = api.exec_create(c.id, ["sh", "-c", "echo out; [ -t 1 ] || echo piped"])
        assert api.exec_start(piped, tty=True) == b"out\npiped\n"  # raw, no frames


def test_followed_logs_come_line_by_line(client: docker.DockerClient, busybox: str) -> None:
    """One frame per logged line, as dockerd: docker-py's stream yields each line."""
    out = client.containers.run("busybox", ["sh", "-c", "echo hello; echo world; echo !"],
                                stream=True, remove=True)
    assert list(out) == [b"hello\n", b"world\n", b"!\n"]


@pytest.mark.parametrize(("log_config", "message"), [
    ({"Type": "asdf", "Config": {}}, 'error looking up logging plugin asdf: plugin "asdf" not found'),
    ({"Type": "json-file", "Config": {"bogus": "1"}}, "unknown log opt 'bogus' for json-file log driver"),
])
def test_a_bad_log_config_is_refused_with_dockerds_message(
        daemon: Daemon, busybox: str, log_config: dict[str, object], message: str) -> None:
    status, _, body = daemon.request("POST", "/containers/create", {
        "Image": "busybox", "Cmd": ["true"], "HostConfig": {"LogConfig": log_config}})
    assert (status, json.loads(body)["message"]) == (400, message)


def test_log_config_defaults_to_json_file(client: docker.DockerClient, busybox: str) -> None:
    c = client.api.create_container("busybox", ["true"], host_config=client.api.create_host_config(
        log_config=docker.types.LogConfig(type="", config={"max-file": "3"})))
    try:
        log_config = client.api.inspect_container(c["Id"])["HostConfig"]["LogConfig"]
        assert log_config == {"Type": "json-file", "Config": {"max-file": "3"}}
    finally:
        client.api.remove_container(c["Id"])


def test_mac_address_on_create_and_on_connect(client: docker.DockerClient, busybox: str
                                              ) -> None:
    api = client.api
    created = api.create_container("busybox", ["sleep", "60"], mac_address="02:42:ac:11:00:0a")
    net = client.networks.create("parity-mac")
    try:
        net.connect(created["Id"], mac_address="02:42:ac:11:00:0b")
        shown = api.inspect_container(created["Id"])["NetworkSettings"]["Networks"]
        assert shown["parity-mac"]["MacAddress"] == "02:42:ac:11:00:0b"  # before start too
        api.start(created["Id"])
        settings = api.inspect_container(created["Id"])["NetworkSettings"]
        assert settings["MacAddress"] == "02:42:ac:11:00:0a"
        run = api.exec_create(created["Id"], ["cat", "/sys/class/net/eth0/address",
                                              "/sys/class/net/eth1/address"])
        assert api.exec_start(run) == b"02:42:ac:11:00:0a\n02:42:ac:11:00:0b\n"
    finally:
        api.remove_container(created["Id"], force=True)
        net.remove()


def test_a_malformed_mac_address_is_refused_at_create(daemon: Daemon, busybox: str) -> None:
    status, _, body = daemon.request("POST", "/containers/create", {
        "Image": "busybox", "MacAddress": "zz:zz"})
    assert (status, json.loads(body)["message"]) == (400, "address zz:zz: invalid MAC address")


def test_a_link_local_ip_outside_the_link_local_range_is_refused(
        client: docker.DockerClient, busybox: str) -> None:
    api = client.api
    endpoint = api.create_endpoint_config(link_local_ips=["10.0.0.1"])
    with pytest.raises(docker.errors.APIError, match="invalid link-local IP address: 10.0.0.1"):
        api.create_container("busybox", "true",
                             networking_config=api.create_networking_config({"bridge": endpoint}))


def test_endpoint_ipam_config_and_driver_opts_are_kept(client: docker.DockerClient,
                                                       busybox: str) -> None:
    api = client.api
    endpoint = api.create_endpoint_config(link_local_ips=["169.254.8.8"],
                                          driver_opt={"com.example.setting": "on"})
    created = api.create_container(
        "busybox", ["sleep", "60"], host_config=api.create_host_config(network_mode="bridge"),
        networking_config=api.create_networking_config({"bridge": endpoint}))
    try:
        api.start(created["Id"])
        shown = api.inspect_container(created["Id"])["NetworkSettings"]["Networks"]["bridge"]
        assert shown["IPAMConfig"] == {"LinkLocalIPs": ["169.254.8.8"]}
        assert shown["DriverOpts"] == {"com.example.setting": "on"}
        addrs = api.exec_start(api.exec_create(created["Id"], ["ip", "-4", "addr", "show", "eth0"]))
        assert b"inet 169.254.8.8/16" in addrs  # given to the interface, as dockerd does
    finally:
        api.remove_container(created["Id"], force=True)


def test_ipam_auxiliary_addresses_are_shown_and_never_handed_out(
        client: docker.DockerClient, busybox: str) -> None:
    pool = docker.types.IPAMPool(subnet="172.29.7.0/29", gateway="172.29.7.1",
                                 aux_addresses={"router": "172.29.7.2"})
    net = client.networks.create("parity-aux", ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    try:
        assert net.attrs["IPAM"]["Config"] == [{
            "Subnet": "172.29.7.0/29", "Gateway": "172.29.7.1",
            "AuxiliaryAddresses": {"router": "172.29.7.2"}}]
        with detached(client, ["sleep", "60"], network="parity-aux") as c:
            c.reload()
            assert c.attrs["NetworkSettings"]["Networks"]["parity-aux"]["IPAddress"] == \
                "172.29.7.3"
    finally:
        net.remove()


def test_diff_shows_only_what_the_process_changed(client: docker.DockerClient, busybox: str
                                                 ) -> None:
    """The /etc files and mount points the engine makes live in an init layer below the
    container's own, as dockerd's do: a fresh container's diff is empty, and the test
    image has no /etc/hosts or /etc/resolv.conf of its own to hide them."""
    fresh = client.containers.run("busybox", "true", detach=True)
    touched = client.containers.run("busybox", "touch /test", detach=True)
    try:
        fresh.wait()
        touched.wait()
        assert fresh.diff() is None
        assert touched.diff() == [{"Path": "/test", "Kind": 1}]
    finally:
        fresh.remove()
        touched.remove()


def test_exec_detach_keys_from_the_clients_config(client: docker.DockerClient, busybox: str
                                                  ) -> None:
    """docker-py sends its config file's detachKeys as ``detachKeys``; Go's decoder
    takes it for DetachKeys, and so do we: ctrl-p alone detaches."""
    with detached(client, ["cat"], stdin_open=True) as c:
        api = client.api
        api._general_configs["detachKeys"] = "ctrl-p"
        exec_id = api.exec_create(c.id, "cat", stdin=True, tty=True)
        assert api.exec_inspect(exec_id)["DetachKeys"] == "ctrl-p"
        sock = api.exec_start(exec_id, tty=True, socket=True)
        try:
            raw = sock._sock
            raw.settimeout(10)
            raw.sendall(b"\x10")  # ctrl-p
            while raw.recv(4096):  # the echo of the pty, then the end of the stream
                pass
        finally:
            sock.close()


def test_volume_subpath_mounts_a_directory_of_the_volume(client: docker.DockerClient,
                                                         busybox: str) -> None:
    """--mount type=volume,volume-subpath=DIR (API 1.45): only DIR, read-only if asked;
    a subpath that is missing, absolute or a link out of the volume is refused."""
    vol = client.volumes.create("subpath-vol")
    try:
        setup = "mkdir -p /v/sub && echo hi > /v/sub/f && ln -s /etc /v/out"
        client.containers.run("busybox", ["sh", "-c", setup], volumes=["subpath-vol:/v"],
                              remove=True)

        def sub(path: str) -> docker.types.Mount:
            return docker.types.Mount("/m", "subpath-vol", type="volume", read_only=True,
                                      subpath=path)

        out = client.containers.run("busybox", ["sh", "-c", "ls /m; touch /m/x || echo ro"],
                                    mounts=[sub("sub")], remove=True)
        assert out == b"f\nro\n"
        with pytest.raises(docker.errors.APIError, match="subpath must be a relative path"):
            client.containers.create("busybox", "true", mounts=[sub("../x")])
        for bad in ("missing", "out"):
            c = client.containers.create("busybox", "true", mounts=[sub(bad)])
            try:
                with pytest.raises(docker.errors.APIError, match="cannot access path"):
                    c.start()
            finally:
                c.remove()
    finally:
        vol.remove()


def test_log_driver_none_keeps_nothing(client: docker.DockerClient, busybox: str) -> None:
    out = client.containers.run("busybox", "echo hello", log_config={"type": "none"},
                                remove=True)
    assert out is None  # docker-py reads no logs of a none driver
    c = client.containers.run("busybox", "echo hello", detach=True,
                              log_config={"type": "none"})
    try:
        c.wait()
        with pytest.raises(docker.errors.APIError,
                           match="configured logging driver does not support reading"):
            c.logs()
    finally:
        c.remove()
