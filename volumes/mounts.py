"""HostConfig.Binds, HostConfig.Mounts, HostConfig.Tmpfs and image VOLUMEs → mounts.

Pure parsing: each result says what to mount (the runtime's spec entry) and what
``docker inspect`` shows (its Mounts entry). Volumes named here are created by the
caller, which also copies image content into new volumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from pydocker.engine.errors import InvalidParameter

PROPAGATIONS = {"private", "rprivate", "shared", "rshared", "slave", "rslave"}


@dataclass
class MountRequest:
    type: str                      # bind | volume | tmpfs
    destination: str
    source: str = ""               # host path (bind) or volume name ("" = anonymous)
    read_only: bool = False
    propagation: str = ""
    nocopy: bool = False
    mode: str = ""
    tmpfs_options: list[str] = field(default_factory=list)
    create_host_path: bool = False  # -v /missing:/x creates it; --mount refuses
    labels: dict[str, str] = field(default_factory=dict)
    driver_opts: dict[str, str] = field(default_factory=dict)


def _check_destination(dest: str, spec: str) -> str:
    if not dest.startswith("/"):
        raise InvalidParameter(f"invalid volume specification: '{spec}': invalid mount config "
                               f"for type \"volume\": invalid mount path: '{dest}' mount path "
                               "must be absolute")
    if dest == "/":
        raise InvalidParameter(f"invalid volume specification: '{spec}': invalid mount config: "
                               "destination can't be '/'")
    return os.path.normpath(dest)


def parse_bind(spec: str) -> MountRequest:
    parts = spec.split(":")
    if len(parts) == 1:
        return MountRequest("volume", _check_destination(parts[0], spec))
    if len(parts) > 3:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    source, dest = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else ""
    req = MountRequest("bind" if source.startswith("/") else "volume",
                       _check_destination(dest, spec), source, mode=mode,
                       create_host_path=True)
    for opt in filter(None, mode.split(",")):
        if opt == "ro":
            req.read_only = True
        elif opt == "rw":
            pass
        elif opt in PROPAGATIONS:
            req.propagation = opt
        elif opt == "nocopy":
            req.nocopy = True
        elif opt in ("z", "Z", "copy"):
            pass
        else:
            raise InvalidParameter(f"invalid mode: {opt}")
    if not source:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    return req


def parse_mount(m: dict[str, Any]) -> MountRequest:
    kind = (m.get("Type") or "").lower()
    target = m.get("Target") or ""
    if not target:
        raise InvalidParameter("invalid mount config: Target must not be empty")
    if not target.startswith("/"):
        raise InvalidParameter(f"invalid mount config for type \"{kind}\": invalid mount "
                               f"path: '{target}' mount path must be absolute")
    source = m.get("Source") or ""
    req = MountRequest(kind, os.path.normpath(target), source,
                       read_only=bool(m.get("ReadOnly")))
    if kind == "bind":
        if not source:
            raise InvalidParameter("invalid mount config for type \"bind\": field Source "
                                   "must not be empty")
        if not os.path.exists(source):
            raise InvalidParameter("invalid mount config for type \"bind\": bind source path "
                                   f"does not exist: {source}")
        req.propagation = (m.get("BindOptions") or {}).get("Propagation") or ""
    elif kind == "volume":
        opts = m.get("VolumeOptions") or {}
        req.nocopy = bool(opts.get("NoCopy"))
        req.labels = dict(opts.get("Labels") or {})
        req.driver_opts = dict((opts.get("DriverConfig") or {}).get("Options") or {})
    elif kind == "tmpfs":
        if source:
            raise InvalidParameter("invalid mount config for type \"tmpfs\": field Source "
                                   "must be empty")
        opts = m.get("TmpfsOptions") or {}
        if opts.get("SizeBytes"):
            req.tmpfs_options.append(f"size={opts['SizeBytes']}")
        if opts.get("Mode"):
            req.tmpfs_options.append(f"mode={opts['Mode']:o}")
    else:
        raise InvalidParameter(f"invalid mount config: mount type unknown: {kind!r}")
    return req


def parse_tmpfs(dest: str, options: str) -> MountRequest:
    req = MountRequest("tmpfs", _check_destination(dest, dest))
    for opt in filter(None, options.split(",")):
        if opt == "ro":
            req.read_only = True
        elif opt != "rw":
            req.tmpfs_options.append(opt)
    return req


def requests_for(config: dict[str, Any], host_config: dict[str, Any]) -> list[MountRequest]:
    """Everything a container mounts, later sources overriding earlier by destination."""
    by_dest: dict[str, MountRequest] = {}
    for dest in (config.get("Volumes") or {}):
        req = MountRequest("volume", _check_destination(dest, dest))
        by_dest[req.destination] = req
    explicit: set[str] = set()
    for spec in host_config.get("Binds") or []:
        req = parse_bind(spec)
        if req.destination in explicit:
            raise InvalidParameter(f"Duplicate mount point: {req.destination}")
        explicit.add(req.destination)
        by_dest[req.destination] = req
    for m in host_config.get("Mounts") or []:
        req = parse_mount(m)
        if req.destination in explicit:
            raise InvalidParameter(f"Duplicate mount point: {req.destination}")
        explicit.add(req.destination)
        by_dest[req.destination] = req
    for dest, options in (host_config.get("Tmpfs") or {}).items():
        req = parse_tmpfs(dest, options or "")
        if req.destination in explicit:
            raise InvalidParameter(f"Duplicate mount point: {req.destination}")
        by_dest[req.destination] = req
    return sorted(by_dest.values(), key=lambda r: r.destination.count("/"))


def runtime_mount(req: MountRequest, source: str, volume_opts: dict[str, str] | None
                  ) -> dict[str, Any]:
    """The runtime's spec entry for one resolved request."""
    ro = ["ro"] if req.read_only else []
    propagation = [req.propagation] if req.propagation else ["rprivate"]
    if req.type == "tmpfs":
        return {"destination": req.destination, "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "nodev", "noexec", *ro, *req.tmpfs_options]}
    if volume_opts and volume_opts.get("type"):
        # A local volume with driver options: mounted in the container, never on the host.
        opts = [o for o in (volume_opts.get("o") or "").split(",") if o]
        if volume_opts["type"] in ("none", "bind") or "bind" in opts:
            return {"destination": req.destination, "type": "bind",
                    "source": volume_opts.get("device", ""),
                    "options": ["rbind", *ro, *propagation]}
        return {"destination": req.destination, "type": volume_opts["type"],
                "source": volume_opts.get("device") or volume_opts["type"],
                "options": [*opts, *ro]}
    return {"destination": req.destination, "type": "bind", "source": source,
            "options": ["rbind", *ro, *propagation]}


def inspect_entry(req: MountRequest, source: str, name: str = "") -> dict[str, Any]:
    if req.type == "volume":
        return {"Type": "volume", "Name": name, "Source": source,
                "Destination": req.destination, "Driver": "local", "Mode": req.mode or "z",
                "RW": not req.read_only, "Propagation": ""}
    if req.type == "tmpfs":
        return {"Type": "tmpfs", "Source": "", "Destination": req.destination, "Mode": "",
                "RW": not req.read_only, "Propagation": ""}
    return {"Type": "bind", "Source": source, "Destination": req.destination,
            "Mode": req.mode, "RW": not req.read_only,
            "Propagation": req.propagation or "rprivate"}
