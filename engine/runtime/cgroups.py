"""cgroups behind one small interface: v1 hierarchies (this kind of machine) or pure v2.

A container's cgroup is ``<parent>/<id>`` in every controller we use. Everything is file
writes, usable from the shim (to place the process before it runs) and the daemon
(stats, pause, update).

The hierarchy root and the version are detected from /sys/fs/cgroup unless given (tests
drive the v2 code on a hybrid host's cgroup2 mount, /sys/fs/cgroup/unified). On v2 a
limit file exists only when its controller is enabled in the parent: a limit whose file
is missing is skipped here (the daemon has already warned "... Limitation discarded.").
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator, Mapping
from typing import Any

from . import devicefilter

ROOT = "/sys/fs/cgroup"
V1_CONTROLLERS = ("memory", "cpu", "cpuacct", "pids", "freezer", "cpuset", "blkio", "devices")
# What an unprivileged container may open (Docker's defaults): mknod of anything, but
# read/write only of the harmless nodes. Without this, CAP_MKNOD (a default capability)
# would let a container create and write the host's disks.
DEFAULT_DEVICE_RULES = (
    "c *:* m", "b *:* m",
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",   # null zero full random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",              # tty console ptmx pts/*
    "c 10:200 rwm",                                                    # net/tun
)


V2_CONTROLLERS = ("cpu", "memory", "pids", "cpuset", "io")


def is_v2(root: str = ROOT) -> bool:
    """Pure v2 only: a hybrid host (v1 controllers, v2 at unified/) counts as v1, as in
    Docker. The one test of the cgroup version (engine.host.sysinfo and /info use it)."""
    return os.path.exists(f"{root}/cgroup.controllers")


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _write_if_present(path: str, value: str) -> bool:
    """Write a file the kernel already has, without O_CREAT: on cgroupfs, open(path, "w")
    of a missing file fails with EACCES, indistinguishable from a real refusal. Returns
    False when the file does not exist (its controller is not enabled here); any other
    error (EINVAL for a bad value, EBUSY, ...) is raised."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
    return True


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


class Cgroup:
    def __init__(self, parent: str, name: str, root: str | None = None,
                 v2: bool | None = None) -> None:
        self.rel = f"{parent.strip('/')}/{name}"
        self.parent = parent.strip("/")
        self.root = (root or ROOT).rstrip("/")
        self.v2 = is_v2(self.root) if v2 is None else v2

    def dirs(self) -> dict[str, str]:
        if self.v2:
            return {"unified": f"{self.root}/{self.rel}"}
        return {c: f"{self.root}/{c}/{self.rel}" for c in V1_CONTROLLERS
                if os.path.isdir(f"{self.root}/{c}")}

    # --- create / join / remove -------------------------------------------------------

    def create(self, resources: Mapping[str, Any], restrict_devices: bool = True) -> None:
        """Make the cgroup and set its limits (``spec.Resources``, or the daemon's dict of
        that shape); also used to change them (docker update), then with
        ``restrict_devices=False``: the device rules are set once, at start."""
        if self.v2:
            self._create_v2(resources)
            if restrict_devices:
                devicefilter.attach(self.dirs()["unified"], list(DEFAULT_DEVICE_RULES))
        else:
            self._create_v1(resources)
            if restrict_devices and "devices" in self.dirs():
                self._restrict_devices(self.dirs()["devices"])

    @staticmethod
    def _restrict_devices(path: str) -> None:
        _write(f"{path}/devices.deny", "a")
        for rule in DEFAULT_DEVICE_RULES:
            _write(f"{path}/devices.allow", rule)

    def _create_v1(self, r: Mapping[str, Any]) -> None:
        for controller, path in self.dirs().items():
            if controller == "cpuset":
                self._cpuset_dirs(path)
            else:
                os.makedirs(path, exist_ok=True)
        d = self.dirs()
        mem = r.get("memory")
        if mem:
            _write(f"{d['memory']}/memory.limit_in_bytes", str(mem))
            swap = r.get("memory_swap")
            memsw = f"{d['memory']}/memory.memsw.limit_in_bytes"
            if os.path.exists(memsw) and swap != -1:
                _write(memsw, str(swap if swap else mem * 2))
        if r.get("memory_reservation"):
            _write(f"{d['memory']}/memory.soft_limit_in_bytes", str(r["memory_reservation"]))
        if r.get("oom_kill_disable"):
            _write(f"{d['memory']}/memory.oom_control", "1")
        if r.get("cpu_shares"):
            _write(f"{d['cpu']}/cpu.shares", str(r["cpu_shares"]))
        period, quota = _cpu_quota(r)
        if period:
            _write(f"{d['cpu']}/cpu.cfs_period_us", str(period))
        if quota:
            _write(f"{d['cpu']}/cpu.cfs_quota_us", str(quota))
        for controller, name, limit in _same_in_v1_and_v2(r):
            _write(f"{d[controller]}/{name}", limit)
        if r.get("blkio_weight") and os.path.exists(f"{d.get('blkio', '')}/blkio.weight"):
            _write(f"{d['blkio']}/blkio.weight", str(r["blkio_weight"]))
        if r.get("memory_swappiness") is not None:
            _write(f"{d['memory']}/memory.swappiness", str(r["memory_swappiness"]))
        for kind, entries in (r.get("blkio_devices") or {}).items():
            name = V1_BLKIO_FILES[kind]
            for device, value in _device_numbers(entries):
                _write(f"{d['blkio']}/{name}", f"{device} {value}")

    def _cpuset_dirs(self, path: str) -> None:
        """cpuset children start empty and refuse tasks: inherit cpus and mems."""
        parts = path[len(f"{self.root}/cpuset/"):].split("/")
        cur = f"{self.root}/cpuset"
        for part in parts:
            parent = cur
            cur = f"{cur}/{part}"
            if not os.path.isdir(cur):
                os.mkdir(cur)
            for key in ("cpuset.cpus", "cpuset.mems"):
                if not _read(f"{cur}/{key}").strip():
                    _write(f"{cur}/{key}", _read(f"{parent}/{key}").strip())

    def _create_v2(self, r: Mapping[str, Any]) -> None:
        cur = self.root
        for part in self.rel.split("/"):
            _enable_controllers(cur)
            cur = f"{cur}/{part}"
            os.makedirs(cur, exist_ok=True)
        # A limit whose controller is not enabled has no file: skipped (see _write_if_present).
        if r.get("memory"):
            _write_if_present(f"{cur}/memory.max", str(r["memory"]))
            swap = r.get("memory_swap")
            if swap and swap > 0:
                _write_if_present(f"{cur}/memory.swap.max", str(swap - r["memory"]))
        if r.get("memory_reservation"):
            _write_if_present(f"{cur}/memory.low", str(r["memory_reservation"]))
        period, quota = _cpu_quota(r)
        if quota:
            _write_if_present(f"{cur}/cpu.max", f"{quota} {period or 100000}")
        if r.get("cpu_shares"):
            # The v1 shares range maps onto v2 weights as runc does.
            _write_if_present(f"{cur}/cpu.weight",
                              str(1 + ((r["cpu_shares"] - 2) * 9999) // 262142))
        for _, name, limit in _same_in_v1_and_v2(r):
            _write_if_present(f"{cur}/{name}", limit)
        # BFQ takes the v1 weight range as is; the generic io.weight is 1..10000 (runc's map).
        if r.get("blkio_weight") and not _write_if_present(f"{cur}/io.bfq.weight",
                                                           str(r["blkio_weight"])):
            _write_if_present(f"{cur}/io.weight", str(1 + (r["blkio_weight"] - 10) * 9999 // 990))
        devices = r.get("blkio_devices") or {}
        for device, value in _device_numbers(devices.get("weight_device", [])):
            _write_if_present(f"{cur}/io.bfq.weight", f"{device} {value}")
        for kind, key in V2_IO_MAX_KEYS.items():
            for device, value in _device_numbers(devices.get(kind, [])):
                _write_if_present(f"{cur}/io.max", f"{device} {key}={value}")

    def add(self, pid: int) -> None:
        for path in self.dirs().values():
            if os.path.isdir(path):
                _write(f"{path}/cgroup.procs", str(pid))

    def kill_all(self) -> None:
        """SIGKILL whatever still runs in the cgroup (a container whose shim is gone);
        thawed first, since a frozen task does not die."""
        if self.v2:
            # cgroup.kill (5.14+) also reaches frozen tasks and anything forked meanwhile;
            # without it (or if it fails), signal each listed process as on v1.
            with contextlib.suppress(OSError):
                if _write_if_present(f"{self.dirs()['unified']}/cgroup.kill", "1"):
                    return
        pids_dir = self.dirs().get("unified") or self.dirs().get("pids", "")
        try:
            pids = _read(f"{pids_dir}/cgroup.procs").split()
        except OSError:
            return
        if pids:
            with contextlib.suppress(OSError, KeyError):
                self.freeze(False)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)

    def remove(self) -> None:
        for path in self.dirs().values():
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # the last task is still leaving
        if not self.v2:
            for c in V1_CONTROLLERS:
                _rmdir_if_empty(f"{self.root}/{c}/{self.parent}")
        else:
            _rmdir_if_empty(f"{self.root}/{self.parent}")

    # --- freezer ------------------------------------------------------------------------

    def freeze(self, frozen: bool) -> None:
        if self.v2:
            path = self.dirs()["unified"]
            _write(f"{path}/cgroup.freeze", "1" if frozen else "0")
            want = "frozen 1" if frozen else "frozen 0"
            for _ in range(1000):
                if want in _read(f"{path}/cgroup.events"):
                    return
                time.sleep(0.001)
            return
        path = self.dirs()["freezer"]
        state = "FROZEN" if frozen else "THAWED"
        for _ in range(1000):
            _write(f"{path}/freezer.state", state)
            if _read(f"{path}/freezer.state").strip() == state:
                return
            time.sleep(0.001)

    # --- figures ------------------------------------------------------------------------

    def oom_killed(self) -> bool:
        try:
            if self.v2:
                text = _read(f"{self.dirs()['unified']}/memory.events")
            else:
                text = _read(f"{self.dirs()['memory']}/memory.oom_control")
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and int(value) > 0:
                return True
        return False

    def stats(self) -> dict[str, Any]:
        return _stats_v2(self.dirs()["unified"]) if self.v2 else _stats_v1(self.dirs())


V1_BLKIO_FILES = {
    "weight_device": "blkio.weight_device",
    "read_bps": "blkio.throttle.read_bps_device", "write_bps": "blkio.throttle.write_bps_device",
    "read_iops": "blkio.throttle.read_iops_device",
    "write_iops": "blkio.throttle.write_iops_device",
}
V2_IO_MAX_KEYS = {"read_bps": "rbps", "write_bps": "wbps", "read_iops": "riops",
                  "write_iops": "wiops"}


def _device_numbers(entries: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """(device path, value) → ("major:minor", value); the kernel wants numbers."""
    out = []
    for path, value in entries:
        rdev = os.stat(path).st_rdev
        out.append((f"{os.major(rdev)}:{os.minor(rdev)}", value))
    return out


def _enable_controllers(path: str) -> None:
    """Delegate the controllers we use to ``path``'s children: only those ``path`` itself
    offers (its cgroup.controllers), one at a time so that one refused (EBUSY under the
    no-internal-processes rule, cpu with realtime tasks, ...) does not cost the others.
    A parent that offers none of them (a hybrid host's unified mount) is left as is."""
    try:
        available = _read(f"{path}/cgroup.controllers").split()
        enabled = _read(f"{path}/cgroup.subtree_control").split()
    except OSError:
        return
    for controller in V2_CONTROLLERS:
        if controller in available and controller not in enabled:
            with contextlib.suppress(OSError):
                _write(f"{path}/cgroup.subtree_control", f"+{controller}")


def _same_in_v1_and_v2(r: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(v1 controller, file, value) of the limits whose file is named and written alike
    in both versions."""
    for key, controller, name in (("cpuset_cpus", "cpuset", "cpuset.cpus"),
                                  ("cpuset_mems", "cpuset", "cpuset.mems")):
        if r.get(key):
            yield controller, name, str(r[key])
    if r.get("pids_limit") and r["pids_limit"] > 0:
        yield "pids", "pids.max", str(r["pids_limit"])


def _cpu_quota(r: Mapping[str, Any]) -> tuple[int, int]:
    if r.get("nano_cpus"):
        period = 100000
        return period, r["nano_cpus"] * period // 1_000_000_000
    return r.get("cpu_period") or 0, r.get("cpu_quota") or 0


def _rmdir_if_empty(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass  # other containers still live there, or it never existed


def _kv(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            out[key] = int(value)
    return out


def _int(path: str, default: int = 0) -> int:
    try:
        value = _read(path).strip()
    except OSError:
        return default
    return int(value) if value.isdigit() else default


def _stats_v1(d: dict[str, str]) -> dict[str, Any]:
    cpuacct = d.get("cpuacct", "")
    percpu = [int(x) for x in _read(f"{cpuacct}/cpuacct.usage_percpu").split()] \
        if os.path.exists(f"{cpuacct}/cpuacct.usage_percpu") else []
    cpustat = _kv(_read(f"{cpuacct}/cpuacct.stat")) if os.path.exists(
        f"{cpuacct}/cpuacct.stat") else {}
    tick_ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    throttle = _kv(_read(f"{d['cpu']}/cpu.stat")) if os.path.exists(f"{d['cpu']}/cpu.stat") \
        else {}
    mem = d.get("memory", "")
    mstat = _kv(_read(f"{mem}/memory.stat")) if os.path.exists(f"{mem}/memory.stat") else {}
    blk = []
    path = f"{d.get('blkio', '')}/blkio.throttle.io_service_bytes"
    if os.path.exists(path):
        for line in _read(path).splitlines():
            parts = line.split()
            if len(parts) == 3 and ":" in parts[0]:
                major, minor = parts[0].split(":")
                blk.append({"major": int(major), "minor": int(minor), "op": parts[1].lower(),
                            "value": int(parts[2])})
    return {
        "cpu_total_ns": _int(f"{cpuacct}/cpuacct.usage"),
        "cpu_percpu_ns": percpu,
        "cpu_user_ns": cpustat.get("user", 0) * tick_ns,
        "cpu_system_ns": cpustat.get("system", 0) * tick_ns,
        "throttling": {"periods": throttle.get("nr_periods", 0),
                       "throttled_periods": throttle.get("nr_throttled", 0),
                       "throttled_time": throttle.get("throttled_time", 0)},
        "memory_usage": _int(f"{mem}/memory.usage_in_bytes"),
        "memory_max_usage": _int(f"{mem}/memory.max_usage_in_bytes"),
        "memory_limit": _int(f"{mem}/memory.limit_in_bytes"),
        "memory_failcnt": _int(f"{mem}/memory.failcnt"),
        "memory_stats": mstat,
        "pids_current": _int(f"{d.get('pids', '')}/pids.current"),
        "pids_limit": _int(f"{d.get('pids', '')}/pids.max"),
        "blkio": blk,
    }


def _kv_file(path: str) -> dict[str, int]:
    try:
        return _kv(_read(path))
    except OSError:
        return {}


def _io_stat(path: str) -> list[dict[str, Any]]:
    """io.stat (``8:0 rbytes=1 wbytes=2 rios=3 ...`` a device a line) as the v1 blkio list,
    filled as dockerd does on v2: rbytes as op "read" and wbytes as op "write"."""
    try:
        text = _read(path)
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        dev, *fields = line.split()
        major, sep, minor = dev.partition(":")
        if not (sep and major.isdigit() and minor.isdigit()):
            continue
        values = dict(f.partition("=")[::2] for f in fields)
        for key, op in (("rbytes", "read"), ("wbytes", "write")):
            value = values.get(key, "0")
            out.append({"major": int(major), "minor": int(minor), "op": op,
                        "value": int(value) if value.isdigit() else 0})
    return out


def _stats_v2(path: str) -> dict[str, Any]:
    """Every file is optional: on v2 only the core ones (cpu.stat's usage_usec, user_usec,
    system_usec) exist without their controller. "max" limits read as 0 (none), as does
    what cannot be read at all (a cgroup already removed)."""
    cpu = _kv_file(f"{path}/cpu.stat")
    return {
        "cpu_total_ns": cpu.get("usage_usec", 0) * 1000,
        "cpu_percpu_ns": [],
        "cpu_user_ns": cpu.get("user_usec", 0) * 1000,
        "cpu_system_ns": cpu.get("system_usec", 0) * 1000,
        "throttling": {"periods": cpu.get("nr_periods", 0),
                       "throttled_periods": cpu.get("nr_throttled", 0),
                       "throttled_time": cpu.get("throttled_usec", 0) * 1000},
        "memory_usage": _int(f"{path}/memory.current"),
        "memory_max_usage": 0,  # dockerd leaves it out on v2 too
        "memory_limit": _int(f"{path}/memory.max"),
        "memory_failcnt": _kv_file(f"{path}/memory.events").get("oom", 0),  # as dockerd
        "memory_stats": _kv_file(f"{path}/memory.stat"),
        "pids_current": _int(f"{path}/pids.current"),
        "pids_limit": _int(f"{path}/pids.max"),
        "blkio": _io_stat(f"{path}/io.stat"),
    }
