"""Limits a host cannot enforce: dockerd's warnings, discards and refusals, per host kind."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydocker.engine.containers.resources import verify
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.sysinfo import CgroupInfo, probe

V1_FULL = CgroupInfo(v2=False, memory_limit=True, swap_limit=True, memory_reservation=True,
                     memory_swappiness=True, oom_kill_disable=True, pids_limit=True,
                     cpu_shares=True, cpu_cfs=True, cpuset=True, blkio_weight=True,
                     blkio_weight_device=True, blkio_throttle=True)
V2_NO_CONTROLLERS = CgroupInfo(v2=True)  # e.g. a hybrid host's /sys/fs/cgroup/unified


def test_a_fully_capable_v1_host_keeps_everything() -> None:
    hc = {"Memory": 64 << 20, "MemorySwap": 128 << 20, "MemorySwappiness": 10,
          "OomKillDisable": True, "PidsLimit": 5, "CpuShares": 512, "BlkioWeight": 300,
          "CpusetCpus": "0"}
    assert verify(dict(hc), V1_FULL) == []


def test_v2_discards_the_v1_only_settings_with_dockers_words() -> None:
    info = replace(V2_NO_CONTROLLERS, memory_limit=True, swap_limit=True,
                   memory_reservation=True)
    hc = {"Memory": 64 << 20, "MemorySwappiness": 30, "OomKillDisable": True}
    assert verify(hc, info) == [
        ("Your kernel does not support memory swappiness capabilities or the cgroup is not "
         "mounted. Memory swappiness discarded."),
        "Your kernel does not support OomKillDisable. OomKillDisable discarded."]
    assert hc["MemorySwappiness"] is None and hc["OomKillDisable"] is None
    assert hc["Memory"] == 64 << 20


def test_missing_controllers_drop_their_limits() -> None:
    hc = {"Memory": 64 << 20, "PidsLimit": 10, "CpuShares": 100, "CpuQuota": 50000,
          "CpusetCpus": "0", "BlkioWeight": 500, "BlkioDeviceReadBps": [{"Path": "/dev/x",
                                                                       "Rate": 1}]}
    warnings = verify(hc, V2_NO_CONTROLLERS)
    assert [w.split(" or the cgroup")[0].split(". ")[0] for w in warnings] == [
        "Your kernel does not support memory limit capabilities",
        "Your kernel does not support PIDs limit capabilities",
        "Your kernel does not support CPU shares",
        "Your kernel does not support CPU CFS scheduler",
        "Your kernel does not support cpuset",
        "Your kernel does not support Block I/O weight",
        "Your kernel does not support BPS Block I/O read limit"]
    assert (hc["Memory"], hc["MemorySwap"], hc["PidsLimit"], hc["CpuShares"],
            hc["CpuQuota"], hc["CpusetCpus"], hc["BlkioWeight"],
            hc["BlkioDeviceReadBps"]) == (0, -1, None, 0, 0, "", 0, [])


def test_nano_cpus_without_cfs_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="NanoCPUs can not be set"):
        verify({"NanoCpus": 500_000_000}, V2_NO_CONTROLLERS)


@pytest.mark.parametrize(("hc", "message"), [
    ({"CpuPeriod": 999}, "CPU cfs period can not be less than 1ms"),
    ({"CpuQuota": 10}, "CPU cfs quota can not be less than 1ms"),
    ({"Memory": 64 << 20, "MemorySwap": 8 << 20}, "Minimum memoryswap limit"),
    ({"MemorySwap": 8 << 20}, "You should always set the Memory limit"),
    ({"MemoryReservation": 1024}, "Minimum memory reservation allowed is 6MB"),
    ({"Memory": 8 << 20, "MemoryReservation": 16 << 20}, "Minimum memory limit can not be less"),
    ({"MemorySwappiness": -5}, "valid memory swappiness range is 0-100"),
    ({"BlkioWeight": 5}, "Range of blkio weight is from 10 to 1000"),
])
def test_values_docker_refuses(hc: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        verify(hc, V1_FULL)


def test_update_may_set_swap_alone() -> None:
    assert verify({"MemorySwap": 64 << 20}, V1_FULL, update=True) == []


def test_probe_reads_this_host() -> None:
    info = probe()
    assert isinstance(info.v2, bool)
    if not info.v2:
        import os
        assert info.memory_limit == os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")


def test_oom_score_adj_below_the_hosts_floor_is_raised_with_a_warning() -> None:
    info = replace(V1_FULL, oom_score_adj_min=0)  # no CAP_SYS_RESOURCE, daemon at 0
    hc = {"OomScoreAdj": -998}
    assert verify(hc, info) == [(
        "Your kernel does not allow an OOM score adjustment below 0 (no CAP_SYS_RESOURCE). "
        "OomScoreAdj -998 raised to 0.")]
    assert hc["OomScoreAdj"] == 0
    kept = {"OomScoreAdj": 500}
    assert verify(kept, info) == [] and kept["OomScoreAdj"] == 500
    assert verify({"OomScoreAdj": -998}, V1_FULL) == []  # the default floor: -1000


def test_ulimits_above_the_hosts_hard_limit_are_lowered_without_cap_sys_resource() -> None:
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here")
    hc = {"Ulimits": [{"Name": "nofile", "Soft": hard + 10, "Hard": hard + 10},
                      {"Name": "nproc", "Soft": 10, "Hard": 10}]}
    assert verify(hc, replace(V1_FULL, sys_resource=False)) == [(
        f"Your host does not allow raising the nofile hard limit above {hard} (no "
        f"CAP_SYS_RESOURCE). Ulimit nofile lowered to {hard}.")]
    assert hc["Ulimits"][0] == {"Name": "nofile", "Soft": hard, "Hard": hard}
    assert hc["Ulimits"][1]["Hard"] == 10
    assert verify({"Ulimits": [{"Name": "nofile", "Soft": hard + 10, "Hard": hard + 10}]},
                  V1_FULL) == []
