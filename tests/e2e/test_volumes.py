"""Volumes and mounts through the docker CLI and docker-py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_named_volume_outlives_its_container(daemon: Daemon, busybox: str) -> None:
    daemon.cli("volume", "create", "--label", "k=v", "keep")
    try:
        daemon.cli("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c",
                   "echo persisted > /data/f")
        out = daemon.cli("run", "--rm", "-v", "keep:/data:ro", "busybox", "cat", "/data/f")
        assert out.stdout == "persisted\n"
        listed = daemon.cli("volume", "ls", "--filter", "label=k=v", "-q").stdout.split()
        assert listed == ["keep"]
        info = json.loads(daemon.cli("volume", "inspect", "keep").stdout)[0]
        assert info["Driver"] == "local" and info["Labels"] == {"k": "v"}
    finally:
        daemon.cli("volume", "rm", "keep")


def test_read_only_bind_blocks_writes(daemon: Daemon, busybox: str, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "hello").write_text("host\n")
    out = daemon.cli("run", "--rm", "-v", f"{tmp_path}/x:/x:ro", "busybox", "sh", "-c",
                     "cat /x/hello; touch /x/new", check=False)
    assert out.stdout == "host\n"
    assert out.returncode != 0
    assert "Read-only file system" in out.stderr
    assert not (tmp_path / "x" / "new").exists()


def test_tmpfs_mount(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "--tmpfs", "/run:size=1m", "busybox", "sh", "-c",
                     "grep ' /run ' /proc/mounts")
    assert out.stdout.split()[2] == "tmpfs"
    assert "size=1024k" in out.stdout


def test_image_volume_gets_an_anonymous_prefilled_volume(daemon: Daemon, busybox_tar: bytes,
                                                         client: docker.DockerClient,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "rootfs.tar"
    path.write_bytes(busybox_tar)
    daemon.cli("import", "-c", "VOLUME /etc", "-c", 'CMD ["sh"]', str(path), "withvol")
    try:
        cid = daemon.cli("create", "withvol", "cat", "/etc/passwd").stdout.strip()
        mounts = client.api.inspect_container(cid)["Mounts"]
        assert mounts[0]["Type"] == "volume" and mounts[0]["Destination"] == "/etc"
        assert daemon.cli("start", "-a", cid).stdout.startswith("root:x:0:0")
        name = mounts[0]["Name"]
        daemon.cli("rm", "-v", cid)
        assert name not in daemon.cli("volume", "ls", "-q").stdout.split()
    finally:
        daemon.cli("rmi", "withvol")


def test_volume_in_use_cannot_be_removed(daemon: Daemon, client: docker.DockerClient,
                                         busybox: str) -> None:
    c = client.containers.create("busybox", "true", volumes={"busy": {"bind": "/b"}})
    try:
        with pytest.raises(docker.errors.APIError) as err:
            client.volumes.get("busy").remove()
        assert err.value.status_code == 409
        assert "volume is in use" in str(err.value)
    finally:
        c.remove()
    client.volumes.get("busy").remove()


def test_bad_volume_input(daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    with pytest.raises(docker.errors.APIError) as err:
        client.volumes.create("bad/name")
    assert err.value.status_code == 400
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("nosuchvolume")
    status, _, body = daemon.request("POST", "/containers/create", {
        "Image": "busybox", "HostConfig": {"Mounts": [
            {"Type": "bind", "Source": "/nonexistent/path", "Target": "/x"}]}})
    assert status == 400
    assert "bind source path does not exist: /nonexistent/path" in json.loads(body)["message"]


def test_prune_removes_only_anonymous_unused(daemon: Daemon, client: docker.DockerClient,
                                             busybox: str) -> None:
    client.volumes.create("named-stays")
    c = client.containers.create("busybox", "true", volumes=["/anon"])
    anon = client.api.inspect_container(c.id)["Mounts"][0]["Name"]
    c.remove()
    result = client.volumes.prune()
    assert anon in (result["VolumesDeleted"] or [])
    assert client.volumes.get("named-stays")
    client.volumes.get("named-stays").remove()
    assert os.path.isdir(daemon.data_root / "volumes")
