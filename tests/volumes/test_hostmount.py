"""Option parsing like moby/sys/mount, and real mounts of tmpfs and bind-style volumes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydocker.engine.host import mount as mf
from pydocker.volumes import hostmount as hm


@pytest.mark.parametrize(("options", "flags", "data"), [
    ("", 0, ""),
    ("size=64m,uid=1000", 0, "size=64m,uid=1000"),
    ("bind", mf.MS_BIND, ""),
    ("rbind,ro", mf.MS_BIND | mf.MS_REC | mf.MS_RDONLY, ""),
    ("ro,rw", 0, ""),
    ("nosuid,nodev,noexec,size=1m", mf.MS_NOSUID | mf.MS_NODEV | mf.MS_NOEXEC, "size=1m"),
    ("noexec,exec", 0, ""),
    ("addr=10.0.0.1,rw,nfsvers=4", 0, "addr=10.0.0.1,nfsvers=4"),
    ("rshared", mf.MS_SHARED | mf.MS_REC, ""),
])
def test_parse_options(options: str, flags: int, data: str) -> None:
    assert hm.parse_options(options) == (flags, data)


def test_mountinfo_parsing() -> None:
    info = ("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
            "40 22 0:50 / /var/lib/with\\040space rw - tmpfs tmpfs rw\n")
    assert hm.mountpoints(info) == {"/", "/var/lib/with space"}


def test_error_wording() -> None:
    err = hm.MountError("mount", "/nope", "/v/_data", mf.MS_BIND, "", 2)
    assert str(err) == "mount /nope:/v/_data, flags: 0x1000: no such file or directory"


@pytest.mark.root
def test_tmpfs_mount_and_unmount(tmp_path: Path) -> None:
    target = tmp_path / "_data"
    target.mkdir()
    hm.mount("tmpfs", str(target), "tmpfs", "size=1m,mode=0700,noexec")
    try:
        assert hm.is_mounted(target)
        line = next(ln for ln in Path("/proc/mounts").read_text().splitlines()
                    if f" {target} " in ln)
        assert line.split()[2] == "tmpfs" and "noexec" in line and "size=1024k" in line
        assert os.stat(target).st_mode & 0o777 == 0o700
    finally:
        hm.unmount(str(target))
    assert not hm.is_mounted(target)
    assert str(tmp_path) not in Path("/proc/mounts").read_text()
    hm.unmount(str(target))  # not mounted: fine


@pytest.mark.root
def test_read_only_bind(tmp_path: Path) -> None:
    device, target = tmp_path / "device", tmp_path / "_data"
    device.mkdir()
    target.mkdir()
    (device / "f").write_text("host")
    hm.mount(str(device), str(target), "none", "bind,ro")
    try:
        assert (target / "f").read_text() == "host"
        with pytest.raises(OSError) as err:
            (target / "g").write_text("x")
        assert err.value.errno == 30  # EROFS: the kernel enforces it
    finally:
        hm.unmount(str(target))
    assert str(tmp_path) not in Path("/proc/mounts").read_text()


@pytest.mark.root
def test_failed_mount_names_what_was_tried(tmp_path: Path) -> None:
    target = tmp_path / "_data"
    target.mkdir()
    with pytest.raises(hm.MountError) as err:
        hm.mount(str(tmp_path / "missing"), str(target), "none", "bind")
    assert str(err.value) == (f"mount {tmp_path}/missing:{target}, flags: 0x1000: "
                              "no such file or directory")
