"""Loading container records: unreadable ones come back as dead containers, never vanish."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from pydocker.engine.containers import views
from pydocker.engine.containers.model import Container, State
from pydocker.engine.containers.state import ContainerState
from pydocker.engine.containers.store import RECORD, ContainerStore

GOOD = "a" * 64
BAD = "b" * 64


def record(container_id: str, name: str, **extra: Any) -> dict[str, Any]:
    c = Container(id=container_id, name=name, created="2026-11-22T09:00:00.5Z",
                  image_id="sha256:" + "c" * 64, config={"Image": "busybox", "Labels": {"k": "v"}},
                  host_config={}, path="sh", args=["-c", "true"])
    return {**c.to_record(), **extra}


def write(root: Path, container_id: str, data: bytes | dict[str, Any] | list[Any]) -> Path:
    d = root / container_id
    d.mkdir(parents=True)
    (d / RECORD).write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return d


def load(root: Path) -> tuple[ContainerStore, list[str]]:
    store = ContainerStore(root)
    return store, store.load()


def test_readable_records_load_as_before(tmp_path: Path) -> None:
    write(tmp_path, GOOD, record(GOOD, "web"))
    store, dead = load(tmp_path)
    assert dead == []
    c = store.get("web")
    assert (c.id, c.state.status, c.args) == (GOOD, "created", ["-c", "true"])


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"id": "' + BAD.encode() + b'", "name": "x', "Unterminated string starting at"),
    (b"", "Expecting value: line 1 column 1 (char 0)"),
    (b'{"id": "\xff"}', "codec can't decode byte 0xff"),
    ([1, 2], "not a JSON object"),
])
def test_corrupt_record_is_a_dead_container(tmp_path: Path, data: bytes | list[Any],
                                            reason: str) -> None:
    write(tmp_path, GOOD, record(GOOD, "web"))
    write(tmp_path, BAD, data)
    store, dead = load(tmp_path)
    assert dead == [BAD]
    assert store.get("web").state.status == "created"
    c = store.get(BAD)
    assert c.state.status == "dead"
    assert c.state.error.startswith(f"unreadable state file {RECORD}: ")
    assert reason in c.state.error
    assert c.name == BAD[:12]  # nothing to recover: a name from the ID
    assert store.get(BAD[:12]) is c
    assert (c.image_id, c.config, c.path, c.args) == ("", {}, "", [])
    assert not c.state.can_start()


def test_missing_record_is_a_dead_container(tmp_path: Path) -> None:
    (tmp_path / BAD).mkdir()
    (tmp_path / BAD / f"{BAD}-json.log").write_text("")
    store, dead = load(tmp_path)
    assert dead == [BAD]
    assert store.get(BAD).state.error == \
        f"unreadable state file {RECORD}: No such file or directory"


@pytest.mark.parametrize(("change", "reason"), [
    ({"path": None}, "missing field 'path'"),
    ({"args": "sh"}, "field 'args' has the wrong type (str)"),
    ({"state": {"status": "running", "pid": "12"}}, "field 'pid' has the wrong type (str)"),
    ({"state": []}, "field 'state' has the wrong type (list)"),
    ({"surprise": 1}, "unknown field 'surprise'"),
    ({"id": GOOD}, f"it is the record of container {GOOD}"),
])
def test_wrong_shape_keeps_what_can_be_read(tmp_path: Path, change: dict[str, Any],
                                            reason: str) -> None:
    rec = record(BAD, "db")
    rec.update(change)
    rec = {k: v for k, v in rec.items() if v is not None}
    write(tmp_path, BAD, rec)
    store, dead = load(tmp_path)
    assert dead == [BAD]
    c = store.get("db")
    assert c.id == BAD
    assert c.state.status == "dead"
    assert c.state.error == f"unreadable state file {RECORD}: {reason}"
    assert c.image_id == "sha256:" + "c" * 64
    assert c.config == {"Image": "busybox", "Labels": {"k": "v"}}
    assert c.created == "2026-11-22T09:00:00.5Z"


def test_salvage_skips_fields_of_the_wrong_shape(tmp_path: Path) -> None:
    write(tmp_path, BAD, {"id": BAD, "name": "bad name!", "config": ["Image"],
                          "image_id": 7, "created": "yesterday"})
    store, _ = load(tmp_path)
    c = store.get(BAD)
    assert (c.name, c.config, c.image_id, c.created) == \
        (BAD[:12], {}, "", "0001-01-01T00:00:00Z")


def test_salvaged_name_never_takes_a_live_containers(tmp_path: Path) -> None:
    write(tmp_path, GOOD, record(GOOD, "web"))
    write(tmp_path, BAD, {**record(BAD, "web"), "args": None})  # a copied record, say
    store, _ = load(tmp_path)
    assert store.get("web").id == GOOD
    assert store.get(BAD).name == BAD


def test_stray_files_are_not_containers(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    store, dead = load(tmp_path)
    assert (dead, store.all()) == ([], [])


def test_remove_takes_the_dead_containers_directory(tmp_path: Path) -> None:
    d = write(tmp_path, BAD, b"{")
    store, _ = load(tmp_path)
    store.remove(store.get(BAD))
    assert not d.exists()
    assert store.find(BAD) is None and store.find(BAD[:12]) is None


def test_dead_container_views_have_the_shapes_clients_read(tmp_path: Path) -> None:
    write(tmp_path, BAD, b"")
    store, _ = load(tmp_path)
    c = store.get(BAD)
    inspect = views.inspect(c, {})
    assert inspect["Id"] == BAD and inspect["Name"] == "/" + BAD[:12]
    assert inspect["State"]["Status"] == "dead" and inspect["State"]["Dead"] is True
    assert inspect["State"]["Running"] is False
    assert inspect["State"]["Error"].startswith("unreadable state file")
    assert (inspect["Config"], inspect["Image"], inspect["Args"]) == ({}, "", [])
    assert inspect["HostConfig"]["NetworkMode"] == "default"
    summary = views.summary(c, "", 0)
    assert (summary["State"], summary["Status"], summary["Names"]) == \
        ("dead", "Dead", ["/" + BAD[:12]])
    assert (summary["Command"], summary["Labels"], summary["Ports"]) == ("", {}, [])
    assert json.loads(json.dumps([inspect, summary])) == [inspect, summary]  # plain JSON


def test_a_saved_record_is_asdicts_and_loads_back_equal(tmp_path: Path) -> None:
    """to_record converts only the state (the one nested dataclass): every field, nested
    ones too, is written as a deep conversion would write it."""
    c = Container.from_record(record(GOOD, "web"))
    c.state = State(status=ContainerState.RUNNING, pid=42, health={"Status": "healthy",
                                                                  "Log": [{"ExitCode": 0}]})
    c.networks = {"bridge": {"IPAddress": "10.0.0.2", "Aliases": ["a", "b"]}}
    c.mounts = [{"Type": "bind", "Source": "/tmp", "Destination": "/x"}]
    assert json.dumps(c.to_record()) == json.dumps(asdict(c))
    store = ContainerStore(tmp_path)
    store.save(c)
    again, dead = load(tmp_path)
    assert dead == [] and again.get(GOOD) == c
