"""The system endpoints through docker-py, the docker CLI and raw HTTP."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_docker_py_version_info_ping(client: docker.DockerClient) -> None:
    assert client.ping() is True
    version = client.version()
    assert version["ApiVersion"] == "1.50"
    assert version["Os"] == "linux"
    info = client.info()
    assert info["NCPU"] >= 1
    assert info["MemTotal"] > 0
    assert info["OSType"] == "linux"
    assert info["Driver"] == "overlay2"
    assert info["CgroupVersion"] in ("1", "2")


def test_docker_cli_version_and_info_have_a_server_section(daemon: Daemon) -> None:
    out = daemon.cli("version")
    assert "Server: pydocker" in out.stdout
    assert "API version:      1.50" in out.stdout
    assert "WARNING" not in out.stderr
    out = daemon.cli("info")
    assert "Server Version: 0.1.0" in out.stdout
    assert "Storage Driver: overlay2" in out.stdout
    assert "ERROR" not in out.stderr


@pytest.mark.parametrize("prefix", ["", "/v1.24", "/v1.44", "/v1.50"])
def test_ping_answers_on_every_supported_prefix(daemon: Daemon, prefix: str) -> None:
    status, headers, body = daemon.request("GET", f"{prefix}/_ping")
    assert (status, body) == (200, b"OK")
    assert headers["Api-Version"] == "1.50"


def test_future_version_is_refused(daemon: Daemon) -> None:
    status, _, body = daemon.request("GET", "/v1.51/_ping")
    assert status == 400
    assert "too new" in json.loads(body)["message"]


def test_events_stream_reaches_docker_py(daemon: Daemon, client: docker.DockerClient) -> None:
    since = time.time() - 1
    # Publish something observable of its own: the daemon's start event has left the
    # shared daemon's bounded history by the time the whole suite gets here.
    client.volumes.create("events-reach-docker-py").remove()
    stream = client.events(decode=True, since=since, until=time.time() + 1)
    got = list(stream)
    assert any(e["Type"] == "volume" and e["Action"] == "create"
               and e["Actor"]["ID"] == "events-reach-docker-py" for e in got)


def test_events_filter_by_type_excludes_others(client: docker.DockerClient) -> None:
    now = time.time()
    got = list(client.events(decode=True, since=now - 3600, until=now + 0.5,
                             filters={"type": "container"}))
    assert all(e["Type"] == "container" for e in got)


def test_events_follow_until_closed(client: docker.DockerClient) -> None:
    stream = client.events(decode=True)
    closer = threading.Timer(0.5, stream.close)
    closer.start()
    # Closing the response under the reader ends the iteration, with or without an error.
    with contextlib.suppress(Exception):
        list(stream)
    closer.cancel()


def test_bad_filters_are_400(daemon: Daemon) -> None:
    status, _, body = daemon.request("GET", "/events?filters=%7Bnot-json&until=1")
    assert status == 400
    assert "invalid filter" in json.loads(body)["message"]


def test_system_df_shape(client: docker.DockerClient) -> None:
    df = client.df()
    for key in ("LayersSize", "Images", "Containers", "Volumes"):
        assert key in df
