"""VolumeService against a real store in tmp_path and fake containers."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydocker.engine.errors import Conflict, InvalidParameter, NotFound, SystemFailure
from pydocker.engine.events import EventBus
from pydocker.engine.volumes import VolumeService
from pydocker.volumes import hostmount
from pydocker.volumes.store import VolumeStore


class World:
    def __init__(self, root: Path) -> None:
        self.containers: list[Any] = []
        self.events = EventBus()
        self.store = VolumeStore(root / "volumes")
        self.svc = VolumeService(self.store, self.events, lambda: self.containers)

    def container(self, cid: str, config: dict[str, Any] | None = None,
                  host_config: dict[str, Any] | None = None,
                  layers: list[str] | None = None) -> Any:
        c = SimpleNamespace(id=cid, name=f"name-{cid}", config=config or {},
                            host_config=host_config or {}, mounts=[],
                            rootfs={"lower": layers or []})
        return c

    async def create(self, *args: Any, **kwargs: Any) -> Any:
        c = self.container(*args, **kwargs)
        c.mounts = await self.svc.prepare_mounts(c)
        self.containers.append(c)
        return c

    def actions(self) -> list[tuple[str, str]]:
        return [(e.action, e.actor_id) for e in self.events.history(0, None)]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


async def test_create_list_filters(world: World) -> None:
    svc = world.svc
    await svc.create({"Name": "alpha", "Labels": {"env": "prod", "tier": "db"}})
    await svc.create({"Name": "beta", "Labels": {"env": "dev"}, "DriverOpts": None})
    await world.create("c1", host_config={"Binds": ["beta:/b"]})

    async def names(**f: list[str]) -> list[str]:
        return [v["Name"] for v in (await svc.list_volumes(dict(f)))["Volumes"]]

    assert await names() == ["alpha", "beta"]
    assert await names(name=["alp"]) == ["alpha"]
    assert await names(name=["^b.t"]) == ["beta"]
    assert await names(driver=["local"]) == ["alpha", "beta"]
    assert await names(driver=["nfs"]) == []
    assert await names(label=["env"]) == ["alpha", "beta"]
    assert await names(label=["env=prod"]) == ["alpha"]
    assert await names(label=["env=prod", "tier=web"]) == []
    assert await names(**{"label!": ["env=prod"]}) == ["beta"]
    assert await names(dangling=["true"]) == ["alpha"]
    assert await names(dangling=["0"]) == ["beta"]
    with pytest.raises(InvalidParameter, match=r"^invalid filter 'dangling=\[maybe\]'$"):
        await names(dangling=["maybe"])
    with pytest.raises(InvalidParameter, match="^invalid filter 'color'$"):
        await names(color=["red"])
    assert (await svc.list_volumes({}))["Warnings"] == []
    assert ("create", "alpha") in world.actions()


async def test_inspect_and_remove(world: World) -> None:
    svc = world.svc
    with pytest.raises(NotFound, match="^get ghost: no such volume$"):
        await svc.inspect("ghost")
    with pytest.raises(NotFound):
        await svc.remove("ghost", force=False)
    await svc.remove("ghost", force=True)
    c = await world.create("c1" * 32, host_config={"Binds": ["keep:/k"]})
    with pytest.raises(Conflict) as err:
        await svc.remove("keep", force=True)  # force does not override in-use
    assert str(err.value) == f"remove keep: volume is in use - [{c.id}]"
    world.containers.clear()
    await svc.remove("keep", force=False)
    assert ("destroy", "keep") in world.actions()


async def test_prune(world: World) -> None:
    svc = world.svc
    await svc.create({"Name": "named"})
    await svc.create({"Name": "labelled", "Labels": {"drop": "yes"}})
    anon = await svc.create({"Labels": {"drop": "no"}})
    (Path(anon["Mountpoint"]) / "f").write_bytes(b"12345")
    used = await world.create("c1", host_config={"Binds": ["/u"]})
    used_anon = used.mounts[0]["volume"]

    result = await svc.prune({})
    assert result == {"VolumesDeleted": [anon["Name"]], "SpaceReclaimed": 5}
    assert ("prune", "") in world.actions()
    assert await svc.prune({}) == {"VolumesDeleted": None, "SpaceReclaimed": 0}
    assert await svc.prune({"all": ["true"], "label": ["drop=yes"]}) == {
        "VolumesDeleted": ["labelled"], "SpaceReclaimed": 0}
    assert await svc.prune({"all": ["1"], "label!": ["keep"]}) == {
        "VolumesDeleted": ["named"], "SpaceReclaimed": 0}
    assert world.store.names() == [used_anon]
    with pytest.raises(InvalidParameter, match="^invalid filter 'dangling'$"):
        await svc.prune({"dangling": ["true"]})


async def test_usage(world: World) -> None:
    await world.svc.create({"Name": "vol"})
    (world.store.mountpoint("vol") / "f").write_bytes(b"abc")
    await world.create("c1", host_config={"Binds": ["vol:/a"]})
    await world.create("c2", host_config={"Binds": ["vol:/b"]})
    [vol] = await world.svc.usage()
    assert vol["UsageData"] == {"Size": 3, "RefCount": 2}


async def test_mount_precedence_and_volumes_from(world: World, tmp_path: Path) -> None:
    host = tmp_path / "host" / "missing"  # Binds create it, as dockerd does
    src = await world.create("src", config={"Volumes": {"/shared": {}}},
                             host_config={"Binds": [f"{host}:/hostdir:ro"]})
    assert host.is_dir()
    shared = src.mounts[1]["volume"] if src.mounts[1]["inspect"]["Destination"] == \
        "/shared" else src.mounts[0]["volume"]
    c = await world.create("user", config={"Volumes": {"/shared": {}, "/own": {}}},
                           host_config={"VolumesFrom": ["name-src:ro"],
                                        "Binds": ["other:/hostdir"]})
    by_dest = {m["inspect"]["Destination"]: m for m in c.mounts}
    assert set(by_dest) == {"/shared", "/hostdir", "/own"}
    assert by_dest["/shared"]["volume"] == shared  # inherited, not a new anonymous one
    assert by_dest["/shared"]["inspect"]["RW"] is False
    assert "ro" in by_dest["/shared"]["spec"]["options"]
    assert by_dest["/hostdir"]["volume"] == "other"  # Binds override --volumes-from
    assert by_dest["/own"]["anonymous"] is True
    with pytest.raises(NotFound, match="^No such container: ghost$"):
        await world.create("x", host_config={"VolumesFrom": ["ghost"]})


async def test_rm_v_removes_only_anonymous(world: World) -> None:
    c = await world.create("c1", config={"Volumes": {"/anon": {}}},
                           host_config={"Binds": ["named:/named"]})
    anon = next(m["volume"] for m in c.mounts if m.get("anonymous"))
    world.containers.remove(c)
    await world.svc.release_mounts(c, remove_anonymous=True)
    assert world.store.names() == ["named"]
    assert ("destroy", anon) in world.actions()


async def test_bind_errors_at_create(world: World) -> None:
    with pytest.raises(InvalidParameter, match="bind source path does not exist: /nonexist"):
        await world.create("c1", host_config={"Mounts": [
            {"Type": "bind", "Source": "/nonexistent/dir", "Target": "/x"}]})
    with pytest.raises(InvalidParameter, match="includes invalid characters"):
        await world.create("c2", host_config={"Binds": ["rel/path:/x"]})
    assert world.store.names() == []


@pytest.mark.root
async def test_copy_up_from_image_layers(world: World, tmp_path: Path) -> None:
    lower, upper = tmp_path / "l0", tmp_path / "l1"
    (lower / "data" / "sub").mkdir(parents=True)
    (lower / "data" / "keep").write_text("lower")
    (lower / "data" / "gone").write_text("deleted above")
    (lower / "data" / "sub" / "old").write_text("hidden by opaque")
    os.chown(lower / "data" / "keep", 1234, 5678)
    (upper / "data" / "sub").mkdir(parents=True)
    os.chmod(upper / "data", 0o750)  # the top layer's mount point decides the root's mode
    os.mknod(upper / "data" / "gone", 0o600 | 0o020000, 0)  # overlay whiteout
    os.setxattr(upper / "data" / "sub", "trusted.overlay.opaque", b"y")
    (upper / "data" / "sub" / "new").write_text("upper")
    os.symlink("/etc/shadow", upper / "data" / "link")
    c = await world.create("c1", config={"Volumes": {"/data": {}}},
                           layers=[str(upper), str(lower)])
    data = world.store.mountpoint(c.mounts[0]["volume"])
    assert sorted(os.listdir(data)) == ["keep", "link", "sub"]
    assert os.listdir(data / "sub") == ["new"]
    st = os.stat(data / "keep")
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert os.stat(data).st_mode & 0o777 == 0o750
    assert os.readlink(data / "link") == "/etc/shadow"  # copied as a link, never followed
    # nocopy, and a volume that already has content, are left alone.
    c2 = await world.create("c2", config={"Volumes": {"/data": {}}},
                            host_config={"Binds": ["empty:/data:nocopy"]},
                            layers=[str(upper), str(lower)])
    assert os.listdir(world.store.mountpoint("empty")) == []
    (world.store.mountpoint("empty") / "mine").write_text("x")
    await world.create("c3", host_config={"Binds": ["empty:/data"]},
                       layers=[str(upper), str(lower)])
    assert os.listdir(world.store.mountpoint("empty")) == ["mine"]
    assert c2.mounts[0]["volume"] == "empty"


@pytest.mark.root
async def test_copy_up_never_follows_a_link_in_a_layer(world: World, tmp_path: Path) -> None:
    """An image whose /opt is a link to a host directory: VOLUME /opt/data must not copy
    the host's /…/data into the volume (the link is the image's, absolute on the host)."""
    host = tmp_path / "host"
    (host / "data").mkdir(parents=True)
    (host / "data" / "secret").write_text("host only")
    lower, upper = tmp_path / "l0", tmp_path / "l1"
    (lower / "opt" / "data").mkdir(parents=True)
    (lower / "opt" / "data" / "from-lower").write_text("hidden by the link above")
    upper.mkdir()
    os.symlink(str(host), upper / "opt")
    c = await world.create("c1", config={"Volumes": {"/opt/data": {}}},
                           layers=[str(upper), str(lower)])
    assert os.listdir(world.store.mountpoint(c.mounts[0]["volume"])) == []


def _mounted(path: Path) -> bool:
    return hostmount.is_mounted(path)


@pytest.mark.root
async def test_option_volumes_are_reference_counted(world: World, tmp_path: Path) -> None:
    svc = world.svc
    await svc.create({"Name": "scratch", "DriverOpts": {"type": "tmpfs", "device": "tmpfs",
                                                        "o": "size=1m"}})
    device = tmp_path / "device"
    device.mkdir()
    await svc.create({"Name": "bound", "DriverOpts": {"type": "none", "device": str(device),
                                                      "o": "bind"}})
    a = await world.create("a", host_config={"Binds": ["scratch:/s", "bound:/b"]})
    b = await world.create("b", host_config={"Binds": ["scratch:/s"]})
    scratch, bound = world.store.mountpoint("scratch"), world.store.mountpoint("bound")
    try:
        assert a.mounts[0]["spec"]["source"] == str(world.store.mountpoint(
            a.mounts[0]["volume"]))  # containers bind _data, mounted or not
        assert not _mounted(scratch)
        await svc.mount(a)
        await svc.mount(a)  # idempotent per container
        await svc.mount(b)
        assert _mounted(scratch) and _mounted(bound)
        (scratch / "shared").write_text("both see it")
        (bound / "through").write_text("to the device")
        assert (device / "through").read_text() == "to the device"
        [vol] = [v for v in await svc.usage() if v["Name"] == "scratch"]
        assert vol["UsageData"]["Size"] == len("both see it")
        await svc.unmount(a)
        assert _mounted(scratch) and not _mounted(bound)
        with pytest.raises(Conflict):
            await svc.remove("scratch", force=False)
        await svc.unmount(b)
        await svc.unmount(b)
        assert not _mounted(scratch)
        assert not (scratch / "shared").exists()  # a tmpfs volume lives while in use
        actions = [a for a, _ in world.actions()]
        assert actions.count("mount") == 3 and actions.count("unmount") == 3
    finally:
        for c in (a, b):
            await svc.unmount(c)
    assert str(tmp_path) not in Path("/proc/mounts").read_text()


@pytest.mark.root
async def test_failed_volume_mount(world: World, tmp_path: Path) -> None:
    await world.svc.create({"Name": "broken", "DriverOpts": {
        "type": "none", "device": str(tmp_path / "nope"), "o": "bind"}})
    await world.svc.create({"Name": "fine", "DriverOpts": {
        "type": "tmpfs", "device": "tmpfs"}})
    c = await world.create("c", host_config={"Binds": ["fine:/a", "broken:/b"]})
    path = world.store.mountpoint("broken")
    with pytest.raises(SystemFailure) as err:
        await world.svc.mount(c)
    assert str(err.value) == (
        f"error while mounting volume '{path}': failed to mount local volume: mount "
        f"{tmp_path}/nope:{path}, flags: 0x1000: no such file or directory")
    assert not _mounted(world.store.mountpoint("fine"))  # the first one was undone
    assert str(tmp_path) not in Path("/proc/mounts").read_text()


@pytest.mark.root
async def test_restore_and_close(world: World, tmp_path: Path) -> None:
    svc = world.svc
    for name in ("left", "live"):
        await svc.create({"Name": name, "DriverOpts": {"type": "tmpfs", "device": "tmpfs"}})
    live = await world.create("live", host_config={"Binds": ["live:/l"]})
    gone = await world.create("gone", host_config={"Binds": ["left:/l"]})
    await svc.mount(live)
    await svc.mount(gone)
    try:
        # A new daemon: nothing in memory; only "live" still runs.
        fresh = VolumeService(world.store, world.events, lambda: world.containers)
        await fresh.restore([live])
        assert _mounted(world.store.mountpoint("live"))
        assert not _mounted(world.store.mountpoint("left"))
        await fresh.close()
        assert _mounted(world.store.mountpoint("live"))  # a live container keeps it
        await fresh.unmount(live)
        assert not _mounted(world.store.mountpoint("live"))
    finally:
        for name in ("left", "live"):
            hostmount.unmount(str(world.store.mountpoint(name)))
    assert str(tmp_path) not in Path("/proc/mounts").read_text()


@pytest.mark.root
async def test_remove_never_deletes_through_a_mount(world: World, tmp_path: Path) -> None:
    device = tmp_path / "precious"
    device.mkdir()
    (device / "keep").write_text("host data")
    await world.svc.create({"Name": "b1", "DriverOpts": {
        "type": "none", "device": str(device), "o": "bind"}})
    hostmount.mount(str(device), str(world.store.mountpoint("b1")), "none", "bind")
    await world.svc.remove("b1", force=False)  # a leftover mount is unmounted first
    assert (device / "keep").read_text() == "host data"
    assert str(tmp_path) not in Path("/proc/mounts").read_text()
