"""Differences from dockerd found by trying pydocker by hand (issue 15, part 3): each test
pins dockerd 20.10's answer, as seen on the same machine, through the docker CLI (or
docker-py where that is the client in question)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import docker
import pytest

from tests.e2e.harness import Daemon, detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_ps_name_filter_matches_the_name_with_its_slash(daemon: Daemon,
                                                        client: docker.DockerClient,
                                                        busybox: str) -> None:
    with detached(client, ["sleep", "60"], name="pydt-named"), \
            detached(client, ["sleep", "60"], name="pydt-named-too"):
        def names(pattern: str) -> list[str]:
            return daemon.cli("ps", "--filter", f"name={pattern}", "--format",
                              "{{.Names}}").stdout.split()

        assert names("^/pydt-named$") == ["pydt-named"]
        assert names("^pydt-named$") == ["pydt-named"]
        assert sorted(names("pydt-named")) == ["pydt-named", "pydt-named-too"]
        assert names("[") == []  # a pattern that does not compile matches nothing


@pytest.mark.parametrize("verb", [["kill"], ["stop", "-t", "1"], ["rm", "-f"]])
def test_a_paused_container_can_be_killed_stopped_and_removed(
        daemon: Daemon, client: docker.DockerClient, busybox: str, verb: list[str]) -> None:
    """A frozen process does not act on SIGKILL (cgroup v1's freezer): dockerd thaws the
    container after signalling it, so none of these hangs."""
    c = client.containers.run("busybox", ["sleep", "600"], detach=True)
    removed = verb[0] == "rm"
    try:
        c.pause()
        daemon.cli(*verb, c.id, timeout=30)
        if not removed:
            state = client.api.inspect_container(c.id)["State"]
            assert (state["Status"], state["Paused"], state["ExitCode"]) == \
                ("exited", False, 137)
    finally:
        if not removed:
            c.remove(force=True)
    assert daemon.cli("ps", "-aq", "--filter", f"id={c.id}").stdout == ""


def test_a_signal_other_than_the_stop_signal_stays_pending_while_paused(
        client: docker.DockerClient, busybox: str) -> None:
    c = client.containers.run("busybox", ["sleep", "600"], detach=True, stop_signal="SIGUSR2")
    try:
        c.pause()
        c.kill("SIGUSR1")  # neither SIGKILL nor its stop signal: it stays frozen
        assert client.api.inspect_container(c.id)["State"]["Paused"] is True
    finally:
        c.remove(force=True)


def test_network_none_has_loopback_up_with_its_address(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "--network", "none", "busybox", "ip", "-4", "-o",
                     "addr").stdout
    assert out.split()[:4] == ["1:", "lo", "inet", "127.0.0.1/8"]
    assert daemon.cli("run", "--rm", "--network", "none", "busybox", "ping", "-c1", "-W2",
                      "127.0.0.1").returncode == 0


def test_network_host_takes_the_hosts_hostname(daemon: Daemon, client: docker.DockerClient,
                                               busybox: str) -> None:
    host = os.uname().nodename
    assert daemon.cli("run", "--rm", "--network", "host", "busybox",
                      "hostname").stdout == f"{host}\n"
    c = client.containers.create("busybox", "true", network_mode="host")
    try:
        assert c.attrs["Config"]["Hostname"] == host
    finally:
        c.remove()
    # as with dockerd, -h still names it, and the host's name is left alone
    assert daemon.cli("run", "--rm", "--network", "host", "-h", "pydt-boxy", "busybox",
                      "hostname").stdout == "pydt-boxy\n"
    assert os.uname().nodename == host


def test_default_environment(daemon: Daemon, busybox: str) -> None:
    env = daemon.cli("run", "--rm", "-h", "pydt-env", "busybox", "env").stdout.split()
    assert sorted(env) == ["HOME=/root", "HOSTNAME=pydt-env",
                           "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    tty_env = daemon.cli("run", "--rm", "-t", "busybox", "env").stdout.split("\r\n")
    assert "TERM=xterm" in tty_env and "HOME=/root" in tty_env
    # HOME follows the user's passwd entry, "/" without one; one that is given stays
    for args, home in ((["-u", "www-data"], "/var/www"), (["-u", "4242"], "/"),
                       (["-u", "www-data", "-e", "HOME=/mine"], "/mine")):
        out = daemon.cli("run", "--rm", *args, "busybox", "sh", "-c", "echo $HOME").stdout
        assert out == f"{home}\n", args


def test_exec_gets_home_too(daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    with detached(client, ["sleep", "60"]) as c:
        assert "HOME=/root" in daemon.cli("exec", c.id, "env").stdout.split()
        out = daemon.cli("exec", "-u", "www-data", c.id, "sh", "-c", "echo $HOME").stdout
        assert out == "/var/www\n"


def test_supplementary_groups_from_the_image_and_group_add(daemon: Daemon, busybox: str
                                                           ) -> None:
    assert daemon.cli("run", "--rm", "busybox", "id").stdout == \
        "uid=0(root) gid=0(root) groups=0(root)\n"
    assert daemon.cli("run", "--rm", "--group-add", "33", "--group-add", "users", "busybox",
                      "id").stdout == \
        "uid=0(root) gid=0(root) groups=0(root),33(www-data),100(users)\n"
    assert daemon.cli("run", "--rm", "-u", "nobody", "--group-add", "100", "busybox",
                      "id").stdout == \
        "uid=65534(nobody) gid=65534(nogroup) groups=100(users),65534(nogroup)\n"


def test_an_empty_entrypoint_clears_the_images(daemon: Daemon, client: docker.DockerClient,
                                               busybox: str) -> None:
    c = client.containers.create("busybox", "true")
    try:
        c.commit("pydt-entry", "latest", changes=['ENTRYPOINT ["/bin/false"]'])
    finally:
        c.remove()
    try:
        assert daemon.cli("run", "--rm", "pydt-entry", "echo", "hi",
                          check=False).returncode == 1
        assert daemon.cli("run", "--rm", "--entrypoint", "", "pydt-entry", "echo",
                          "hi").stdout == "hi\n"
        made = daemon.cli("create", "--entrypoint", "", "pydt-entry", "echo", "hi").stdout
        try:
            config = client.api.inspect_container(made.strip())["Config"]
            assert (config["Entrypoint"], config["Cmd"]) == (None, ["echo", "hi"])
        finally:
            client.api.remove_container(made.strip())
    finally:
        client.images.remove("pydt-entry")


def test_run_i_passes_a_mebibyte_of_binary_stdin_byte_for_byte(daemon: Daemon,
                                                                busybox: str) -> None:
    """Piped stdin is data: ctrl-p ctrl-q, which random bytes hold somewhere, detaches
    only on a terminal."""
    data = os.urandom(1 << 20) + b"\x10\x11" + os.urandom(1000)
    out = subprocess.run(["docker", "-H", daemon.url, "run", "--rm", "-i", "busybox",
                          "sha256sum"], input=data, capture_output=True, timeout=60,
                         check=True, env={**os.environ, "DOCKER_CONFIG": str(daemon.base / "cli")})
    assert out.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    back = subprocess.run(["docker", "-H", daemon.url, "run", "--rm", "-i", "busybox", "cat"],
                          input=data, capture_output=True, timeout=60, check=True,
                          env={**os.environ, "DOCKER_CONFIG": str(daemon.base / "cli")})
    assert back.stdout == data


def test_host_config_is_what_the_client_sent(daemon: Daemon, client: docker.DockerClient,
                                             busybox: str) -> None:
    made = daemon.cli("create", "busybox", "true").stdout.strip()
    raw = client.api.create_container("busybox", "true")["Id"]  # no HostConfig at all
    try:
        for cid in (made, raw):
            assert client.api.inspect_container(cid)["HostConfig"]["NetworkMode"] == "default"
            listed = client.api.containers(all=True, filters={"id": cid})[0]
            assert listed["HostConfig"] == {"NetworkMode": "default"}
            assert list(client.api.inspect_container(cid)["NetworkSettings"]["Networks"]) == \
                ["bridge"]
    finally:
        client.api.remove_container(made)
        client.api.remove_container(raw)


def test_info_id_is_kept_across_restarts(fresh_daemon: Daemon) -> None:
    first = json.loads(fresh_daemon.request("GET", "/info")[2])["ID"]
    assert first and first == fresh_daemon.cli("info", "--format", "{{.ID}}").stdout.strip()
    assert (fresh_daemon.data_root / "engine-id").read_text().strip() == first
    fresh_daemon.stop()
    fresh_daemon.start()
    assert json.loads(fresh_daemon.request("GET", "/info")[2])["ID"] == first


def test_size_fills_list_inspect_and_df(daemon: Daemon, client: docker.DockerClient,
                                        busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", "head -c 5000 /dev/zero > /data"],
                              detach=True, name="pydt-sized")
    try:
        c.wait()
        image_size = client.api.inspect_image("busybox")["Size"]
        listed = client.api.containers(all=True, size=True, filters={"id": c.id})[0]
        inspected = json.loads(daemon.request("GET", f"/containers/{c.id}/json?size=1")[2])
        for shown in (listed, inspected):
            assert shown["SizeRw"] == 5000
            assert shown["SizeRootFs"] == 5000 + image_size
        assert "SizeRw" not in client.api.containers(all=True, filters={"id": c.id})[0]
        assert "5kB (virtual" in daemon.cli("ps", "-as", "--filter", f"id={c.id}",
                                            "--format", "{{.Size}}").stdout
        df = client.df()
        mine = next(x for x in df["Containers"] if x["Id"] == c.id)
        assert (mine["SizeRw"], mine["SizeRootFs"]) == (5000, 5000 + image_size)
        image = next(i for i in df["Images"] if i["Id"] == busybox)
        assert image["Containers"] >= 1 and image["SharedSize"] >= 0
        assert df["LayersSize"] >= image_size
    finally:
        c.remove()


def test_privileged_sees_the_hosts_devices(daemon: Daemon, busybox: str) -> None:
    host = sorted(p.name for p in Path("/dev").iterdir()
                  if p.is_char_device() and not p.is_symlink()
                  and p.name not in ("console", "ptmx"))
    seen = daemon.cli("run", "--rm", "--privileged", "busybox", "ls", "/dev").stdout.split()
    assert set(host) <= set(seen)
    plain = daemon.cli("run", "--rm", "busybox", "ls", "/dev").stdout.split()
    assert len(plain) < len(seen)


def test_ipc_pid_and_uts_modes(daemon: Daemon, client: docker.DockerClient,
                               busybox: str) -> None:
    """--ipc/--pid/--uts host share the host's namespaces; container:NAME another's (its
    IPC only when that one is shareable); a hostname with --uts host is refused."""
    for kind, flag in (("ipc", "--ipc"), ("pid", "--pid"), ("uts", "--uts")):
        host = os.readlink(f"/proc/self/ns/{kind}")
        out = daemon.cli("run", "--rm", flag, "host", "busybox", "readlink",
                         f"/proc/self/ns/{kind}").stdout
        assert out == f"{host}\n", kind
    assert daemon.cli("run", "--rm", "--uts", "host", "busybox",
                      "hostname").stdout == f"{os.uname().nodename}\n"
    refused = daemon.cli("run", "--rm", "--uts", "host", "-h", "x", "busybox", "true",
                         check=False)
    assert "conflicting options: hostname and the UTS mode" in refused.stderr
    with detached(client, ["sleep", "60"], ipc_mode="shareable") as donor, \
            detached(client, ["sleep", "60"]) as private:
        out = daemon.cli("run", "--rm", "--pid", f"container:{donor.id}", "--ipc",
                         f"container:{donor.id}", "busybox", "sh", "-c",
                         "tr '\\0' ' ' < /proc/1/cmdline; readlink /proc/self/ns/ipc").stdout
        ipc = client.api.exec_start(client.api.exec_create(
            donor.id, ["readlink", "/proc/self/ns/ipc"])).decode()
        assert out == f"sleep 60 {ipc}"
        refused = daemon.cli("run", "--rm", "--ipc", f"container:{private.id}", "busybox",
                             "true", check=False)
        assert "non-shareable IPC" in refused.stderr


def test_the_container_reads_its_own_cgroup_limits(daemon: Daemon, busybox: str) -> None:
    """/sys/fs/cgroup shows the container's own cgroups, read-only, as runc mounts them
    (a JVM or Go runtime sizes itself from there)."""
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    memory, pids = (("memory.max", "pids.max") if v2 else
                    ("memory/memory.limit_in_bytes", "pids/pids.max"))
    out = daemon.cli("run", "--rm", "-m", "64m", "--pids-limit", "50", "busybox", "sh", "-c",
                     f"cat /sys/fs/cgroup/{memory} /sys/fs/cgroup/{pids}; "
                     "mkdir /sys/fs/cgroup/pydt 2>/dev/null || echo read-only").stdout
    assert out == "67108864\n50\nread-only\n"
