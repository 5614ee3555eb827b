"""What the host's cgroups can enforce, probed from /sys/fs/cgroup as dockerd's
pkg/sysinfo does, so a limit the host cannot honour is discarded with Docker's warning
at create time instead of being written nowhere, or failing the start, and ``/info``
reports the same flags.

The v1/v2 test is the runtime's (``engine/runtime/cgroups.py``, which must make it
inside the zygote): one definition of "this host is cgroup v2".
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pydocker.engine.runtime.cgroups import ROOT as CGROUP_ROOT
from pydocker.engine.runtime.cgroups import is_v2


@dataclass(frozen=True)
class CgroupInfo:
    v2: bool = False
    memory_limit: bool = False
    swap_limit: bool = False
    memory_reservation: bool = False
    memory_swappiness: bool = False
    oom_kill_disable: bool = False
    pids_limit: bool = False
    cpu_shares: bool = False
    cpu_cfs: bool = False
    cpuset: bool = False
    blkio_weight: bool = False
    blkio_weight_device: bool = False
    blkio_throttle: bool = False  # read/write bps and iops per device


def probe(root: str = CGROUP_ROOT) -> CgroupInfo:
    if is_v2(root):
        return _probe_v2(root)
    return _probe_v1(root)


def _probe_v1(root: str) -> CgroupInfo:
    def has(controller: str, name: str) -> bool:
        return os.path.exists(f"{root}/{controller}/{name}")

    return CgroupInfo(
        v2=False,
        memory_limit=has("memory", "memory.limit_in_bytes"),
        swap_limit=has("memory", "memory.memsw.limit_in_bytes"),
        memory_reservation=has("memory", "memory.soft_limit_in_bytes"),
        memory_swappiness=has("memory", "memory.swappiness"),
        oom_kill_disable=has("memory", "memory.oom_control"),
        pids_limit=has("pids", "pids.max") or os.path.isdir(f"{root}/pids"),
        cpu_shares=has("cpu", "cpu.shares"),
        cpu_cfs=has("cpu", "cpu.cfs_quota_us"),
        cpuset=has("cpuset", "cpuset.cpus"),
        # Only the CFQ/BFQ schedulers have weights; mq-deadline hosts have just throttles.
        blkio_weight=has("blkio", "blkio.weight"),
        blkio_weight_device=has("blkio", "blkio.weight_device"),
        blkio_throttle=has("blkio", "blkio.throttle.read_bps_device"),
    )


def _probe_v2(root: str) -> CgroupInfo:
    """On v2 a controller is usable when the root offers it; memory.swappiness, the
    OOM-killer switch and kernel memory do not exist there at all (as in dockerd)."""
    try:
        with open(f"{root}/cgroup.controllers") as f:
            controllers = set(f.read().split())
    except OSError:
        controllers = set()
    memory, cpu, io = "memory" in controllers, "cpu" in controllers, "io" in controllers
    return CgroupInfo(
        v2=True,
        memory_limit=memory, swap_limit=memory, memory_reservation=memory,
        pids_limit="pids" in controllers,
        cpu_shares=cpu, cpu_cfs=cpu,
        cpuset="cpuset" in controllers,
        blkio_weight=io, blkio_weight_device=io, blkio_throttle=io,
    )
