"""The local driver's store: names, options, metadata, removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydocker.engine.errors import Conflict, InvalidParameter, NotFound, SystemFailure
from pydocker.volumes.store import ANONYMOUS_LABEL, VolumeStore, needs_mount


@pytest.fixture
def store(tmp_path: Path) -> VolumeStore:
    return VolumeStore(tmp_path / "volumes")


@pytest.mark.parametrize("name", ["ab", "a1", "my_vol.1-x", "0abc", "A" * 200])
def test_valid_names(store: VolumeStore, name: str) -> None:
    vol, created = store.create(name)
    assert created and vol["Name"] == name


@pytest.mark.parametrize("name", ["bad/name", "-lead", ".hidden", "_x", "sp ace", "..",
                                  "x:y", "é1"])
def test_invalid_names(store: VolumeStore, name: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        store.create(name)
    assert str(err.value).startswith(f"create {name}: {json.dumps(name)} includes invalid "
                                     "characters for a local volume name")
    assert not list(store.root.iterdir())


def test_invalid_name_message_is_dockers(store: VolumeStore) -> None:
    with pytest.raises(InvalidParameter) as err:
        store.create("bad/name")
    assert str(err.value) == (
        'create bad/name: "bad/name" includes invalid characters for a local volume name, '
        'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
        "directory, use absolute path")
    with pytest.raises(InvalidParameter, match="^create a: volume name is too short, names "
                                               "should be at least two alphanumeric"):
        store.create("a")


def test_anonymous_volume(store: VolumeStore) -> None:
    vol, created = store.create(None)
    assert created and len(vol["Name"]) == 64 and int(vol["Name"], 16) >= 0
    assert vol["Labels"] == {ANONYMOUS_LABEL: ""}


def test_metadata_and_shape(store: VolumeStore) -> None:
    vol, _ = store.create("data", labels={"k": "v"}, driver_opts={})
    assert vol == {"CreatedAt": vol["CreatedAt"], "Driver": "local", "Labels": {"k": "v"},
                   "Mountpoint": str(store.root / "data" / "_data"), "Name": "data",
                   "Options": {}, "Scope": "local"}
    assert vol["CreatedAt"].endswith("Z") and "T" in vol["CreatedAt"]
    meta = json.loads((store.root / "data" / "meta.json").read_text())
    assert meta["Labels"] == {"k": "v"}
    assert not list((store.root / "data").glob(".*tmp"))  # the atomic write's temp is gone
    assert (store.root / "data" / "_data").is_dir()


def test_create_existing_returns_it(store: VolumeStore) -> None:
    first, _ = store.create("same", labels={"a": "1"})
    again, created = store.create("same", labels={"b": "2"})
    assert not created and again == first


@pytest.mark.parametrize(("opts", "message"), [
    ({"foo": "bar"}, 'create v1: invalid option: "foo"'),
    ({"type": "tmpfs"}, 'create v1: missing required option: "device"'),
    ({"device": "tmpfs"}, 'create v1: missing required option: "type"'),
    ({"o": "size=1m", "type": "tmpfs"}, 'create v1: missing required option: "device"'),
    ({"size": "10m"}, "create v1: quota size requested but no quota support"),
])
def test_bad_options(store: VolumeStore, opts: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        store.create("v1", driver_opts=opts)
    assert str(err.value) == message
    assert not store.exists("v1")


def test_other_driver_is_not_found(store: VolumeStore) -> None:
    with pytest.raises(NotFound, match='plugin "nfsplugin" not found'):
        store.create("v1", driver="nfsplugin")


def test_needs_mount() -> None:
    assert needs_mount({"type": "tmpfs", "device": "tmpfs"})
    assert not needs_mount({}) and not needs_mount(None)


def test_get_and_remove(store: VolumeStore) -> None:
    with pytest.raises(NotFound, match="^get nope: no such volume$"):
        store.get("nope")
    with pytest.raises(NotFound):
        store.get("../../etc")  # never a path outside the root
    store.create("busy")
    with pytest.raises(Conflict, match=r"^remove busy: volume is in use - \[c1, c2\]$"):
        store.remove("busy", ["c1", "c2"])
    (store.mountpoint("busy") / "f").write_text("x" * 10)
    assert store.size("busy") == 10 and not store.is_empty("busy")
    store.remove("busy", [])
    assert not (store.root / "busy").exists()
    with pytest.raises(NotFound):
        store.remove("busy", [])
    store.remove("busy", [], force=True)


def test_names_skip_half_made(store: VolumeStore) -> None:
    store.create("whole")
    (store.root / "half" / "_data").mkdir(parents=True)  # a crash before meta.json
    assert store.names() == ["whole"]


def test_create_failure_is_a_system_failure(store: VolumeStore) -> None:
    (store.root / "blocked").write_text("a file where the volume's directory goes")
    with pytest.raises(SystemFailure, match="^create blocked: "):
        store.create("blocked")


def test_a_volume_half_made_or_half_removed_by_a_killed_daemon_goes_at_start(
        tmp_path: Path) -> None:
    root = tmp_path / "volumes"
    store = VolumeStore(root)
    store.create("whole")
    (root / "half-made" / "_data").mkdir(parents=True)  # killed before meta.json's rename
    (root / "half-made" / ".meta.json.tmp").write_text("{")
    (root / "half-removed" / "_data" / "d").mkdir(parents=True)  # meta.json gone first
    store = VolumeStore(root)
    assert sorted(p.name for p in root.iterdir()) == ["whole"]
    assert store.names() == ["whole"]
