"""Binds/Mounts/Tmpfs parsing: a table of what dockerd accepts, and its exact refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.volumes import mounts


@pytest.mark.parametrize(("spec", "kind", "source", "dest", "ro", "propagation", "nocopy"), [
    ("/data", "volume", "", "/data", False, "", False),
    ("vol:/data", "volume", "vol", "/data", False, "", False),
    ("vol:/data:ro", "volume", "vol", "/data", True, "", False),
    ("vol:/data:nocopy", "volume", "vol", "/data", False, "", True),
    ("vol:/data:ro,nocopy", "volume", "vol", "/data", True, "", True),
    ("/host:/data", "bind", "/host", "/data", False, "", False),
    ("/host/:/data/:rw", "bind", "/host", "/data", False, "", False),
    ("/host:/data:ro,rshared", "bind", "/host", "/data", True, "rshared", False),
    ("/host:/data:z", "bind", "/host", "/data", False, "", False),
    ("/host:/data:Z,slave", "bind", "/host", "/data", False, "slave", False),
    ("/host:/a/../b", "bind", "/host", "/b", False, "", False),
])
def test_binds(spec: str, kind: str, source: str, dest: str, ro: bool, propagation: str,
               nocopy: bool) -> None:
    req = mounts.parse_bind(spec)
    assert (req.type, req.source, req.destination, req.read_only, req.propagation,
            req.nocopy) == (kind, source, dest, ro, propagation, nocopy)
    assert req.create_host_path


@pytest.mark.parametrize(("spec", "message"), [
    ("", "invalid volume specification: ''"),
    (":/x", "invalid volume specification: ':/x'"),
    ("/a:/b:ro:extra", "invalid volume specification: '/a:/b:ro:extra'"),
    ("/data:rw", "invalid volume specification: '/data:rw'"),
    ("/a:/b:bogus", "invalid mode: bogus"),
    ("/a:/b:ro,rw", "invalid mode: ro,rw"),
    ("/a:/b:shared,slave", "invalid mode: shared,slave"),
    ("/a:rel", ("invalid volume specification: '/a:rel': invalid mount config for type "
               "\"bind\": invalid mount path: 'rel' mount path must be absolute")),
    ("vol:rel", ("invalid volume specification: 'vol:rel': invalid mount config for type "
                "\"volume\": invalid mount path: 'rel' mount path must be absolute")),
    ("rel", ("invalid volume specification: 'rel': invalid mount config for type "
            "\"volume\": invalid mount path: 'rel' mount path must be absolute")),
    ("/a:/", ("invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
             "invalid specification: destination can't be '/'")),
])
def test_bad_binds(spec: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        mounts.parse_bind(spec)
    assert str(err.value) == message


def test_mounts_api(tmp_path: Path) -> None:
    bind = mounts.parse_mount({"Type": "bind", "Source": str(tmp_path), "Target": "/x",
                               "ReadOnly": True, "BindOptions": {"Propagation": "rslave"}})
    assert (bind.type, bind.source, bind.read_only, bind.propagation) == (
        "bind", str(tmp_path), True, "rslave")
    assert not bind.create_host_path
    vol = mounts.parse_mount({"Type": "volume", "Source": "v", "Target": "/v",
                              "VolumeOptions": {"NoCopy": True, "Labels": {"a": "b"},
                                                "DriverConfig": {"Options": {"type": "tmpfs",
                                                                             "device": "t"}}}})
    assert vol.nocopy and vol.labels == {"a": "b"}
    assert vol.driver_opts == {"type": "tmpfs", "device": "t"}
    anon = mounts.parse_mount({"Type": "volume", "Target": "/anon"})
    assert anon.source == "" and anon.driver_opts is None
    tmpfs = mounts.parse_mount({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {
        "SizeBytes": 64 << 20, "Mode": 0o1777}})
    assert tmpfs.tmpfs_options == ["size=64m", "mode=1777"]


@pytest.mark.parametrize(("mount", "message"), [
    ({"Type": "bind", "Source": "/nonexistent/x", "Target": "/x"},
     'invalid mount config for type "bind": bind source path does not exist: /nonexistent/x'),
    ({"Type": "bind", "Target": "/x"},
     'invalid mount config for type "bind": field Source must not be empty'),
    ({"Type": "bind", "Source": "/", "Target": ""},
     'invalid mount config for type "bind": field Target must not be empty'),
    ({"Type": "bind", "Source": "/", "Target": "x"},
     ('invalid mount config for type "bind": invalid mount path: \'x\' mount path must be '
     'absolute')),
    ({"Type": "bind", "Source": "/", "Target": "/x", "VolumeOptions": {"NoCopy": True}},
     'invalid mount config for type "bind": field VolumeOptions must not be specified'),
    ({"Type": "volume", "Target": "/x", "BindOptions": {"Propagation": "shared"}},
     'invalid mount config for type "volume": field BindOptions must not be specified'),
    ({"Type": "tmpfs", "Source": "/x", "Target": "/x"},
     'invalid mount config for type "tmpfs": field Source must not be specified'),
    ({"Type": "tmpfs", "Target": "//"},
     ('invalid mount config for type "tmpfs": invalid specification: destination can\'t be '
     "'/'")),
    ({"Type": "npipe", "Target": "/x"}, ('invalid mount config for type "npipe": mount type '
                                        "unknown")),
])
def test_bad_mounts(mount: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameter) as err:
        mounts.parse_mount(mount)
    assert str(err.value) == message


@pytest.mark.parametrize(("size", "expected"), [
    (1 << 30, "size=1g"), (3 << 20, "size=3m"), (3072, "size=3k"), (1000, "size=1000")])
def test_tmpfs_size_units(size: int, expected: str) -> None:
    assert mounts.tmpfs_size_mode({"SizeBytes": size}) == [expected]


def test_tmpfs_options_defaults_and_overrides() -> None:
    plain = mounts.parse_tmpfs("/run", "")
    assert mounts.runtime_mount(plain, "")["options"] == ["nosuid", "nodev", "noexec"]
    custom = mounts.parse_tmpfs("/run", "rw,exec,size=64m,mode=700")
    assert mounts.runtime_mount(custom, "") == {
        "destination": "/run", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev", "size=64m", "mode=700"]}
    ro = mounts.parse_tmpfs("/ro", "ro")
    assert "ro" in mounts.runtime_mount(ro, "")["options"]


def test_precedence_and_duplicates() -> None:
    reqs = mounts.requests_for(
        {"Volumes": {"/data": {}, "/img": {}}},
        {"Binds": ["v:/data"], "Tmpfs": {"/data/tmp": "", "/img": ""}})
    by_dest = {r.destination: r for r in reqs}
    assert by_dest["/data"].source == "v" and not by_dest["/data"].from_image
    assert by_dest["/img"].type == "tmpfs"  # --tmpfs wins over the image VOLUME
    assert [r.destination for r in reqs][-1] == "/data/tmp"  # parents mount first
    with pytest.raises(InvalidParameter, match=r"^Duplicate mount point: /data$"):
        mounts.requests_for({}, {"Binds": ["a:/data", "/h:/data/"]})
    with pytest.raises(InvalidParameter, match=r"^Duplicate mount point: /data$"):
        mounts.requests_for({}, {"Binds": ["a:/data"],
                                 "Mounts": [{"Type": "volume", "Target": "/data"}]})


def test_runtime_and_inspect_shapes() -> None:
    req = mounts.parse_bind("/h:/c:ro")
    assert mounts.runtime_mount(req, "/h") == {
        "destination": "/c", "type": "bind", "source": "/h",
        "options": ["rbind", "ro", "rprivate"]}
    assert mounts.inspect_entry(req, "/h") == {
        "Type": "bind", "Source": "/h", "Destination": "/c", "Mode": "ro", "RW": False,
        "Propagation": "rprivate"}
    vol = mounts.parse_bind("v:/d")
    assert mounts.inspect_entry(vol, "/root/v/_data", "v") == {
        "Type": "volume", "Name": "v", "Source": "/root/v/_data", "Destination": "/d",
        "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""}
    shared = mounts.parse_bind("/h:/c:rshared")
    assert mounts.runtime_mount(shared, "/h")["options"] == ["rbind", "rshared"]


@pytest.mark.parametrize(("spec", "expected"), [
    ("web", ("web", "")), ("web:ro", ("web", "ro")), ("abc123:rw", ("abc123", "rw"))])
def test_volumes_from(spec: str, expected: tuple[str, str]) -> None:
    assert mounts.parse_volumes_from(spec) == expected


def test_volumes_from_bad_mode() -> None:
    with pytest.raises(InvalidParameter, match="invalid mode: bogus"):
        mounts.parse_volumes_from("web:bogus")
