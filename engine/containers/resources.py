"""Resource limits the host cannot honour: discarded with dockerd's warning (its
verifyPlatformContainerResources, same order and wording), or refused with its error.

The host config is changed in place, so inspect shows what is really enforced."""

from __future__ import annotations

import logging
import resource
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.sysinfo import CgroupInfo

from .config import MIN_MEMORY

log = logging.getLogger(__name__)

_BLKIO_DEVICE_LISTS = (  # HostConfig key, CgroupInfo feature, what, what is dropped
    ("BlkioWeightDevice", "blkio_weight_device", "Block I/O weight_device",
     "Weight-device discarded."),
    ("BlkioDeviceReadBps", "blkio_throttle", "BPS Block I/O read limit",
     "Block I/O BPS read limit discarded."),
    ("BlkioDeviceWriteBps", "blkio_throttle", "BPS Block I/O write limit",
     "Block I/O BPS write limit discarded."),
    ("BlkioDeviceReadIOps", "blkio_throttle", "IOPS Block read limit",
     "Block I/O IOPS read limit discarded."),
    ("BlkioDeviceWriteIOps", "blkio_throttle", "IOPS Block write limit",
     "Block I/O IOPS write limit discarded."),
)


def verify(hc: dict[str, Any], info: CgroupInfo, update: bool = False) -> list[str]:
    warnings = _memory(hc, info, update)
    warnings += _cpu(hc, info)
    warnings += _blkio(hc, info)
    warnings += _oom_score_adj(hc, info)
    warnings += _ulimits(hc, info)
    for text in warnings:
        log.warning("%s", text)
    return warnings


def _oom_score_adj(hc: dict[str, Any], info: CgroupInfo) -> list[str]:
    """Raised to the lowest value the host lets us write, never a failed start: without
    CAP_SYS_RESOURCE (nested and CI hosts) cri-dockerd's -998 for every pod sandbox
    would otherwise keep any pod from starting (dockerd's runc fails there)."""
    wanted = hc.get("OomScoreAdj") or 0
    if wanted >= info.oom_score_adj_min:
        return []
    hc["OomScoreAdj"] = info.oom_score_adj_min
    floor = info.oom_score_adj_min
    warning = (f"Your kernel does not allow an OOM score adjustment below {floor} (no "
               f"CAP_SYS_RESOURCE). OomScoreAdj {wanted} raised to {floor}.")
    return [warning]


def _memory(hc: dict[str, Any], info: CgroupInfo, update: bool) -> list[str]:
    warnings: list[str] = []
    memory = hc.get("Memory") or 0
    if memory > 0 and not info.memory_limit:
        warnings.append("Your kernel does not support memory limit capabilities or the cgroup "
                        "is not mounted. Limitation discarded.")
        hc["Memory"], hc["MemorySwap"], memory = 0, -1, 0
    swap = hc.get("MemorySwap") or 0
    if memory > 0 and swap != -1 and not info.swap_limit:
        warnings.append("Your kernel does not support swap limit capabilities or the cgroup "
                        "is not mounted. Memory limited without swap.")
        hc["MemorySwap"] = swap = -1
    if memory > 0 and swap > 0 and swap < memory:
        raise InvalidParameter(
            "Minimum memoryswap limit should be larger than memory limit, see usage")
    if memory == 0 and swap > 0 and not update:
        raise InvalidParameter(
            "You should always set the Memory limit when using Memoryswap limit, see usage")
    swappiness = hc.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1 and not info.memory_swappiness:
        warnings.append("Your kernel does not support memory swappiness capabilities or the "
                        "cgroup is not mounted. Memory swappiness discarded.")
        hc["MemorySwappiness"] = swappiness = None
    if swappiness is not None and swappiness != -1 and not 0 <= swappiness <= 100:
        raise InvalidParameter(
            f"Invalid value: {swappiness}, valid memory swappiness range is 0-100")
    reservation = hc.get("MemoryReservation") or 0
    if reservation > 0 and not info.memory_reservation:
        warnings.append("Your kernel does not support memory soft limit capabilities or the "
                        "cgroup is not mounted. Limitation discarded.")
        hc["MemoryReservation"] = reservation = 0
    if 0 < reservation < MIN_MEMORY:
        raise InvalidParameter("Minimum memory reservation allowed is 6MB")
    if memory > 0 and reservation > 0 and memory < reservation:
        raise InvalidParameter(
            "Minimum memory limit can not be less than memory reservation limit, see usage")
    if (hc.get("KernelMemory") or 0) > 0:
        # Never enforced here (kmem limits are deprecated since kernel 5.4, absent on v2).
        warnings.append("Your kernel does not support kernel memory limit capabilities or "
                        "the cgroup is not mounted. Limitation discarded.")
        hc["KernelMemory"] = 0
    if hc.get("OomKillDisable") is not None and not info.oom_kill_disable:
        if hc["OomKillDisable"]:
            warnings.append(
                "Your kernel does not support OomKillDisable. OomKillDisable discarded.")
        hc["OomKillDisable"] = None
    if hc.get("OomKillDisable") and memory == 0:
        warnings.append("OOM killer is disabled for the container, but no memory limit is "
                        "set, this can result in the system running out of resources.")
    pids = hc.get("PidsLimit")
    if pids is not None and not info.pids_limit:
        if pids > 0:
            warnings.append("Your kernel does not support PIDs limit capabilities or the "
                            "cgroup is not mounted. PIDs limit discarded.")
        hc["PidsLimit"] = None
    return warnings


def _cpu(hc: dict[str, Any], info: CgroupInfo) -> list[str]:
    warnings: list[str] = []
    if (hc.get("NanoCpus") or 0) > 0 and not info.cpu_cfs:
        raise InvalidParameter("NanoCPUs can not be set, as your kernel does not support CPU "
                               "CFS scheduler or the cgroup is not mounted")
    if (hc.get("CpuShares") or 0) > 0 and not info.cpu_shares:
        warnings.append("Your kernel does not support CPU shares or the cgroup is not "
                        "mounted. Shares discarded.")
        hc["CpuShares"] = 0
    if (hc.get("CpuPeriod") or hc.get("CpuQuota")) and not info.cpu_cfs:
        warnings.append(
            "Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.")
        hc["CpuPeriod"] = hc["CpuQuota"] = 0
    period = hc.get("CpuPeriod") or 0
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidParameter("CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
                               "than 1s (i.e. 1000000)")
    if 0 < (hc.get("CpuQuota") or 0) < 1000:
        raise InvalidParameter("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if (hc.get("CpusetCpus") or hc.get("CpusetMems")) and not info.cpuset:
        warnings.append("Your kernel does not support cpuset or the cgroup is not mounted. "
                        "Cpuset discarded.")
        hc["CpusetCpus"] = hc["CpusetMems"] = ""
    return warnings


def _blkio(hc: dict[str, Any], info: CgroupInfo) -> list[str]:
    warnings: list[str] = []
    if (hc.get("BlkioWeight") or 0) > 0 and not info.blkio_weight:
        warnings.append("Your kernel does not support Block I/O weight or the cgroup is not "
                        "mounted. Weight discarded.")
        hc["BlkioWeight"] = 0
    weight = hc.get("BlkioWeight") or 0
    if weight and not 10 <= weight <= 1000:
        raise InvalidParameter("Range of blkio weight is from 10 to 1000")
    for key, feature, what, dropped in _BLKIO_DEVICE_LISTS:
        if hc.get(key) and not getattr(info, feature):
            warnings.append(f"Your kernel does not support {what} or the cgroup is not "
                            f"mounted. {dropped}")
            hc[key] = []
    return warnings


def _ulimits(hc: dict[str, Any], info: CgroupInfo) -> list[str]:
    """A hard limit above the daemon's own cannot be set without CAP_SYS_RESOURCE (runc
    fails the start with EPERM there): lowered to the host's, with a warning."""
    if info.sys_resource:
        return []
    warnings = []
    for ulimit in hc.get("Ulimits") or []:
        kind = getattr(resource, "RLIMIT_" + str(ulimit.get("Name", "")).upper(), None)
        if kind is None:
            continue
        host_hard = resource.getrlimit(kind)[1]
        if host_hard == resource.RLIM_INFINITY or ulimit.get("Hard", 0) <= host_hard:
            continue
        warnings.append(f"Your host does not allow raising the {ulimit['Name']} hard limit "
                        f"above {host_hard} (no CAP_SYS_RESOURCE). Ulimit {ulimit['Name']} "
                        f"lowered to {host_hard}.")
        ulimit["Hard"] = host_hard
        ulimit["Soft"] = min(ulimit.get("Soft", host_hard), host_hard)
    return warnings
