"""Networking end to end: bridge addresses, published ports, user networks, modes."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 10) -> bytes:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.read()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def test_container_gets_an_address_on_the_default_bridge(client: docker.DockerClient,
                                                         busybox: str) -> None:
    c = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        c.reload()
        settings = c.attrs["NetworkSettings"]
        assert settings["IPAddress"]
        assert settings["Networks"]["bridge"]["Gateway"]
        assert settings["MacAddress"].startswith("02:42:")
        out = c.exec_run(["ip", "-o", "-4", "addr", "show", "eth0"]).output.decode()
        assert settings["IPAddress"] in out
    finally:
        c.remove(force=True)


def test_published_port_answers_on_loopback(daemon: Daemon, client: docker.DockerClient,
                                            busybox: str, tmp_path) -> None:
    port = free_port()
    c = client.containers.run(
        "busybox", ["sh", "-c", ("mkdir -p /www && echo hello-web > /www/index.html && "
                     "httpd -f -p 80 -h /www")],
        detach=True, ports={"80/tcp": ("127.0.0.1", port)})
    try:
        assert wait_http(f"http://127.0.0.1:{port}/") == b"hello-web\n"
        assert daemon.cli("port", c.id).stdout.strip() == f"80/tcp -> 127.0.0.1:{port}"
    finally:
        c.remove(force=True)


def test_port_conflict_is_refused(client: docker.DockerClient, busybox: str) -> None:
    port = free_port()
    c = client.containers.run("busybox", ["sleep", "300"], detach=True,
                              ports={"80/tcp": port})
    try:
        with pytest.raises(docker.errors.APIError) as err:
            client.containers.run("busybox", ["sleep", "300"], detach=True,
                                  ports={"80/tcp": port}, name="second")
        assert "port is already allocated" in str(err.value)
    finally:
        c.remove(force=True)
        for other in client.containers.list(all=True, filters={"name": "second"}):
            other.remove(force=True)


def test_network_none_has_only_loopback(client: docker.DockerClient, busybox: str) -> None:
    out = client.containers.run("busybox", ["ip", "-o", "link"], network_mode="none",
                                remove=True).decode()
    assert [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]


def test_network_host_sees_host_interfaces(client: docker.DockerClient, busybox: str) -> None:
    out = client.containers.run("busybox", ["ip", "-o", "link"], network_mode="host",
                                remove=True).decode()
    host = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                          check=True).stdout
    assert len(out.splitlines()) == len(host.splitlines())


def test_user_network_lifecycle_and_isolation(daemon: Daemon, client: docker.DockerClient,
                                              busybox: str) -> None:
    net = client.networks.create("e2enet", driver="bridge", labels={"t": "1"})
    other = client.networks.create("e2eother")
    try:
        assert client.networks.list(names=["e2enet"])[0].id == net.id
        with pytest.raises(docker.errors.APIError) as err:
            client.networks.create("e2enet")
        assert err.value.status_code == 409
        a = client.containers.run("busybox", ["sleep", "300"], detach=True, network="e2enet",
                                  name="peer-a")
        b = client.containers.run("busybox", ["sleep", "300"], detach=True, network="e2enet")
        far = client.containers.run("busybox", ["sleep", "300"], detach=True,
                                    network="e2eother")
        try:
            a.reload()
            ip_a = a.attrs["NetworkSettings"]["Networks"]["e2enet"]["IPAddress"]
            assert b.exec_run(["ping", "-c1", "-W2", ip_a]).exit_code == 0
            assert far.exec_run(["ping", "-c1", "-W1", ip_a]).exit_code != 0
            net.reload()
            assert a.id in net.attrs["Containers"]
            status, _, _body = daemon.request("DELETE", f"/networks/{net.id}")
            assert status == 403 or status == 409
        finally:
            for c in (a, b, far):
                c.remove(force=True)
    finally:
        net.remove()
        other.remove()
    assert not client.networks.list(names=["e2enet"])


def test_predefined_networks_are_listed_and_protected(daemon: Daemon) -> None:
    names = daemon.cli("network", "ls", "--format", "{{.Name}}").stdout.split()
    assert {"bridge", "host", "none"} <= set(names)
    out = daemon.cli("network", "rm", "bridge", check=False)
    assert out.returncode != 0
    assert "pre-defined network" in out.stderr


def test_network_inspect_unknown_is_404(daemon: Daemon) -> None:
    status, _, body = daemon.request("GET", "/networks/nosuchnet")
    assert status == 404
    assert "not found" in json.loads(body)["message"]


def test_containers_on_a_user_network_resolve_each_other_by_name(
        client: docker.DockerClient, busybox: str) -> None:
    net = client.networks.create("e2edns")
    try:
        web = client.containers.run(
            "busybox", ["sh", "-c", ("mkdir -p /www && echo from-web > /www/index.html && "
                         "httpd -f -p 80 -h /www")],
            detach=True, network="e2edns", name="web")
        try:
            probe = client.containers.run(
                "busybox", ["sh", "-c", ("for i in 1 2 3 4 5 6 7 8 9 10; do "
                             "wget -qO- http://web/ && exit 0; sleep 0.3; done; exit 1")],
                network="e2edns", detach=True)
            try:
                assert probe.wait(timeout=30)["StatusCode"] == 0
                assert probe.logs(stdout=True, stderr=False) == b"from-web\n", \
                    probe.logs(stdout=True, stderr=True)
            finally:
                probe.remove(force=True)
            ping = client.containers.run("busybox", ["ping", "-c1", "-W2", "web"],
                                         network="e2edns", detach=True)
            try:
                assert ping.wait(timeout=30)["StatusCode"] == 0
                assert b"1 packets received" in ping.logs()
            finally:
                ping.remove(force=True)
        finally:
            web.remove(force=True)
    finally:
        net.remove()


def test_dns_options_extra_hosts_and_domainname(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "--dns", "10.1.2.3", "--dns-search", "corp.example",
                     "--dns-option", "ndots:2", "--add-host", "db.local:10.9.8.7",
                     "--hostname", "box", "--domainname", "example.org", "busybox", "sh", "-c",
                     "cat /etc/resolv.conf; grep db.local /etc/hosts; hostname; "
                     "grep box /etc/hosts").stdout
    assert "nameserver 10.1.2.3" in out
    assert "search corp.example" in out
    assert "options ndots:2" in out
    assert "10.9.8.7\tdb.local" in out
    assert "\tbox.example.org box" in out


def test_container_network_mode_shares_the_namespace(client: docker.DockerClient,
                                                     busybox: str) -> None:
    first = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        first.reload()
        ip = first.attrs["NetworkSettings"]["IPAddress"]
        out = client.containers.run("busybox", ["ip", "-o", "-4", "addr"],
                                    network_mode=f"container:{first.id}", remove=True)
        assert ip in out.decode()
    finally:
        first.remove(force=True)


def test_connect_a_running_container_to_a_second_network(client: docker.DockerClient,
                                                          busybox: str) -> None:
    net = client.networks.create("e2esecond")
    c = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        net.connect(c, aliases=["second-alias"])
        c.reload()
        assert set(c.attrs["NetworkSettings"]["Networks"]) == {"bridge", "e2esecond"}
        links = c.exec_run(["ip", "-o", "link"]).output.decode()
        assert "eth1" in links
        net.disconnect(c)
        c.reload()
        assert set(c.attrs["NetworkSettings"]["Networks"]) == {"bridge"}
    finally:
        c.remove(force=True)
        net.remove()
