"""Fixtures for the runtime's kernel tests: a started Runtime on a temporary exec root, a
spec factory over the busybox rootfs, and a leak check after every test (mounts,
cgroups, processes)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydocker.engine.runtime.client import Runtime
from pydocker.engine.runtime.spec import DEFAULT_CAPABILITIES

CGROUP_ROOT = Path("/sys/fs/cgroup")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture(scope="session")
def cgroup_parent() -> Any:
    """A parent of our own, so parallel runs by others never meet our cgroups."""
    name = f"pydocker-test-{uuid.uuid4().hex[:8]}"
    yield name
    for hierarchy in CGROUP_ROOT.iterdir():
        for candidate in (hierarchy / name, CGROUP_ROOT / name):
            if candidate.is_dir():
                os.rmdir(candidate)


def _cgroup_dirs(parent: str, cid: str) -> list[Path]:
    found = [h / parent / cid for h in CGROUP_ROOT.iterdir() if (h / parent / cid).is_dir()]
    return found + ([CGROUP_ROOT / parent / cid] if (CGROUP_ROOT / parent / cid).is_dir() else [])


def _processes_under(path: Path) -> list[int]:
    """Live processes whose cwd is inside ``path`` (shims chdir into their bundle)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue  # gone, or a zombie
        if cwd.startswith(str(path)):
            out.append(int(entry))
    return out


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = Runtime(tmp_path / "exec")
    await rt.start()
    yield rt
    await rt.close()


@pytest.fixture
async def make_spec(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path,
                    cgroup_parent: str) -> Any:
    """spec(args, **overrides) -> a runtime spec. Afterwards every container made is
    deleted (what the daemon does after exit) and nothing may remain."""
    made: list[dict[str, Any]] = []

    def build(args: list[str], **overrides: Any) -> dict[str, Any]:
        cid = uuid.uuid4().hex[:16]
        layer = tmp_path / "layers" / cid
        (layer / "upper").mkdir(parents=True)
        (layer / "work").mkdir()
        spec: dict[str, Any] = {
            "id": cid,
            "bundle": str(tmp_path / "exec" / "containers" / cid),
            "log_path": str(layer / "log.json"),
            "rootfs": {"lower": [str(busybox_rootfs)], "upper": str(layer / "upper"),
                       "work": str(layer / "work")},
            "args": args,
            "env": [PATH_ENV, "HOME=/root"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "hostname": "rt-test",
            "namespaces": {"net": "none"},
            "capabilities": list(DEFAULT_CAPABILITIES),
            "seccomp": "default",
            "masked_paths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonly_paths": ["/proc/sys", "/proc/sysrq-trigger"],
            "cgroup": {"parent": cgroup_parent, "name": cid, "resources": {}},
        }
        spec.update(overrides)
        made.append(spec)
        return spec

    yield build

    for spec in made:
        await runtime.delete(spec["id"])
    mounts = Path("/proc/mounts").read_text()
    assert str(tmp_path) not in mounts, "a mount leaked onto the host"
    for spec in made:
        assert not _cgroup_dirs(cgroup_parent, spec["id"]), f"cgroups left for {spec['id']}"
    assert not _processes_under(tmp_path), "a shim or container process is still running"


SpecFactory = Callable[..., dict[str, Any]]
