"""What the host's cgroups can enforce, probed from /sys/fs/cgroup as dockerd's
pkg/sysinfo does, so a limit the host cannot honour is discarded with Docker's warning
at create time instead of being written nowhere, or failing the start, and ``/info``
reports the same flags.

The v1/v2 test is the runtime's (``engine/runtime/cgroups.py``, which must make it
inside the zygote): one definition of "this host is cgroup v2".
"""

from __future__ import annotations

import dataclasses
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
    # Not a cgroup but a limit the kernel puts on every process the same way: the lowest
    # oom_score_adj a container may get (-1000 with CAP_SYS_RESOURCE).
    oom_score_adj_min: int = -1000
    # CAP_SYS_RESOURCE: without it no hard rlimit can be raised above the daemon's own.
    sys_resource: bool = True


def probe(root: str = CGROUP_ROOT) -> CgroupInfo:
    if is_v2(root):
        return _probe_v2(root)
    return _probe_v1(root)


def probe_limits(root: str = CGROUP_ROOT) -> CgroupInfo:
    """``probe`` plus the OOM score floor, which costs writes: once per daemon."""
    return dataclasses.replace(probe(root), oom_score_adj_min=lowest_oom_score_adj(),
                               sys_resource=has_capability(CAP_SYS_RESOURCE))


CAP_SYS_RESOURCE = 24


def has_capability(bit: int, status: str = "/proc/self/status") -> bool:
    """Whether this process holds a capability in its effective set (CapEff)."""
    with open(status) as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    return False


OOM_SCORE_ADJ = "/proc/self/oom_score_adj"


def lowest_oom_score_adj(path: str = OOM_SCORE_ADJ) -> int:
    """The lowest oom_score_adj this process (and so every container it starts, which
    inherits the kernel's oom_score_adj_min through fork) may write. Without
    CAP_SYS_RESOURCE a value below that minimum fails with EACCES; the minimum is not
    shown anywhere, so it is found by writing our own (raising it back always works)."""
    with open(path) as f:
        current = int(f.read())

    def can_write(value: int) -> bool:
        try:
            with open(path, "w") as f:
                f.write(str(value))
            return True
        except OSError:
            return False

    try:
        if can_write(-1000):
            return -1000
        low, high = -1000, current  # can't write low; current always can be written
        while high - low > 1:
            mid = (low + high) // 2
            if can_write(mid):
                high = mid
            else:
                low = mid
        return high
    finally:
        can_write(current)


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
