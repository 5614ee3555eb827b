"""Resource limits on the real kernel: memory (OOM), CPU quota, pids, pause, stats, update."""

from __future__ import annotations

import json
import time

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

HOG = "x=a; while true; do x=$x$x$x$x; done"  # doubles until the limit bites


def test_memory_hog_is_oom_killed(client: docker.DockerClient, busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", HOG], detach=True, mem_limit="32m")
    try:
        assert c.wait(timeout=60)["StatusCode"] == 137
        c.reload()
        assert c.attrs["State"]["OOMKilled"] is True
        assert c.attrs["HostConfig"]["Memory"] == 32 * 1024 * 1024
    finally:
        c.remove(force=True)


def test_pids_limit_stops_a_fork_bomb(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "--pids-limit", "5", "busybox", "sh", "-c",
                     "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo spawned", check=False)
    assert "can't fork" in out.stderr or "Resource temporarily unavailable" in out.stderr


def test_cpus_half_throttles_a_busy_loop(client: docker.DockerClient, busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", "while true; do :; done"], detach=True,
                              nano_cpus=500_000_000)
    try:
        first = c.stats(stream=False)
        time.sleep(2)
        second = c.stats(stream=False)
        used = (second["cpu_stats"]["cpu_usage"]["total_usage"]
                - first["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9
        wall = 2 + 1  # stream=false waits one more second for precpu
        assert used / wall < 0.7, used
        assert second["cpu_stats"]["throttling_data"]["throttled_periods"] > 0
    finally:
        c.remove(force=True)


def test_pause_freezes_and_unpause_resumes(daemon: Daemon, client: docker.DockerClient,
                                           busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", "while true; do :; done"], detach=True)
    try:
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
    finally:
        c.remove(force=True)


def test_docker_stats_no_stream_shows_cpu(daemon: Daemon, client: docker.DockerClient,
                                          busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", "while true; do :; done"], detach=True)
    try:
        out = daemon.cli("stats", "--no-stream", "--format", "{{json .}}", c.id).stdout
        row = json.loads(out)
        assert float(row["CPUPerc"].rstrip("%")) > 1.0
        assert "MiB" in row["MemUsage"] or "KiB" in row["MemUsage"]
    finally:
        c.remove(force=True)


def test_update_changes_live_limits(daemon: Daemon, client: docker.DockerClient,
                                    busybox: str) -> None:
    c = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        daemon.cli("update", "--memory", "64m", "--memory-swap", "128m", "--restart",
                   "on-failure:3", c.id)
        c.reload()
        assert c.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
        assert c.attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure",
                                                          "MaximumRetryCount": 3}
        limit = c.stats(stream=False, one_shot=True)["memory_stats"]["limit"]
        assert limit == 64 * 1024 * 1024
    finally:
        c.remove(force=True)
