"""The calls cri-dockerd v0.4.3 makes for the kubelet, replayed with the Go client's bodies
(core/sandbox_helpers.go, core/container_create.go, libdocker): a pod sandbox (the
pause container) and containers joining its namespaces, and what Kubernetes relies on
from them: one network, IPC and PID namespace per pod, the pod's DNS and host name,
sysctls, read-only and masked paths, exec exit codes, json-file logs, stats, listing by
label, stop and remove, and the image calls.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import docker
import pytest

from tests.e2e.goclient import call, exec_sync, go_config, go_host_config
from tests.e2e.harness import Daemon
from tests.e2e.pods import LOOP, PAUSE_IMAGE, Pod

pytestmark = pytest.mark.root

@pytest.fixture
def pod(daemon: Daemon, pause_image: str, tmp_path: Path) -> Iterator[Pod]:
    p = Pod(daemon, tmp_path)
    yield p
    p.remove_all()


def ns_of(pid: int, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def run(d: Daemon, container_id: str, script: str, stdin: bytes | None = None
        ) -> tuple[int, str, str]:
    code, out, err = exec_sync(d, container_id, ["sh", "-c", script], stdin)
    return code, out.decode(), err.decode()


def test_pod_shares_the_sandbox_namespaces_files_and_sysctls(pod: Pod) -> None:
    d = pod.d
    sandbox = pod.run_sandbox("none", sysctls={"kernel.shm_rmid_forced": "1",
                                               "fs.mqueue.msg_max": "100"})
    pid = sandbox["State"]["Pid"]
    assert sandbox["State"]["Running"] and sandbox["HostConfig"]["IpcMode"] == "shareable"
    # -998 is clamped to what the host allows, with a warning; either way the pod starts.
    adj = sandbox["HostConfig"]["OomScoreAdj"]
    assert Path(f"/proc/{pid}/oom_score_adj").read_text().strip() == str(adj)
    assert (adj == -998) == (not sandbox["Warnings"]), sandbox["Warnings"]
    if sandbox["Warnings"]:
        assert f"OomScoreAdj -998 raised to {adj}" in d.log()
    # cri-dockerd writes the pod's DNS into the sandbox's resolv.conf after the start.
    Path(sandbox["ResolvConfPath"]).write_text(
        "nameserver 10.96.0.10\nsearch default.svc.cluster.local\noptions ndots:5\n")

    app = pod.create_container("app", LOOP, ReadonlyPaths=["/tmp"],
                               MaskedPaths=["/etc/group", "/var/www"])
    app_info = call(d, "GET", f"/containers/{app}/json")
    for key in ("HostnamePath", "HostsPath", "ResolvConfPath"):
        assert app_info[key] == sandbox[key]
    assert app_info["Config"]["Hostname"] == "pydt-pod"
    code, out, _ = run(d, app, "for n in net ipc pid; do readlink /proc/self/ns/$n; done")
    assert code == 0 and out.split() == [ns_of(pid, "net"), ns_of(pid, "ipc"), ns_of(pid, "pid")]
    code, out, _ = run(d, app, "hostname; cat /etc/hostname /etc/resolv.conf "
                               "/proc/sys/kernel/shm_rmid_forced /proc/sys/fs/mqueue/msg_max; "
                               "cat /proc/1/cmdline")
    assert out.split("\n")[:2] == ["pydt-pod", "pydt-pod"]
    assert "nameserver 10.96.0.10" in out and "options ndots:5" in out
    assert "\n1\n100\n/pause" in out
    # ReadonlyPaths and MaskedPaths replace the defaults, and exec sees them too.
    code, _, err = run(d, app, "touch /tmp/x")
    assert code == 1 and "Read-only file system" in err
    code, out, err = run(d, app, "cat /etc/group; ls -A /var/www; touch /var/www/x")
    assert code == 1 and out == "" and "Read-only file system" in err
    code, out, _ = run(d, app, "cat /proc/kcore | head -c 1 | wc -c")
    assert out.strip() == "0"  # the kubelet's list: still masked
    # The pod's /dev/shm: the sandbox's 64 MiB tmpfs, which a second container of the pod
    # shares with the first (POSIX shared memory).
    assert run(d, app, "df -k /dev/shm | tail -1")[1].split()[1] == "65536"
    side = pod.create_container("side", LOOP, pid="container")
    assert run(d, app, "echo shared > /dev/shm/pydt")[0] == 0
    code, out, _ = run(d, side, "cat /dev/shm/pydt; cat /proc/1/cmdline")
    assert out.startswith("shared\n") and "/pause" not in out  # its own PID namespace
    # Exec probes: exit codes, and stdin closed by the client's half-close.
    assert run(d, app, "exit 3")[0] == 3
    assert exec_sync(d, app, ["cat"], b"ping\n")[:2] == (0, b"ping\n")
    _logs_stats_and_listing(d, pod, app, app_info)


def _logs_stats_and_listing(d: Daemon, pod: Pod, app: str, app_info: dict[str, Any]) -> None:
    line = json.loads(Path(app_info["LogPath"]).read_text().splitlines()[0])
    assert line["log"] == "hello from the pod\n" and line["stream"] == "stdout"
    assert line["time"].endswith("Z")
    stats = call(d, "GET", f"/containers/{app}/stats?stream=0&one-shot=1")
    assert stats["memory_stats"]["usage"] > 0 and stats["pids_stats"]["current"] >= 1
    sized = call(d, "GET", f"/containers/{app}/json?size=1")
    assert sized["SizeRw"] >= 0 and sized["SizeRootFs"] > 0
    by_label = quote(json.dumps({"label": {"io.kubernetes.docker.type=podsandbox": True,
                                           f"io.kubernetes.pod.uid={pod.uid}": True}}))
    assert [c["Id"] for c in call(d, "GET", f"/containers/json?all=1&filters={by_label}")] \
        == [pod.sandbox]
    by_id = quote(json.dumps({"id": {app[:12]: True}}))
    assert [c["Id"] for c in call(d, "GET", f"/containers/json?all=1&filters={by_id}")] == [app]
    # StopContainer, then StopPodSandbox: pause exits 0 on SIGTERM.
    call(d, "POST", f"/containers/{app}/stop?t=10", None, 204)
    assert call(d, "GET", f"/containers/{app}/json")["State"]["ExitCode"] == 143
    call(d, "POST", f"/containers/{pod.sandbox}/stop?t=10", None, 204)
    assert call(d, "GET", f"/containers/{pod.sandbox}/json")["State"]["ExitCode"] == 0
    for container_id in reversed(pod.ids):
        call(d, "DELETE", f"/containers/{container_id}?v=1&force=1", None, 204)
    pod.ids.clear()


def test_bridge_sandbox_gives_the_pod_its_address_and_hosts(pod: Pod) -> None:
    sandbox = pod.run_sandbox("default", hostname="pydt-bridge-pod")
    ip = sandbox["NetworkSettings"]["IPAddress"]
    app = pod.create_container("web", LOOP)
    code, out, _ = run(pod.d, app, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; "
                                   "ip -4 -o addr show eth0; cat /etc/hosts; hostname")
    assert code == 0 and f"inet {ip}/" in out
    assert out.startswith("0\n")  # dockerd's default sysctl, set in the sandbox's netns
    assert f"{ip}\tpydt-bridge-pod" in out and out.endswith("pydt-bridge-pod\n")


def test_joining_follows_dockerd(pod: Pod) -> None:
    d = pod.d
    sandbox = pod.run_sandbox("none")
    private = pod.create_container("private", LOOP, IpcMode="private", PidMode="",
                                   NetworkMode="none")
    body = {**go_config(Image="busybox", Cmd=["true"]),
            "HostConfig": go_host_config(IpcMode=f"container:{private}")}
    status, _, data = d.request("POST", "/containers/create", body)
    joiner = json.loads(data)["Id"]
    pod.ids.append(joiner)
    status, _, data = d.request("POST", f"/containers/{joiner}/start")
    assert (status, json.loads(data)["message"]) == (400, (
        f"can't join IPC of container {private}: non-shareable IPC (hint: use "
        "IpcMode:shareable for the donor container)"))
    body["HostConfig"] = go_host_config(PidMode="container:pydt-nonexistent")
    status, _, data = d.request("POST", "/containers/create", body)
    assert (status, json.loads(data)["message"]) == (400, "No such container: pydt-nonexistent")
    body["HostConfig"] = go_host_config(NetworkMode="host", Sysctls={"net.ipv4.ip_forward": "1"})
    status, _, data = d.request("POST", "/containers/create", body)
    refused = json.loads(data)["Id"]
    pod.ids.append(refused)
    status, _, data = d.request("POST", f"/containers/{refused}/start")
    assert status == 400 and json.loads(data)["message"].endswith(
        'sysctl "net.ipv4.ip_forward" not allowed in host network namespace')
    # As with dockerd, the sandbox may be removed under its containers: the one in its
    # PID namespace dies with it, one in its network namespace keeps it (lo only).
    in_pid = pod.create_container("in-pid", LOOP, NetworkMode="none", IpcMode="private")
    in_net = pod.create_container("in-net", LOOP, pid="container", IpcMode="private")
    call(d, "DELETE", f"/containers/{sandbox['Id']}?v=1&force=1", None, 204)
    pod.ids.remove(sandbox["Id"])
    client = docker.DockerClient(base_url=d.url)
    try:
        assert client.api.wait(in_pid, timeout=30)["StatusCode"] == 137
    finally:
        client.close()
    code, out, _ = run(d, in_net, "ls /sys/class/net")
    assert code == 0 and out.split() == ["lo"]


def test_image_calls(daemon: Daemon, pause_image: str) -> None:
    """InspectImageByRef, ListImages with a reference filter, RemoveImage of a tag."""
    inspect = call(daemon, "GET", f"/images/{quote(PAUSE_IMAGE, safe='')}/json")
    assert inspect["Config"]["Entrypoint"] == ["/pause"] and inspect["Os"] == "linux"
    call(daemon, "POST", f"/images/{inspect['Id']}/tag?repo=pydt-pause&tag=gone", None, 201)
    ref = quote(json.dumps({"reference": {"pydt-pause": True}}))
    listed = call(daemon, "GET", f"/images/json?filters={ref}")
    assert {"pydt-pause:3.10", "pydt-pause:gone"} <= set(listed[0]["RepoTags"])
    removed = call(daemon, "DELETE", "/images/pydt-pause:gone?force=0&noprune=0")
    assert removed == [{"Untagged": "pydt-pause:gone"}]  # still tagged 3.10: no Deleted
    call(daemon, "GET", "/images/pydt-pause:gone/json", expect=404)
