"""Container → runtime spec: a pure description the runtime applies (describe first, act last)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import capabilities, process_env

MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

_RESOURCES = {
    "Memory": "memory", "MemorySwap": "memory_swap", "MemoryReservation": "memory_reservation",
    "CpuShares": "cpu_shares", "CpuQuota": "cpu_quota", "CpuPeriod": "cpu_period",
    "NanoCpus": "nano_cpus", "CpusetCpus": "cpuset_cpus", "CpusetMems": "cpuset_mems",
    "PidsLimit": "pids_limit", "BlkioWeight": "blkio_weight",
    "OomKillDisable": "oom_kill_disable",
}


_BLKIO_DEVICE_LISTS = {  # HostConfig key → (our key, the entry's value field)
    "BlkioWeightDevice": ("weight_device", "Weight"),
    "BlkioDeviceReadBps": ("read_bps", "Rate"), "BlkioDeviceWriteBps": ("write_bps", "Rate"),
    "BlkioDeviceReadIOps": ("read_iops", "Rate"), "BlkioDeviceWriteIOps": ("write_iops", "Rate"),
}


def resources(host_config: dict[str, Any]) -> dict[str, Any]:
    out = {ours: host_config[theirs] for theirs, ours in _RESOURCES.items()
           if host_config.get(theirs) not in (None, 0, "", False)}
    swappiness = host_config.get("MemorySwappiness")
    if swappiness is not None and swappiness != -1:  # 0 is a real setting here
        out["memory_swappiness"] = swappiness
    devices = {ours: [(d["Path"], d[field]) for d in host_config[theirs]]
               for theirs, (ours, field) in _BLKIO_DEVICE_LISTS.items() if host_config.get(theirs)}
    if devices:
        out["blkio_devices"] = devices  # paths: the runtime finds their major:minor
    return out


def security_options(host_config: dict[str, Any]) -> tuple[bool, Any]:
    """(no_new_privileges, seccomp) from --security-opt."""
    nnp = False
    seccomp: Any = "default"
    for opt in host_config.get("SecurityOpt") or []:
        key, _, value = opt.partition("=" if "=" in opt else ":")
        if key == "no-new-privileges":
            nnp = value in ("", "true")
        elif key == "seccomp":
            seccomp = "unconfined" if value == "unconfined" else _profile(value)
    if host_config.get("Privileged"):
        seccomp = "unconfined"
    return nnp, seccomp


def _profile(value: str) -> Any:
    import json
    return json.loads(value)  # the docker CLI sends the file's content, not its path


def build(*, container_id: str, config: dict[str, Any], host_config: dict[str, Any],
          argv: list[str], hostname: str, rootfs: dict[str, Any], bundle: Path, log_path: Path,
          netns: str, mounts: list[dict[str, Any]], user: dict[str, Any],
          cgroup_parent: str, init_path: str | None,
          shared: dict[str, str] | None = None) -> dict[str, Any]:
    """``shared``: the ipc, pid and uts namespaces (namespaces.resolve); new by default."""
    privileged = bool(host_config.get("Privileged"))
    nnp, seccomp = security_options(host_config)
    shm = host_config.get("ShmSize") or 64 * 1024 * 1024
    return {
        "id": container_id,
        "bundle": str(bundle),
        "log_path": str(log_path),
        "rootfs": rootfs,
        "readonly_rootfs": bool(host_config.get("ReadonlyRootfs")),
        "args": argv,
        "env": process_env(config, hostname),
        "cwd": config.get("WorkingDir") or "/",
        "user": user,
        "hostname": hostname,
        "domainname": config.get("Domainname") or "",
        "tty": bool(config.get("Tty")),
        # The size a client asked for at create, so the first output already fits; a
        # resize after start would come too late for a program that asks at once.
        "console_size": [x for x in (host_config.get("ConsoleSize") or []) if x] or None,
        "open_stdin": bool(config.get("OpenStdin")),
        "stdin_once": bool(config.get("StdinOnce")),
        "namespaces": {"ipc": "new", "uts": "new", "pid": "new", **(shared or {}),
                       "net": netns},
        "mounts": mounts,
        "capabilities": capabilities(host_config),
        "privileged": privileged,
        "no_new_privileges": nnp,
        "seccomp": seccomp,
        "masked_paths": [] if privileged else MASKED_PATHS,
        "readonly_paths": [] if privileged else READONLY_PATHS,
        "rlimits": [{"type": u["Name"], "soft": u["Soft"], "hard": u["Hard"]}
                    for u in host_config.get("Ulimits") or []],
        "shm_size": shm,
        "init": init_path,
        "cgroup": {"parent": host_config.get("CgroupParent") or cgroup_parent,
                   "name": container_id, "resources": resources(host_config)},
        "oom_score_adj": host_config.get("OomScoreAdj") or 0,
        "sysctls": host_config.get("Sysctls") or {},
    }
