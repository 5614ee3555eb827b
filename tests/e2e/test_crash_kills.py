"""kill -9 at seeded random moments of everything the daemon persists: volume create,
network create/connect/disconnect/remove, container create/start/exec/stop/rm, pull from a
local registry, build. Each round kills one of: the daemon (then restarted), a
container's shim, the zygote, a container's PID 1. Afterwards every container is whole
(inspect and rm work) or gone, and once the survivors are removed nothing is left: no
mounts, bridges, iptables rules outside the default bridge's, cgroups, netns files,
layers, containers' rw layers, scratch or half-written files (``_left_in_data_root``).

``PYDOCKER_CRASH_KILLS`` sets the number of rounds (10 by default, to stay within the
suite's time; the issue's figure is 100)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon, leftovers
from tests.registry.conftest import StartRegistry, start_registry  # noqa: F401 - fixture

pytestmark = [pytest.mark.root, pytest.mark.e2e]

KILLS = int(os.environ.get("PYDOCKER_CRASH_KILLS", "10"))
ZYGOTE_MARK = b"from runtime.zygote import main"
# Where the targets are drawn from: the daemon most often, as its kills cut the most.
TARGETS = ["daemon"] * 5 + ["shim", "zygote", "pid1"]


class Worker(threading.Thread):
    """Cycles until told to stop, or until the daemon is gone; errors from the other
    kills (an exec into a container whose PID 1 died ...) end a cycle, not the worker."""

    def __init__(self, d: Daemon, first: int, remote: str) -> None:
        super().__init__(daemon=True)
        self.d, self.n, self.remote = d, first, remote
        self.stop = threading.Event()

    def run(self) -> None:
        client = docker.DockerClient(base_url=self.d.url, timeout=20)
        try:
            while not self.stop.is_set():
                try:
                    self.cycle(client, self.n)
                except Exception:  # noqa: BLE001 - a kill ends the cycle wherever it is
                    if self.d.proc is None or self.d.proc.poll() is not None:
                        return
                self.n += 1
        finally:
            client.close()

    def cycle(self, client: docker.DockerClient, n: int) -> None:
        vol = client.volumes.create(f"crash-vol-{n}")
        # Bridges named after the daemon's own, so that a leaked one is recognisable.
        net = client.networks.create(f"crash-net-{n}", options={
            "com.docker.network.bridge.name": f"{self.d.bridge}{n:x}"})
        c = client.containers.create("busybox", ["sleep", "60"], name=f"crash-{n}",
                                     volumes={vol.name: {"bind": "/v", "mode": "rw"}})
        net.connect(c)
        c.start()
        c.exec_run(["sh", "-c", "echo x > /v/f"])
        net.disconnect(c)
        c.stop(timeout=0)
        c.remove(v=True)
        net.remove()
        vol.remove()
        client.images.pull(self.remote)
        client.images.remove(self.remote)
        dockerfile = f"FROM busybox\nRUN echo {n} > /n\n".encode()
        client.images.build(fileobj=io.BytesIO(dockerfile), tag=f"crash-build-{n}", rm=True)
        client.images.remove(f"crash-build-{n}")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                         check=False).stdout
    return [int(p) for p in out.split()]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _ppid(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("PPid:")))


def _running_pid1(d: Daemon) -> int:
    """PID 1 (host pid) of a running crash container, 0 if none runs now."""
    status, _, body = d.request("GET", "/containers/json")
    if status != 200:
        return 0
    for c in json.loads(body):
        s, _, raw = d.request("GET", f"/containers/{c['Id']}/json")
        if s == 200 and json.loads(raw)["State"]["Pid"]:
            return int(json.loads(raw)["State"]["Pid"])
    return 0


def _kill_one(d: Daemon, target: str) -> str:
    """kill -9 of ``target``; what was killed (a shim or PID 1 needs a running container,
    waited for a moment, and falls back to the zygote without one)."""
    assert d.proc is not None
    if target == "daemon":
        d.stop(signal.SIGKILL)
        return target
    if target in ("shim", "pid1"):
        pid1, deadline = 0, time.monotonic() + 3
        while not pid1 and time.monotonic() < deadline:  # a cycle's container is running
            pid1 = _running_pid1(d)
        victim = (_ppid(pid1) if target == "shim" else pid1) if pid1 else 0
        if victim > 1:
            with contextlib.suppress(ProcessLookupError):  # it has just exited
                os.kill(victim, signal.SIGKILL)
                return target
    for pid in _children(d.proc.pid):
        if ZYGOTE_MARK in _cmdline(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                return "zygote"
    return "none"


def _remove_survivors(d: Daemon) -> list[str]:
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
        for image in client.images.list(all=True):
            if "busybox:latest" not in image.tags:
                client.images.remove(image.id, force=True)
    finally:
        client.close()
    return problems


def _foreign_rules(d: Daemon) -> list[str]:
    """Rules in our chains naming an interface other than the default bridge: what a
    network or endpoint a kill cut short left behind."""
    dump = subprocess.run(["iptables-save"], capture_output=True, text=True,
                          check=False).stdout
    found = []
    for line in dump.splitlines():
        words = line.split()
        if not line.startswith(f"-A {d.chain_prefix}"):
            continue
        named = {words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-i", "-o")}
        if named - {d.bridge}:
            found.append(line)
    return found


def _layout(d: Daemon) -> dict[str, set[str]]:
    image = d.data_root / "image"
    return {part: {p.name for p in (image / part).iterdir()} if (image / part).is_dir()
            else set() for part in ("configs", "layers", "rw", "tmp")}


def _left_in_data_root(d: Daemon, before: dict[str, set[str]]) -> list[str]:
    """Layers, configs, rw layers and scratch beyond what busybox needs; temp files of
    atomic writes; JSON state files that do not parse."""
    found = [f"{part}: {sorted(names - before[part])}"
             for part, names in _layout(d).items() if names - before[part]]
    for path in d.data_root.rglob("*"):
        if path.name.endswith(".tmp") and path.is_file():
            found.append(f"temp file {path}")
        if path.suffix == ".json" and path.is_file() and "layers" not in path.parts:
            try:
                json.loads(path.read_bytes())
            except ValueError:
                found.append(f"half-written {path}")
    netns = d.exec_root / "netns"
    if netns.is_dir() and any(netns.iterdir()):
        found.append(f"netns files {sorted(p.name for p in netns.iterdir())}")
    bundles = d.exec_root / "containers"
    if bundles.is_dir() and any(bundles.iterdir()):
        found.append(f"bundles {sorted(p.name for p in bundles.iterdir())}")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           check=False).stdout
    found += [f"interface {line.split(':')[1].strip()}" for line in links.splitlines()
              if line.split(":")[1].strip().split("@")[0].startswith(d.bridge)
              and line.split(":")[1].strip().split("@")[0] != d.bridge]
    return found


def test_kills_at_random_moments_leave_nothing_behind(
        fresh_daemon: Daemon, busybox_tar: bytes,
        start_registry: StartRegistry) -> None:  # noqa: F811
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    remote = f"{start_registry().domain}/crash:v1"
    build = d.cli("build", "-q", "-t", remote, "-", input=b"FROM busybox\nRUN echo r > /r\n",
                  timeout=120)
    assert build.returncode == 0
    d.cli("push", remote, timeout=120)
    d.cli("rmi", remote)
    before = _layout(d)
    rng = random.Random(16)
    killed: Counter[str] = Counter()
    for k in range(KILLS):
        worker = Worker(d, k * 1000, remote)
        worker.start()
        time.sleep(rng.uniform(0.05, 2.0))
        what = _kill_one(d, rng.choice(TARGETS))
        killed[what] += 1
        if what != "daemon":
            time.sleep(rng.uniform(0, 0.5))  # the daemon copes with it while busy
        worker.stop.set()
        worker.join(60)
        assert not worker.is_alive(), "a cycle hangs after the kill"
        if what == "daemon":
            d.start()
    print(f"\n{KILLS} rounds, killed: {dict(killed)}")
    d.stop(signal.SIGKILL)  # and once more with every round's debris in place
    d.start()
    problems = _remove_survivors(d)
    assert not problems, problems
    assert not _foreign_rules(d), _foreign_rules(d)
    assert d.stop() == 0
    left = leftovers(d) + _left_in_data_root(d, before)
    d.start()  # the fixture stops it again, and checks once more
    assert not left, f"after {KILLS} kills ({dict(killed)}): {left}"
