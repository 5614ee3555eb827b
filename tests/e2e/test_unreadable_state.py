"""A container whose state file is corrupt or gone at daemon start comes back dead, with
the reason; every other container comes back as it was (issue #5, "Bad input")."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

STATE_FILE = "config.v2.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _damage(record: Path, how: str) -> None:
    if how == "truncated":
        data = record.read_bytes()
        record.write_bytes(data[:len(data) // 2])
    elif how == "deleted":
        record.unlink()
    else:  # "reshaped": valid JSON, but not a record (no args) — name and image survive
        doc = json.loads(record.read_bytes())
        del doc["args"]
        record.write_text(json.dumps(doc))


def _ps(d: Daemon, *args: str) -> list[list[str]]:
    out = d.cli("ps", *args, "--format", "{{.ID}} {{.Names}} {{.State}} {{.Status}}").stdout
    return [line.split(" ", 3) for line in out.splitlines()]


@pytest.mark.parametrize(("how", "victim_running", "reason"), [
    ("truncated", True, "line 1 column"),  # where the JSON ends
    ("deleted", False, "No such file or directory"),
    ("reshaped", False, "missing field 'args'"),
])
def test_unreadable_state_file_leaves_a_dead_container(
        fresh_daemon: Daemon, busybox_tar: bytes, how: str, victim_running: bool,
        reason: str) -> None:
    d = fresh_daemon
    image_id = import_busybox(d, busybox_tar)
    port = _free_port()
    client = d.client()
    keeper = client.containers.run("busybox", ["sleep", "300"], detach=True, name="keeper")
    if victim_running:
        victim = client.containers.run("busybox", ["sleep", "300"], detach=True, name="victim",
                                       ports={"80/tcp": ("127.0.0.1", port)})
    else:
        victim = client.containers.create("busybox", ["true"], name="victim")
    victim.reload()
    victim_pid = victim.attrs["State"]["Pid"]
    client.close()
    cdir = d.data_root / "containers" / victim.id
    rw_dir = d.data_root / "image" / "rw" / victim.id
    assert (cdir / STATE_FILE).is_file() and rw_dir.is_dir()

    d.stop()
    _damage(cdir / STATE_FILE, how)
    d.start()

    # The CLI lists it, dead, under a name: its own, or one made from its ID.
    name = "victim" if how == "reshaped" else victim.id[:12]
    rows = {row[0]: row for row in _ps(d, "-a")}
    assert rows[victim.id[:12]] == [victim.id[:12], name, "dead", "Dead"]
    assert rows[keeper.id[:12]][1:3] == ["keeper", "running"]
    assert [row[0] for row in _ps(d, "-a", "--filter", "status=dead")] == [victim.id[:12]]
    assert [row[0] for row in _ps(d)] == [keeper.id[:12]]

    [inspect] = json.loads(d.cli("inspect", victim.id[:12]).stdout)
    assert inspect["Id"] == victim.id and inspect["Name"] == "/" + name
    state = inspect["State"]
    assert (state["Status"], state["Dead"], state["Running"], state["Pid"]) == \
        ("dead", True, False, 0)
    assert state["Error"].startswith(f"unreadable state file {STATE_FILE}: ")
    assert reason in state["Error"]
    assert inspect["Image"] == (image_id if how == "reshaped" else "")

    client = d.client()
    try:
        # docker-py reads the same shapes; the one left running is untouched and usable.
        dead = client.containers.get(victim.id)
        assert (dead.status, dead.name, dead.labels) == ("dead", name, {})
        assert [c.id for c in client.containers.list(all=True, filters={"status": "dead"})] \
            == [victim.id]
        keeper.reload()
        assert keeper.status == "running"
        assert keeper.exec_run(["echo", "still-here"]).output == b"still-here\n"
        bridge = client.networks.get("bridge").attrs["Containers"]
        assert list(bridge) == [keeper.id]  # the dead one's endpoint and IP are released
        if victim_running:  # nothing can manage its process any more: it is stopped
            with pytest.raises(ProcessLookupError):
                os.kill(victim_pid, 0)
            assert _port_is_free(port)

        # Dead is final, with Docker's message, from both clients.
        with pytest.raises(docker.errors.APIError) as err:
            dead.start()
        assert err.value.status_code == 409
        assert "container is marked for removal and cannot be started" in str(err.value)
    finally:
        client.close()
    start = d.cli("start", victim.id[:12], check=False)
    assert start.returncode != 0
    assert "container is marked for removal and cannot be started" in start.stderr
    restart = d.cli("restart", victim.id[:12], check=False)
    assert "container is marked for removal and cannot be started" in restart.stderr
    update = d.cli("update", "--cpu-shares", "512", victim.id[:12], check=False)
    assert 'container is marked for removal and cannot be "update"' in update.stderr
    assert d.cli("inspect", "-f", "{{.State.Status}}", victim.id).stdout.strip() == "dead"

    # docker rm, forced or not (nothing runs), takes it and everything it left on disk.
    force = ["-f"] if how == "deleted" else []
    assert d.cli("rm", *force, victim.id[:12]).stdout.strip() == victim.id[:12]
    assert not cdir.exists() and not rw_dir.exists()
    assert not (d.exec_root / "containers" / victim.id).exists()
    assert victim.id[:12] not in {row[0] for row in _ps(d, "-a")}
    assert d.cli("exec", "keeper", "echo", "ok").stdout == "ok\n"

    # And it stays gone across the next restart.
    d.stop()
    d.start()
    assert [row[1:3] for row in _ps(d, "-a")] == [["keeper", "running"]]
