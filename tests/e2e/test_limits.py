"""Resource limits on the real kernel: memory (OOM), CPU quota, pids, pause, stats, update."""

from __future__ import annotations

import json
import os
import time

import docker
import pytest

from tests.e2e.harness import BUSY_LOOP, Daemon, detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]

HOG = "x=a; while true; do x=$x$x$x$x; done"  # doubles until the limit bites


def test_memory_hog_is_oom_killed(client: docker.DockerClient, busybox: str) -> None:
    with detached(client, ["sh", "-c", HOG], mem_limit="32m") as c:
        assert c.wait(timeout=60)["StatusCode"] == 137
        c.reload()
        assert c.attrs["State"]["OOMKilled"] is True
        assert c.attrs["HostConfig"]["Memory"] == 32 * 1024 * 1024


def test_pids_limit_stops_a_fork_bomb(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c",
                     "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo spawned", check=False)
    assert "can't fork" in out.stderr or "Resource temporarily unavailable" in out.stderr


def test_cpus_half_throttles_a_busy_loop(client: docker.DockerClient, busybox: str) -> None:
    with detached(client, BUSY_LOOP, nano_cpus=500_000_000) as c:
        first = c.stats(stream=False)
        time.sleep(2)
        second = c.stats(stream=False)
        used = (second["cpu_stats"]["cpu_usage"]["total_usage"]
                - first["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
        wall = 2 + 1  # stream=false waits one more second for precpu
        assert used / wall < 0.7, used
        assert second["cpu_stats"]["throttling_data"]["throttled_periods"] > 0


def test_pause_freezes_and_unpause_resumes(daemon: Daemon, client: docker.DockerClient,
                                           busybox: str) -> None:
    with detached(client, BUSY_LOOP) as c:
        daemon.cli("pause", c.id)
        c.reload()
        assert c.attrs["State"]["Paused"] is True
        a = c.stats(stream=False, one_shot=True)["cpu_stats"]["cpu_usage"]["total_usage"]
        time.sleep(0.5)
        b = c.stats(stream=False, one_shot=True)["cpu_stats"]["cpu_usage"]["total_usage"]
        assert b - a < 10_000_000  # under 10 ms of CPU in half a second: frozen
        daemon.cli("unpause", c.id)
        c.reload()
        assert c.status == "running"


def test_docker_stats_no_stream_shows_cpu(daemon: Daemon, client: docker.DockerClient,
                                          busybox: str) -> None:
    with detached(client, BUSY_LOOP) as c:
        out = daemon.cli("stats", "--no-stream", "--format", "{{json .}}", c.id).stdout
        row = json.loads(out)
        assert float(row["CPUPerc"].rstrip("%")) > 1.0
        assert "MiB" in row["MemUsage"] or "KiB" in row["MemUsage"]


def test_update_changes_live_limits(daemon: Daemon, client: docker.DockerClient,
                                    busybox: str) -> None:
    with detached(client, ["sleep", "300"]) as c:
        daemon.cli("update", "--memory", "64m", "--memory-swap", "128m", "--restart",
                   "on-failure:3", c.id)
        c.reload()
        assert c.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
        assert c.attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure",
                                                          "MaximumRetryCount": 3}
        limit = c.stats(stream=False, one_shot=True)["memory_stats"]["limit"]
        assert limit == 64 * 1024 * 1024


def test_limits_the_host_cannot_enforce_are_discarded_with_dockers_warning(
        daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    """dockerd's verifyPlatformContainerResources: warn, drop the setting, still create."""
    blkio_weight = os.path.exists("/sys/fs/cgroup/blkio/blkio.weight")  # CFQ/BFQ hosts only
    out = daemon.cli("create", "--blkio-weight", "300", "--oom-kill-disable", "busybox", "true")
    cid = out.stdout.strip()
    try:
        assert ("OOM killer is disabled for the container, but no memory limit is set, this "
                "can result in the system running out of resources.") in out.stderr
        host_config = client.api.inspect_container(cid)["HostConfig"]
        if blkio_weight:
            assert host_config["BlkioWeight"] == 300
        else:
            assert ("WARNING: Your kernel does not support Block I/O weight or the cgroup is "
                    "not mounted. Weight discarded.") in out.stderr
            assert host_config["BlkioWeight"] == 0
        kmem = client.api.create_container(
            busybox, ["true"], host_config=client.api.create_host_config(kernel_memory="64m"))
        client.api.remove_container(kmem["Id"])
        assert kmem["Warnings"] == [
            ("Your kernel does not support kernel memory limit capabilities or the cgroup is "
             "not mounted. Limitation discarded.")]
    finally:
        client.api.remove_container(cid, force=True)


def test_limit_values_docker_refuses(client: docker.DockerClient, busybox: str) -> None:
    before = client.api.containers(all=True, quiet=True)
    for host_config, message in (
            ({"CpuPeriod": 500}, ("CPU cfs period can not be less than 1ms (i.e. 1000) or "
                                  "larger than 1s (i.e. 1000000)")),
            ({"CpuQuota": 999}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
            ({"Memory": 64 << 20, "MemorySwap": 32 << 20},
             "Minimum memoryswap limit should be larger than memory limit, see usage"),
            ({"MemorySwap": 64 << 20},
             "You should always set the Memory limit when using Memoryswap limit, see usage"),
            ({"MemoryReservation": 1 << 20}, "Minimum memory reservation allowed is 6MB"),
            ({"MemorySwappiness": 101}, ("Invalid value: 101, valid memory swappiness range "
                                         "is 0-100")),
            ({"BlkioWeight": 5}, None)):  # out of range, or discarded where unsupported
        try:
            made = client.api.create_container(busybox, ["true"], host_config=host_config)
        except docker.errors.APIError as exc:
            assert exc.status_code == 400
            assert message is None or exc.explanation == message
        else:
            assert message is None, f"{host_config} was accepted"
            client.api.remove_container(made["Id"])
    assert client.api.containers(all=True, quiet=True) == before  # nothing half-created


def _block_device() -> str:
    for name in sorted(os.listdir("/sys/block")):
        if os.path.exists(f"/dev/{name}"):
            return f"/dev/{name}"
    pytest.skip("no block device node under /dev")


def test_swappiness_and_device_throttles_reach_the_cgroup(daemon: Daemon,
                                                          client: docker.DockerClient,
                                                          busybox: str) -> None:
    if not os.path.exists("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device"):
        pytest.skip("this host has no v1 blkio throttling (the v2 path writes io.max)")
    device = _block_device()
    rdev = os.stat(device).st_rdev
    with detached(client, ["sleep", "300"], mem_swappiness=17,
                  device_read_bps=[{"Path": device, "Rate": 1048576}],
                  device_write_iops=[{"Path": device, "Rate": 300}]) as c:
        cgroup = f"/sys/fs/cgroup/%s/{daemon.cgroup_parent}/{c.id}"
        with open(cgroup % "memory" + "/memory.swappiness") as f:
            assert f.read().strip() == "17"
        number = f"{os.major(rdev)}:{os.minor(rdev)}"
        with open(cgroup % "blkio" + "/blkio.throttle.read_bps_device") as f:
            assert f.read().split() == [number, "1048576"]
        with open(cgroup % "blkio" + "/blkio.throttle.write_iops_device") as f:
            assert f.read().split() == [number, "300"]
        assert c.attrs["HostConfig"]["MemorySwappiness"] == 17
