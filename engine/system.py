"""Facts about the host for ``GET /version`` and ``GET /info``, read from the machine."""

from __future__ import annotations

import ipaddress
import os
import platform
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

from pydocker.engine.config import API_VERSION, ENGINE_VERSION, MIN_API_VERSION
from pydocker.engine.host.atomic import write_atomic
from pydocker.engine.host.sysinfo import probe

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def go_arch() -> str:
    machine = platform.machine()
    return _ARCH.get(machine, machine)


def engine_id(data_root: Path) -> str:
    """``/info``'s ID: made once, a UUID kept in the data root's ``engine-id`` as
    dockerd 23+ keeps it, so it survives restarts and tells two engines apart."""
    path = data_root / "engine-id"
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    made = str(uuid.uuid4())
    write_atomic(path, made.encode())
    return made


def kernel_version() -> str:
    return platform.release()


def os_release() -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value.strip().strip('"')
    return values


def mem_total() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def version_info() -> dict[str, Any]:
    py = f"python{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    details = {
        "ApiVersion": API_VERSION,
        "Arch": go_arch(),
        "BuildTime": "",
        "Experimental": "false",
        "GitCommit": "",
        "GoVersion": py,
        "KernelVersion": kernel_version(),
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
    }
    return {
        "Platform": {"Name": "pydocker"},
        "Components": [{"Name": "Engine", "Version": ENGINE_VERSION, "Details": details}],
        "Version": ENGINE_VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": py,
        "Os": "linux",
        "Arch": go_arch(),
        "KernelVersion": kernel_version(),
        "BuildTime": "",
    }


def host_info() -> dict[str, Any]:
    """The machine-derived part of ``GET /info``; the daemon adds its own counters."""
    rel = os_release()
    cgroups = probe()  # what dockerd reads from pkg/sysinfo
    v2 = cgroups.v2
    return {
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"],
                         ["Using metacopy", "false"], ["Native Overlay Diff", "true"],
                         ["userxattr", "false"]],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
                    "Authorization": None, "Log": ["json-file", "local"]},
        "MemoryLimit": cgroups.memory_limit,
        "SwapLimit": cgroups.swap_limit,
        "CpuCfsPeriod": cgroups.cpu_cfs,
        "CpuCfsQuota": cgroups.cpu_cfs,
        "CPUShares": cgroups.cpu_shares,
        "CPUSet": cgroups.cpuset,
        "PidsLimit": cgroups.pids_limit,
        "IPv4Forwarding": Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1",
        "BridgeNfIptables": _read("/proc/sys/net/bridge/bridge-nf-call-iptables") == "1",
        "BridgeNfIp6tables": _read("/proc/sys/net/bridge/bridge-nf-call-ip6tables") == "1",
        "Debug": False,
        "OomKillDisable": cgroups.oom_kill_disable,
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if v2 else "1",
        "KernelVersion": kernel_version(),
        "OperatingSystem": rel.get("PRETTY_NAME", "Linux"),
        "OSVersion": rel.get("VERSION_ID", ""),
        "OSType": "linux",
        "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "NCPU": os.cpu_count() or 1,
        "MemTotal": mem_total(),
        "Name": socket.gethostname(),
        "ExperimentalBuild": False,
        "ServerVersion": ENGINE_VERSION,
        "Runtimes": {"pydocker": {"path": "pydocker-runtime"}},
        "DefaultRuntime": "pydocker",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                  "ControlAvailable": False, "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": True,
        "Isolation": "",
        "InitBinary": "tini",
        "SecurityOptions": ["name=seccomp,profile=builtin"] + (["name=cgroupns"] if v2 else []),
        "GenericResources": None,
        # dockerd reports the proxies of its own environment.
        "HttpProxy": os.environ.get("HTTP_PROXY") or os.environ.get("http_proxy", ""),
        "HttpsProxy": os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy", ""),
        "NoProxy": os.environ.get("NO_PROXY") or os.environ.get("no_proxy", ""),
        # No containerd, runc or docker-init here: the runtime is our own.
        "ContainerdCommit": {"ID": "", "Expected": ""},
        "RuncCommit": {"ID": "", "Expected": ""},
        "InitCommit": {"ID": "", "Expected": ""},
        "Warnings": [],
    }


def registry_config(insecure: tuple[str, ...], mirrors: tuple[str, ...]) -> dict[str, Any]:
    """``/info``'s RegistryConfig, as dockerd builds it from the same flags: CIDRs (loopback
    always) are insecure ranges, names are index entries marked not secure."""
    cidrs, names = ["127.0.0.0/8"], []
    for entry in insecure:
        try:
            cidrs.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            names.append(entry)
    urls = [m if m.endswith("/") else m + "/" for m in mirrors]
    indexes: dict[str, Any] = {"docker.io": {"Name": "docker.io", "Mirrors": urls,
                                             "Secure": True, "Official": True}}
    for name in names:
        indexes[name] = {"Name": name, "Mirrors": [], "Secure": False, "Official": False}
    return {"AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": sorted(set(cidrs), key=cidrs.index),
            "IndexConfigs": indexes, "Mirrors": urls}


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""
