"""Container → runtime spec: a description the runtime applies (describe first, act last);
pure but for a look at which sysctls the host's kernel has."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from pydocker.engine.runtime.spec import LogSpec

from . import shm
from .config import capabilities, process_env

MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


# dockerd's defaults for a network namespace of the container's own (oci_linux.go): ping
# without CAP_NET_RAW, and any port without CAP_NET_BIND_SERVICE (both granted anyway).
DEFAULT_NET_SYSCTLS = {"net.ipv4.ping_group_range": "0 2147483647",
                       "net.ipv4.ip_unprivileged_port_start": "0"}


def default_sysctls(hc: dict[str, Any]) -> dict[str, str]:
    """Not with the host's network nor one joined (container:<id>), and only those the
    host's kernel has."""
    mode = hc.get("NetworkMode") or "bridge"
    if mode == "host" or mode.startswith("container:"):
        return {}
    return {k: v for k, v in DEFAULT_NET_SYSCTLS.items() if _kernel_has(k)}


@functools.cache
def _kernel_has(key: str) -> bool:
    """Asked once per daemon: the kernel's sysctls do not come and go."""
    return os.path.exists("/proc/sys/" + key.replace(".", "/"))


def settle_paths(hc: dict[str, Any]) -> None:
    """At create, as dockerd: MaskedPaths and ReadonlyPaths not given (null) become the
    defaults, so inspect shows what applies; a list given replaces them (an empty one
    means none). A privileged container gets none whatever was asked (see build)."""
    if hc.get("Privileged"):
        return
    for key, default in (("MaskedPaths", MASKED_PATHS), ("ReadonlyPaths", READONLY_PATHS)):
        if hc.get(key) is None:
            hc[key] = list(default)


def _paths(hc: dict[str, Any], key: str, default: list[str]) -> list[str]:
    if hc.get("Privileged"):
        return []
    given = hc.get(key)
    return list(default if given is None else given)  # None: a record from before

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
          log: LogSpec, netns: str, namespaces: dict[str, str], mounts: list[dict[str, Any]],
          user: dict[str, Any], cgroup_parent: str, init_path: str | None
          ) -> dict[str, Any]:
    """``namespaces``: the ipc, pid and uts entries (namespaces.namespace_paths)."""
    privileged = bool(host_config.get("Privileged"))
    nnp, seccomp = security_options(host_config)
    shm_size = host_config.get("ShmSize") or shm.DEFAULT_SHM_SIZE
    return {
        "id": container_id,
        "bundle": str(bundle),
        "log_path": str(log_path),
        "log": log,
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
        "namespaces": {"net": netns, **namespaces},
        "dev_shm": shm.own_tmpfs(host_config, mounts),
        "mounts": mounts,
        "capabilities": capabilities(host_config),
        "privileged": privileged,
        "no_new_privileges": nnp,
        "seccomp": seccomp,
        "masked_paths": _paths(host_config, "MaskedPaths", MASKED_PATHS),
        "readonly_paths": _paths(host_config, "ReadonlyPaths", READONLY_PATHS),
        "rlimits": [{"type": u["Name"], "soft": u["Soft"], "hard": u["Hard"]}
                    for u in host_config.get("Ulimits") or []],
        "shm_size": shm_size,
        "init": init_path,
        "cgroup": {"parent": host_config.get("CgroupParent") or cgroup_parent,
                   "name": container_id, "resources": resources(host_config)},
        "oom_score_adj": host_config.get("OomScoreAdj") or 0,
        "sysctls": {**default_sysctls(host_config), **(host_config.get("Sysctls") or {})},
    }
