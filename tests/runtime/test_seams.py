"""The runtime's typed seams: its failure classes, the exit record both sides read, and
the host knowledge the engine imports from it (atomic write, mount flags, cgroup v2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydocker.engine.host import atomic, mount, sysinfo
from pydocker.engine.runtime import atomic as runtime_atomic
from pydocker.engine.runtime import client, errors, exits, process, syscalls


def test_failures_form_one_hierarchy() -> None:
    assert client.StartError is errors.StartError
    start = errors.StartError("exec: \"nope\": executable file not found in $PATH", 127)
    assert isinstance(start, errors.RuntimeFailure) and start.exit_code == 127
    assert start.to_json() == {"error": str(start), "exit_code": 127}
    assert issubclass(process.ExecError, errors.StartError)
    assert str(errors.SpawnerGone()) == "the runtime's spawner exited"
    assert issubclass(errors.SpawnerError, errors.RuntimeFailure)
    assert not issubclass(errors.RuntimeFailure, RuntimeError)


def test_exit_record_round_trip(tmp_path: Path) -> None:
    assert exits.read(tmp_path) is None
    status = exits.ExitStatus(137, oom_killed=True, finished_at="2026-01-01T00:00:00Z")
    exits.record(tmp_path, status)
    assert exits.read(tmp_path) == status
    assert client.ExitStatus is exits.ExitStatus
    assert sorted(os.listdir(tmp_path)) == ["exit.json"]  # no temp file left behind


def test_exit_codes_follow_docker() -> None:
    assert exits.exit_code_of(3 << 8) == 3
    assert exits.exit_code_of(9) == 137  # killed by SIGKILL


def test_one_atomic_writer(tmp_path: Path) -> None:
    assert atomic.write_atomic is runtime_atomic.write_atomic
    target = tmp_path / "state.json"
    atomic.write_atomic(target, b"one")
    atomic.write_atomic(str(target), b"two")
    assert target.read_bytes() == b"two" and os.listdir(tmp_path) == ["state.json"]


def test_one_mount_wrapper() -> None:
    assert mount.mount is syscalls.mount and mount.umount2 is syscalls.umount2
    assert mount.MS_BIND == syscalls.MS_BIND == 0x1000


def test_one_cgroup_v2_test(tmp_path: Path) -> None:
    assert not sysinfo.probe(str(tmp_path)).v2
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    info = sysinfo.probe(str(tmp_path))
    assert info.v2 and info.memory_limit and info.pids_limit and not info.cpu_cfs


@pytest.mark.root
def test_info_reports_the_probe() -> None:
    from pydocker.engine import system
    info, probe = system.host_info(), sysinfo.probe()
    assert (info["MemoryLimit"], info["PidsLimit"], info["SwapLimit"], info["CPUSet"],
            info["OomKillDisable"]) == (probe.memory_limit, probe.pids_limit,
                                        probe.swap_limit, probe.cpuset, probe.oom_kill_disable)
    assert info["CgroupVersion"] == ("2" if probe.v2 else "1")
