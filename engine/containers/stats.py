"""``GET /containers/{id}/stats`` in Docker's shape, from the container's cgroup figures.

``system_cpu_usage`` is the host's total CPU time from /proc/stat *including idle*, in
nanoseconds, and ``precpu_stats`` is the previous sample: the docker CLI's CPU % is
(Δ total_usage / Δ system_cpu_usage) × online_cpus × 100.
"""

from __future__ import annotations

import os
from typing import Any

from pydocker.engine.system import mem_total
from pydocker.engine.timeutil import ZERO_TIME, rfc3339_now

from .model import Container

_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def system_cpu_ns() -> int:
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:9]  # user nice system idle iowait irq softirq steal
    return sum(int(x) for x in fields) * _TICK_NS


def network_stats(pid: int) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]
    except OSError:
        return out
    for line in lines:
        name, _, rest = line.partition(":")
        name = name.strip()
        if name == "lo":
            continue
        v = [int(x) for x in rest.split()]
        out[name] = {"rx_bytes": v[0], "rx_packets": v[1], "rx_errors": v[2],
                     "rx_dropped": v[3], "tx_bytes": v[8], "tx_packets": v[9],
                     "tx_errors": v[10], "tx_dropped": v[11]}
    return out


def _cpu(raw: dict[str, Any], online: int) -> dict[str, Any]:
    return {
        "cpu_usage": {"total_usage": raw.get("cpu_total_ns", 0),
                      "percpu_usage": raw.get("cpu_percpu_ns") or None,
                      "usage_in_kernelmode": raw.get("cpu_system_ns", 0),
                      "usage_in_usermode": raw.get("cpu_user_ns", 0)},
        "system_cpu_usage": system_cpu_ns(),
        "online_cpus": online,
        "throttling_data": raw.get("throttling") or {"periods": 0, "throttled_periods": 0,
                                                     "throttled_time": 0},
    }


EMPTY_CPU = {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0,
                           "usage_in_usermode": 0},
             "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def sample(c: Container, raw: dict[str, Any] | None, previous: dict[str, Any] | None
           ) -> dict[str, Any]:
    """One stats object; ``raw`` is the cgroup figures (None for a stopped container)."""
    base: dict[str, Any] = {"read": rfc3339_now(), "name": "/" + c.name, "id": c.id,
                            "num_procs": 0, "storage_stats": {}}
    base["preread"] = previous["read"] if previous else ZERO_TIME
    base["precpu_stats"] = previous["cpu_stats"] if previous else EMPTY_CPU
    if raw is None:
        base.update({"pids_stats": {}, "blkio_stats": {"io_service_bytes_recursive": None},
                     "cpu_stats": EMPTY_CPU, "memory_stats": {}})
        return base
    online = len(raw.get("cpu_percpu_ns") or []) or os.cpu_count() or 1
    limit = raw.get("memory_limit") or 0
    host = mem_total()
    base.update({
        "pids_stats": {"current": raw.get("pids_current", 0),
                       **({"limit": raw["pids_limit"]} if raw.get("pids_limit") else {})},
        "blkio_stats": {"io_service_bytes_recursive": raw.get("blkio") or None,
                        "io_serviced_recursive": None, "io_queue_recursive": None,
                        "io_service_time_recursive": None, "io_wait_time_recursive": None,
                        "io_merged_recursive": None, "io_time_recursive": None,
                        "sectors_recursive": None},
        "cpu_stats": _cpu(raw, online),
        "memory_stats": {"usage": raw.get("memory_usage", 0),
                         "max_usage": raw.get("memory_max_usage", 0),
                         "stats": raw.get("memory_stats") or {},
                         "failcnt": raw.get("memory_failcnt", 0),
                         "limit": min(limit, host) if limit else host},
        "networks": network_stats(c.state.pid),
    })
    return base
