"""The JSON shapes clients read: ``GET /containers/{id}/json`` and ``/containers/json``."""

from __future__ import annotations

from typing import Any

from pydocker.engine.timeutil import parse_rfc3339_ns

from .model import Container
from .state import ContainerState

HOST_CONFIG_DEFAULTS: dict[str, Any] = {
    "Binds": None, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}},
    "NetworkMode": "default", "PortBindings": {}, "RestartPolicy": {"Name": "no",
                                                                    "MaximumRetryCount": 0},
    "AutoRemove": False, "VolumeDriver": "", "VolumesFrom": None, "ConsoleSize": [0, 0],
    "CapAdd": None, "CapDrop": None, "CgroupnsMode": "host", "Dns": None, "DnsOptions": None,
    "DnsSearch": None, "ExtraHosts": None, "GroupAdd": None, "IpcMode": "private",
    "Cgroup": "", "Links": None, "OomScoreAdj": 0, "PidMode": "", "Privileged": False,
    "PublishAllPorts": False, "ReadonlyRootfs": False, "SecurityOpt": None, "UTSMode": "",
    "UsernsMode": "", "ShmSize": 67108864, "Runtime": "runc", "Isolation": "",
    "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
    "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [],
    "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0,
    "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
    "Devices": [], "DeviceCgroupRules": None, "DeviceRequests": None,
    "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": None,
    "OomKillDisable": None, "PidsLimit": None, "Ulimits": [], "CpuCount": 0,
    "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
    "MaskedPaths": None, "ReadonlyPaths": None, "Init": None, "Mounts": None, "Tmpfs": None,
    "Sysctls": None,
}


# Fields Go marshals with ``omitempty``: dockerd leaves them out when they are empty.
_CONFIG_OMITTED_WHEN_EMPTY = ("ExposedPorts", "Healthcheck", "ArgsEscaped", "NetworkDisabled",
                              "MacAddress", "StopSignal", "StopTimeout", "Shell")
_HOST_CONFIG_OMITTED_WHEN_NULL = ("Init", "Mounts", "Sysctls", "Tmpfs", "Annotations",
                                  "StorageOpt")


def config(c: Container) -> dict[str, Any]:
    """Config as dockerd shows it: the omitempty fields only when they hold something
    (a StopTimeout of 0 is something: Go's pointer)."""
    return {k: v for k, v in c.config.items()
            if k not in _CONFIG_OMITTED_WHEN_EMPTY or v or (k == "StopTimeout" and v == 0)}


def host_config(c: Container) -> dict[str, Any]:
    """What the client sent over Docker's zero values: an unset NetworkMode reads
    "default", as dockerd stores it, and "default" is never rewritten to "bridge"."""
    hc = {**HOST_CONFIG_DEFAULTS, **c.host_config}
    hc["NetworkMode"] = hc.get("NetworkMode") or "default"
    return {k: v for k, v in hc.items()
            if k not in _HOST_CONFIG_OMITTED_WHEN_NULL or v is not None}


def network_settings(c: Container) -> dict[str, Any]:
    primary = next(iter(c.networks.values()), {})
    return {
        "Bridge": "", "SandboxID": c.id, "SandboxKey": f"/var/run/docker/netns/{c.short_id}"
        if c.state.running else "",
        "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "Ports": c.ports if c.state.running else {},
        "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
        "EndpointID": primary.get("EndpointID", ""),
        "Gateway": primary.get("Gateway", ""),
        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "IPAddress": primary.get("IPAddress", ""),
        "IPPrefixLen": primary.get("IPPrefixLen", 0),
        "IPv6Gateway": "", "MacAddress": primary.get("MacAddress", ""),
        "Networks": c.networks,
    }


def inspect(c: Container, paths: dict[str, str], size: dict[str, int] | None = None
            ) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Id": c.id,
        "Created": c.created,
        "Path": c.path,
        "Args": c.args,
        "State": c.state.to_json(),
        "Image": c.image_id,
        "ResolvConfPath": paths.get("resolv", ""),
        "HostnamePath": paths.get("hostname", ""),
        "HostsPath": paths.get("hosts", ""),
        "LogPath": paths.get("log", ""),
        "Name": "/" + c.name,
        "RestartCount": c.restart_count,
        "Driver": "overlay2",
        "Platform": c.platform,
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": c.exec_ids or None,
        "HostConfig": host_config(c),
        "GraphDriver": {"Name": "overlay2", "Data": {
            "LowerDir": ":".join(c.rootfs.get("lower", [])),
            "UpperDir": c.rootfs.get("upper", ""),
            "WorkDir": c.rootfs.get("work", ""),
            "MergedDir": c.rootfs.get("merged", ""),
        }},
        "Mounts": [m["inspect"] for m in c.mounts if "inspect" in m],
        "Config": config(c),
        "NetworkSettings": network_settings(c),
    }
    if size is not None:
        out["SizeRw"] = size.get("rw", 0)
        out["SizeRootFs"] = size.get("rootfs", 0)
    return out


def command_line(c: Container) -> str:
    """As daemon/list.go prints it: args with spaces in single quotes."""
    args = [f"'{a}'" if " " in a else a for a in c.args]
    return " ".join([c.path, *args])


def status_text(c: Container, now_ns: int) -> str:
    """The human status of ``docker ps``: "Up 3 seconds", "Exited (0) 2 minutes ago"."""
    st = c.state
    if st.status is ContainerState.RESTARTING:
        ago = human_duration(now_ns - parse_rfc3339_ns(st.finished_at))
        return f"Restarting ({st.exit_code}) {ago} ago"
    if st.status.is_running:
        up = human_duration(now_ns - parse_rfc3339_ns(st.started_at))
        health = ""
        if st.health:
            health = {"starting": " (health: starting)", "healthy": " (healthy)",
                      "unhealthy": " (unhealthy)"}.get(st.health.get("Status", ""), "")
        paused = " (Paused)" if st.status is ContainerState.PAUSED else ""
        return f"Up {up}{paused}{health}"
    if st.status is ContainerState.EXITED:
        if parse_rfc3339_ns(st.finished_at) == 0:
            return "Created"
        ago = human_duration(now_ns - parse_rfc3339_ns(st.finished_at))
        return f"Exited ({st.exit_code}) {ago} ago"
    return _OTHER_STATUS.get(st.status, "Created")


_OTHER_STATUS = {ContainerState.REMOVING: "Removal In Progress", ContainerState.DEAD: "Dead"}


def human_duration(ns: int) -> str:
    """go-units HumanDuration."""
    seconds = ns / 1e9
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = seconds / 60
    if minutes < 2:
        return "About a minute"
    if minutes < 60:
        return f"{int(minutes)} minutes"
    hours = int(minutes / 60 + 0.5)  # go-units rounds to the hour, then divides whole hours
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(minutes / 60) // 24 // 365} years"


def summary(c: Container, image_name: str, now_ns: int) -> dict[str, Any]:
    """One entry of ``GET /containers/json``."""
    ports = []
    for key, bindings in (c.ports or {}).items():
        number, _, proto = key.partition("/")
        if not bindings:
            ports.append({"PrivatePort": int(number), "Type": proto or "tcp"})
            continue
        for b in bindings:
            ports.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(number),
                          "PublicPort": int(b["HostPort"]), "Type": proto or "tcp"})
    created_s = parse_rfc3339_ns(c.created) // 1_000_000_000
    return {
        "Id": c.id,
        "Names": ["/" + c.name],
        "Image": image_name,
        "ImageID": c.image_id,
        "Command": command_line(c),
        "Created": created_s,
        "Ports": ports if c.state.running else [],
        "Labels": c.config.get("Labels") or {},
        "State": str(c.state.status),
        "Status": status_text(c, now_ns),
        "HostConfig": {"NetworkMode": host_config(c)["NetworkMode"]},
        "NetworkSettings": {"Networks": c.networks},
        "Mounts": [m["inspect"] for m in c.mounts if "inspect" in m],
    }
