"""Every route that takes a body (and a few query parameters), fed what no client should
send: wrong types, nulls, numbers beyond int64, 1000 levels of nesting, garbage bytes and
invalid UTF-8. Each must be a 4xx with a JSON ``message`` (never a 500, never a dropped
connection), and none may leave anything behind: no container, network, volume, image or
exec appears."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

HUGE = 2 ** 70  # beyond int64 and uint64
DEEP = b'{"a":' * 1000 + b"1" + b"}" * 1000
DEEP_ARRAY = b"[" * 1000 + b"]" * 1000
GARBAGE = bytes(range(256)) * 4
BAD_UTF8 = b'{"Name": "\xff\xfe\xfd", "Image": "\xc3\x28"}'

# Shapes that are wrong for every body: not JSON, too deep, not an object.
ANY_BODY: list[Any] = [DEEP, DEEP_ARRAY, GARBAGE, BAD_UTF8, b"{", b'"just a string"',
                       b"[1, 2]", b"12", b"true"]

# Per route: bodies of the right shape with a wrong field (type, null, size).
BODIES: dict[str, list[Any]] = {
    "POST /containers/create": [
        {"Image": 5}, {"Image": None}, {"Image": ["busybox"]},
        {"Image": "busybox", "Cmd": {"a": 1}}, {"Image": "busybox", "Env": "A=1"},
        {"Image": "busybox", "Env": ["A=1", None]}, {"Image": "busybox", "Labels": {"a": 1}},
        {"Image": "busybox", "Tty": "yes"}, {"Image": "busybox", "StopTimeout": HUGE},
        {"Image": "busybox", "HostConfig": "x"}, {"Image": "busybox", "HostConfig": []},
        {"Image": "busybox", "HostConfig": {"Memory": "1g"}},
        {"Image": "busybox", "HostConfig": {"Memory": HUGE}},
        {"Image": "busybox", "HostConfig": {"Memory": -HUGE}},
        {"Image": "busybox", "HostConfig": {"Memory": 1.5}},
        {"Image": "busybox", "HostConfig": {"CpuShares": True}},
        {"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": "8080"}}},
        {"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": 80}]}}},
        {"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}}},
        {"Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "8-x"}]}}},
        {"Image": "busybox", "HostConfig": {"PortBindings": {"x/tcp": [{"HostPort": "80"}]}}},
        {"Image": "busybox", "HostConfig": {"PortBindings": {"70000/udp": None}}},
        {"Image": "busybox", "HostConfig": {"Binds": [None]}},
        {"Image": "busybox", "HostConfig": {"Mounts": [{"Type": 1}]}},
        {"Image": "busybox", "HostConfig": {"Ulimits": [{"Name": "nofile", "Soft": HUGE}]}},
        {"Image": "busybox", "HostConfig": {"RestartPolicy": {"MaximumRetryCount": "3"}}},
        {"Image": "busybox", "NetworkingConfig": {"EndpointsConfig": {"bridge": 1}}},
        {"Image": "busybox",
         "NetworkingConfig": {"EndpointsConfig": {"bridge": {"Aliases": "a"}}}},
    ],
    "POST /containers/{id}/update": [
        {"Memory": "1g"}, {"Memory": HUGE}, {"CpuShares": None, "NanoCpus": "1"},
        {"RestartPolicy": "always"}, {"PidsLimit": 1e400},
    ],
    "POST /commit?container={id}": [
        {"Cmd": 5}, {"Env": [1]}, {"Labels": []}, {"ExposedPorts": {"80/tcp": 1}},
    ],
    "POST /containers/{id}/exec": [
        {"Cmd": "true"}, {"Cmd": None}, {"Cmd": [1]}, {"Cmd": ["true"], "Tty": "no"},
        {"Cmd": ["true"], "ConsoleSize": [HUGE, 1]}, {"Cmd": ["true"], "Env": {"A": "1"}},
    ],
    "POST /exec/{exec}/start": [
        {"Detach": "yes"}, {"Tty": 1}, {"ConsoleSize": [HUGE, HUGE]}, {"ConsoleSize": [-1, 1]},
        {"ConsoleSize": "24x80"},
    ],
    "POST /networks/create": [
        {"Name": None}, {"Name": 5}, {"Name": "fuzz-net", "Internal": "yes"},
        {"Name": "fuzz-net", "Labels": {"a": None}},
        {"Name": "fuzz-net", "IPAM": {"Config": {"Subnet": "10.99.0.0/24"}}},
        {"Name": "fuzz-net", "IPAM": {"Config": [{"Subnet": 10}]}},
        {"Name": "fuzz-net", "Options": {"mtu": 1500}},
    ],
    "POST /networks/bridge/connect": [
        {"Container": None}, {"Container": 5}, {"Container": "{id}", "EndpointConfig": 1},
        {"Container": "{id}", "EndpointConfig": {"Aliases": "x"}},
        {"Container": "{id}", "EndpointConfig": {"GwPriority": HUGE}},
    ],
    "POST /networks/bridge/disconnect": [
        {"Container": 5}, {"Container": "{id}", "Force": "true"},
    ],
    "POST /volumes/create": [
        {"Name": 5}, {"Name": ["v"]}, {"Name": "fuzz-vol", "Labels": {"a": 1}},
        {"Name": "fuzz-vol", "DriverOpts": []}, {"Name": "fuzz-vol", "Driver": None,
                                                 "Labels": {"a": None}},
    ],
}

# Bodies that are not JSON at all: tars and the deprecated start config.
RAW_ROUTES = ["POST /images/load", "POST /images/create?fromSrc=-&repo=fuzz-import",
              "PUT /containers/{id}/archive?path=/tmp", "POST /containers/{id}/start"]

QUERIES = [
    "GET /containers/json?limit=abc", "GET /containers/json?filters=%7Bgarbage",
    "GET /containers/json?filters=%5B1%5D", f"GET /containers/json?limit={HUGE}0",
    # (tail=abc is not here: dockerd reads a tail that is not a number as "all")
    "GET /containers/{id}/logs?stdout=1&since=x",
    "POST /containers/{id}/stop?t=abc", "POST /containers/{id}/resize?h=abc&w=1",
    "GET /events?since=yesterday", "GET /events?filters=%7B%22nope%22%3A%5B%22x%22%5D%7D",
    "GET /images/json?filters=%7B", "GET /networks?filters=%7B%22bogus%22%3A%5B%5D%7D",
    "GET /volumes?filters=%7B", "POST /containers/create?name=%2Fbad%2Fname",
    "POST /exec/{exec}/resize?h=x&w=1", "GET /containers/{id}/archive?path=",
    # Names that would be paths: never a 204, even with force.
    "DELETE /volumes/..%2F..%2Fetc?force=1", "DELETE /volumes/a%2F..%2Fb?force=1",
    "DELETE /volumes/%2e%2e?force=1", "GET /volumes/..%2F..",
    # ps arguments ps refuses (found by schemathesis), and one shlex cannot split.
    "GET /containers/{id}/top?ps_args=%2B%0B%2F", "GET /containers/{id}/top?ps_args=%22",
    "GET /containers/{id}/top?ps_args=-o%20comm",
    "GET /containers/{id}/archive?path=%00%C2%9A", "GET /containers/{id}/archive?path=/a%00b",
    "PUT /containers/{id}/archive?path=/tmp%00",
]


@pytest.fixture(scope="module")
def target(daemon: Daemon, busybox: str) -> Iterator[dict[str, str]]:
    """A running container and a created, never started exec on it."""
    client = daemon.client()
    c = client.containers.run("busybox", ["sleep", "600"], detach=True, name="fuzz-target")
    exec_id = client.api.exec_create(c.id, ["true"])["Id"]
    try:
        yield {"id": c.id, "exec": exec_id}
    finally:
        c.remove(force=True)
        client.close()


def snapshot(client: docker.DockerClient, container_id: str) -> dict[str, set[str]]:
    api = client.api
    return {
        "containers": {c["Id"] for c in api.containers(all=True)},
        "networks": {n["Id"] for n in api.networks()},
        "volumes": {v["Name"] for v in api.volumes()["Volumes"] or []},
        "images": {i["Id"] for i in api.images(all=True)},
        "execs": set(api.inspect_container(container_id)["ExecIDs"] or []),
    }


def cases(target: dict[str, str]) -> Iterator[tuple[str, str, bytes]]:
    for route, bodies in BODIES.items():
        method, path = route.split(" ", 1)
        for body in [*bodies, *ANY_BODY]:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            yield method, path.format(**target), raw.replace(b"{id}", target["id"].encode())
    for route in RAW_ROUTES:
        method, path = route.split(" ", 1)
        for raw in (GARBAGE, BAD_UTF8, DEEP):
            yield method, path.format(**target), raw
    for route in QUERIES:
        method, path = route.split(" ", 1)
        yield method, path.format(**target), b""


def test_bad_bodies_and_queries_are_4xx_and_create_nothing(
        daemon: Daemon, client: docker.DockerClient, target: dict[str, str]) -> None:
    before = snapshot(client, target["id"])
    failures = []
    for method, path, raw in cases(target):
        status, _, answer = daemon.request(method, path, raw,
                                           {"Content-Type": "application/json"})
        if path.startswith("/images/load"):  # dockerd: 200 with the error in the stream
            if status != 200 or b'"errorDetail"' not in answer:
                failures.append(f"{method} {path} {raw[:60]!r}: {status} {answer[:200]!r}")
            continue
        try:
            message = json.loads(answer)["message"]
        except (ValueError, KeyError, TypeError):
            message = None
        if not 400 <= status < 500 or not message:
            failures.append(f"{method} {path} {raw[:60]!r}: {status} {answer[:200]!r}")
    assert not failures, "\n".join(failures)
    assert snapshot(client, target["id"]) == before
    assert client.containers.get(target["id"]).status == "running"


def test_a_wrong_type_names_the_field_as_dockerd_does(daemon: Daemon, busybox: str) -> None:
    status, _, answer = daemon.request("POST", "/containers/create", {
        "Image": "busybox", "HostConfig": {"Memory": "1g"}})
    assert status == 400
    assert json.loads(answer)["message"] == (
        "json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64")


@pytest.mark.parametrize(("binding", "bad"), [("99999", "99999"), ("abc", "abc")])
def test_a_bad_host_port_is_refused_in_dockerds_words(daemon: Daemon, busybox: str,
                                                      binding: str, bad: str) -> None:
    status, _, answer = daemon.request("POST", "/containers/create", {
        "Image": "busybox", "HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": binding}]}}})
    assert (status, json.loads(answer)["message"]) == (
        400, f'invalid port specification: "{bad}"')


def test_an_oversize_json_body_is_413_before_it_is_read(daemon: Daemon) -> None:
    """A 1 GiB Content-Length is refused from the header: the daemon never waits for
    (or buffers) the body; a chunked body is cut off once it passes the bound."""
    import socket
    import time
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(daemon.socket))
    try:
        started = time.monotonic()
        sock.sendall(b"POST /containers/create HTTP/1.1\r\nHost: d\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
                     + b"{" * 4096)
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert time.monotonic() - started < 5
    finally:
        sock.close()
    status, _, answer = daemon.request("POST", "/networks/create",
                                       b"[" * (20 << 20), {"Content-Type": "application/json"})
    assert status == 413 and json.loads(answer)["message"]
