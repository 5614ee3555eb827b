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


# --- the volume API through the docker CLI, docker-py and raw HTTP ------------------------


def _container_service_mounts_volumes() -> bool:
    """True once the container lifecycle calls VolumeService.mount/unmount at start/stop."""
    import inspect as pyinspect

    from pydocker.engine.containers import sandbox as service
    return "volumes.mount(" in pyinspect.getsource(service)


def test_cli_volume_lifecycle(daemon: Daemon) -> None:
    daemon.cli("volume", "create", "--label", "team=a", "--label", "tier", "cli-one")
    daemon.cli("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
               "--opt", "o=size=1m", "cli-two")
    try:
        again = daemon.cli("volume", "create", "cli-one").stdout.strip()
        assert again == "cli-one"  # an existing name answers with the existing volume
        info = json.loads(daemon.cli("volume", "inspect", "cli-one", "cli-two").stdout)
        assert [v["Name"] for v in info] == ["cli-one", "cli-two"]
        assert info[0]["Labels"] == {"team": "a", "tier": ""}
        assert info[0]["Mountpoint"] == str(daemon.data_root / "volumes" / "cli-one" / "_data")
        assert info[0]["Scope"] == "local" and info[0]["CreatedAt"]
        assert info[1]["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}
        fmt = daemon.cli("volume", "inspect", "-f", "{{.Driver}} {{.Name}}", "cli-one")
        assert fmt.stdout == "local cli-one\n"

        def ls(*filters: str) -> list[str]:
            args = [a for f in filters for a in ("--filter", f)]
            names = daemon.cli("volume", "ls", "-q", *args).stdout.split()
            return [n for n in names if n.startswith("cli-")]

        assert ls() == ["cli-one", "cli-two"]
        assert ls("name=cli-t") == ["cli-two"]
        assert ls("label=team=a") == ["cli-one"]
        assert ls("label=tier") == ["cli-one"]
        assert ls("driver=local", "dangling=true") == ["cli-one", "cli-two"]
        assert ls("dangling=false") == []
        bad = daemon.cli("volume", "ls", "--filter", "dangling=maybe", check=False)
        assert bad.returncode != 0 and "invalid filter 'dangling=[maybe]'" in bad.stderr
        table = daemon.cli("volume", "ls", "--filter", "name=cli-one").stdout.splitlines()
        assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
        assert table[1].split() == ["local", "cli-one"]
    finally:
        daemon.cli("volume", "rm", "cli-one", "cli-two")
    missing = daemon.cli("volume", "inspect", "cli-one", check=False)
    assert missing.returncode != 0 and "get cli-one: no such volume" in missing.stderr
    daemon.cli("volume", "rm", "-f", "cli-one")  # force: a missing volume is no error


def test_cli_refuses_bad_input(daemon: Daemon, busybox: str) -> None:
    bad = daemon.cli("volume", "create", "bad/name", check=False)
    assert bad.returncode != 0
    assert ('create bad/name: "bad/name" includes invalid characters for a local volume '
            'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a '
            "host directory, use absolute path") in bad.stderr
    opt = daemon.cli("volume", "create", "--opt", "colour=red", "optvol", check=False)
    assert opt.returncode != 0 and 'create optvol: invalid option: "colour"' in opt.stderr
    dup = daemon.cli("create", "-v", "a1:/data", "-v", "/tmp:/data", "busybox", check=False)
    assert dup.returncode != 0 and "Duplicate mount point: /data" in dup.stderr
    mode = daemon.cli("create", "-v", "a1:/data:bogus", "busybox", check=False)
    assert mode.returncode != 0 and "invalid mode: bogus" in mode.stderr
    rel = daemon.cli("create", "-v", "rel/path:/data", "busybox", check=False)
    assert rel.returncode != 0 and "includes invalid characters" in rel.stderr
    assert "optvol" not in daemon.cli("volume", "ls", "-q").stdout.split()
    assert "a1" not in daemon.cli("volume", "ls", "-q").stdout.split()


def test_cli_in_use_and_prune(daemon: Daemon, busybox: str) -> None:
    daemon.cli("volume", "create", "prune-named")
    daemon.cli("volume", "create", "--label", "gc=yes", "prune-labelled")
    cid = daemon.cli("create", "-v", "prune-held:/held", "-v", "/anon-held", "busybox",
                     "true").stdout.strip()
    try:
        busy = daemon.cli("volume", "rm", "prune-held", check=False)
        assert busy.returncode != 0
        assert f"remove prune-held: volume is in use - [{cid}]" in busy.stderr
        anon = daemon.cli("create", "-v", "/anon-free", "busybox", "true").stdout.strip()
        free = json.loads(daemon.cli("inspect", anon).stdout)[0]["Mounts"][0]["Name"]
        daemon.cli("rm", anon)  # without -v: the anonymous volume stays, dangling
        assert free in daemon.cli("volume", "ls", "-q", "-f", "dangling=true").stdout.split()
        out = daemon.cli("volume", "prune", "-f").stdout
        assert free in out and "prune-named" not in out and "prune-held" not in out
        out = daemon.cli("volume", "prune", "-f", "--all", "--filter", "label=gc=yes").stdout
        assert "prune-labelled" in out and "prune-named" not in out
        left = daemon.cli("volume", "ls", "-q").stdout.split()
        assert "prune-named" in left and "prune-held" in left and free not in left
    finally:
        daemon.cli("rm", "-v", cid)
        daemon.cli("volume", "rm", "-f", "prune-named", "prune-labelled", "prune-held")


def test_docker_py_volumes(daemon: Daemon, client: docker.DockerClient) -> None:
    vol = client.volumes.create("py-vol", labels={"origin": "py"})
    try:
        assert vol.attrs["Labels"] == {"origin": "py"} and vol.attrs["Driver"] == "local"
        assert client.volumes.get("py-vol").id == "py-vol"
        listed = client.volumes.list(filters={"label": "origin=py"})
        assert [v.name for v in listed] == ["py-vol"]
        raw = client.api.volumes(filters={"name": ["py-"]})
        assert [v["Name"] for v in raw["Volumes"]] == ["py-vol"] and raw["Warnings"] == []
        df = client.df()
        [entry] = [v for v in df["Volumes"] if v["Name"] == "py-vol"]
        assert entry["UsageData"] == {"Size": 0, "RefCount": 0}
        with pytest.raises(docker.errors.NotFound) as err:
            client.volumes.get("py-missing")
        assert "get py-missing: no such volume" in str(err.value)
    finally:
        vol.remove()
    assert not (daemon.data_root / "volumes" / "py-vol").exists()


def test_prune_before_api_1_42_takes_named_volumes(daemon: Daemon) -> None:
    status, _, _ = daemon.request("POST", "/volumes/create", {"Name": "old-api-vol"})
    assert status == 201
    status, _, body = daemon.request("POST", "/v1.41/volumes/prune")
    assert status == 200 and "old-api-vol" in json.loads(body)["VolumesDeleted"]
    status, _, body = daemon.request("GET", "/volumes/old-api-vol")
    assert status == 404
    assert json.loads(body) == {"message": "get old-api-vol: no such volume"}


def test_volume_events(daemon: Daemon, client: docker.DockerClient) -> None:
    import time
    since = time.time() - 1
    client.volumes.create("evt-vol").remove()
    events = client.events(since=since, until=time.time() + 1, decode=True,
                           filters={"type": "volume", "volume": "evt-vol"})
    assert [e["Action"] for e in events] == ["create", "destroy"]


def test_bind_host_dir_is_created_and_mounts_api_options(daemon: Daemon, busybox: str,
                                                         tmp_path: Path) -> None:
    missing = tmp_path / "made" / "by-binds"
    out = daemon.cli("run", "--rm", "-v", f"{missing}:/m", "busybox", "sh", "-c",
                     "echo hi > /m/f")
    assert out.returncode == 0 and (missing / "f").read_text() == "hi\n"
    (tmp_path / "ro").mkdir()
    out = daemon.cli("run", "--rm", "--mount", f"type=bind,src={tmp_path}/ro,dst=/ro,readonly",
                     "--mount", "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770",
                     "busybox", "sh", "-c",
                     "touch /ro/x 2>&1; grep ' /t ' /proc/mounts; stat -c %a /t", check=False)
    assert "Read-only file system" in out.stdout
    assert "size=2048k" in out.stdout and "mode=1770" in out.stdout
    assert out.stdout.strip().endswith("1770")
    assert not (tmp_path / "ro" / "x").exists()
    out = daemon.cli("run", "--rm", "--tmpfs", "/run:exec,size=1m", "busybox", "sh", "-c",
                     "grep ' /run ' /proc/mounts")
    options = out.stdout.split()[3].split(",")
    assert "noexec" not in options and "nosuid" in options and "nodev" in options


def test_volumes_from_shares_data(daemon: Daemon, client: docker.DockerClient,
                                  busybox: str) -> None:
    src = client.containers.create("busybox", "true", name="vf-source", volumes=["/shared"])
    try:
        out = daemon.cli("run", "--rm", "--volumes-from", "vf-source", "busybox", "sh", "-c",
                         "echo from-second > /shared/f; cat /shared/f")
        assert out.stdout == "from-second\n"
        ro = daemon.cli("run", "--rm", "--volumes-from", "vf-source:ro", "busybox", "sh",
                        "-c", "cat /shared/f; touch /shared/g", check=False)
        assert ro.stdout == "from-second\n" and "Read-only file system" in ro.stderr
        name = client.api.inspect_container(src.id)["Mounts"][0]["Name"]
        assert (daemon.data_root / "volumes" / name / "_data" / "f").exists()
    finally:
        src.remove(v=True)


@pytest.mark.skipif(not _container_service_mounts_volumes(),
                    reason="container start/stop does not call VolumeService.mount/unmount "
                           "yet (the lead applies the engine/containers/service.py snippet)")
def test_tmpfs_volume_is_shared_and_unmounted(daemon: Daemon, busybox: str) -> None:
    daemon.cli("volume", "create", "--driver", "local", "--opt", "type=tmpfs",
               "--opt", "device=tmpfs", "--opt", "o=size=2m", "tmpfs-vol")
    data = daemon.data_root / "volumes" / "tmpfs-vol" / "_data"
    first = daemon.cli("run", "-d", "-v", "tmpfs-vol:/v", "busybox", "sh", "-c",
                       "echo shared > /v/f; sleep 60").stdout.strip()
    try:
        out = daemon.cli("run", "--rm", "-v", "tmpfs-vol:/v", "busybox", "sh", "-c",
                         "sleep 0.2; cat /v/f; grep ' /v ' /proc/mounts")
        assert out.stdout.startswith("shared\n") and " tmpfs " in out.stdout
        assert f" {data} " in Path("/proc/mounts").read_text()  # on the host while in use
    finally:
        daemon.cli("rm", "-f", first)
    assert f" {data} " not in Path("/proc/mounts").read_text()
    daemon.cli("volume", "rm", "tmpfs-vol")
