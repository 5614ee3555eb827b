"""HostConfig.Binds, HostConfig.Mounts, HostConfig.Tmpfs, image VOLUMEs, --volumes-from.

Pure parsing with moby's rules and messages (volume/mounts/linux_parser.go): each
request says what to mount; :func:`runtime_mount` gives the runtime's spec entry
(``{"destination", "type", "source", "options"}``) and :func:`inspect_entry` the
``docker inspect`` Mounts entry. Creating volumes and copying image content into new
ones is the caller's job (engine.volumes).

Precedence, lowest first, as dockerd's registerMountPoints: image VOLUMEs, then
--volumes-from, then Binds and Mounts (a destination named twice among these two is
``Duplicate mount point``), and --tmpfs over everything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from pydocker.engine.errors import InvalidParameter

PROPAGATIONS = ("private", "rprivate", "shared", "rshared", "slave", "rslave")
_MODE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"rw", "ro"}), frozenset({"z", "Z"}), frozenset(PROPAGATIONS),
    frozenset({"nocopy"}), frozenset({"consistent", "cached", "delegated"}))
TMPFS_DEFAULTS = ("nosuid", "nodev", "noexec")
# A user's option that cancels one of the defaults.
_TMPFS_NEGATIONS = {"suid": "nosuid", "dev": "nodev", "exec": "noexec"}


@dataclass
class MountRequest:
    type: str                      # bind | volume | tmpfs
    destination: str
    source: str = ""               # host path (bind) or volume name ("" = anonymous)
    read_only: bool = False
    propagation: str = ""
    nocopy: bool = False
    mode: str = ""                 # the Binds mode string, shown in inspect
    tmpfs_options: list[str] = field(default_factory=list)
    create_host_path: bool = False  # -v /missing:/x creates it; --mount refuses
    labels: dict[str, str] = field(default_factory=dict)
    driver_opts: dict[str, str] | None = None
    from_image: bool = False       # an image VOLUME: yields to everything else
    subpath: str = ""              # VolumeOptions.Subpath (API 1.45): a directory inside


def _config_error(kind: str, message: str) -> InvalidParameter:
    return InvalidParameter(f'invalid mount config for type "{kind}": {message}')


def _check_target(kind: str, target: str) -> str:
    if not target:
        raise _config_error(kind, "field Target must not be empty")
    if not target.startswith("/"):
        raise _config_error(kind, f"invalid mount path: '{target}' mount path must be "
                                  "absolute")
    target = "/" + os.path.normpath(target).lstrip("/")  # POSIX keeps a leading "//"
    if target == "/":
        raise _config_error(kind, "invalid specification: destination can't be '/'")
    return target


def _clean(path: str) -> str:
    return "/" + os.path.normpath(path).lstrip("/")


def valid_mode(mode: str) -> bool:
    """moby's ValidateMountMode: known words, at most one of each kind."""
    if not mode:
        return True
    counts = [0] * len(_MODE_GROUPS)
    for opt in mode.split(","):
        group = next((i for i, g in enumerate(_MODE_GROUPS) if opt in g), None)
        if group is None:
            return False
        counts[group] += 1
    return max(counts) <= 1


def parse_bind(spec: str) -> MountRequest:
    """One ``HostConfig.Binds`` entry: ``[src:]dst[:mode]``."""
    parts = spec.split(":", 3)
    if parts[0] == "" or len(parts) > 3:
        raise InvalidParameter(f"invalid volume specification: '{spec}'")
    source, mode = "", ""
    if len(parts) == 1:
        target = parts[0]
    elif len(parts) == 2:
        if valid_mode(parts[1]):  # "/foo:rw": a mode without a source
            raise InvalidParameter(f"invalid volume specification: '{spec}'")
        source, target = parts
    else:
        source, target, mode = parts
    if not valid_mode(mode):
        raise InvalidParameter(f"invalid mode: {mode}")
    kind = "bind" if source.startswith("/") else "volume"
    try:
        destination = _check_target(kind, target)
    except InvalidParameter as exc:
        raise InvalidParameter(f"invalid volume specification: '{spec}': {exc}") from None
    opts = mode.split(",") if mode else []
    req = MountRequest(kind, destination, _clean(source) if kind == "bind" else source,
                       mode=mode, read_only="ro" in opts, nocopy="nocopy" in opts,
                       create_host_path=True,
                       propagation=next((o for o in opts if o in PROPAGATIONS), ""))
    if kind == "volume" and not req.mode:
        req.mode = "z"  # what dockerd shows for -v volumes
    return req


def parse_mount(m: dict[str, Any]) -> MountRequest:
    """One ``HostConfig.Mounts`` entry (``docker run --mount``)."""
    kind = m.get("Type") or ""
    target = _check_target(kind, m.get("Target") or "")
    source = m.get("Source") or ""
    req = MountRequest(kind, target, source, read_only=bool(m.get("ReadOnly")))
    if kind == "bind":
        if m.get("VolumeOptions"):
            raise _config_error(kind, "field VolumeOptions must not be specified")
        if not source:
            raise _config_error(kind, "field Source must not be empty")
        if not source.startswith("/"):
            raise _config_error(kind, f"invalid mount path: '{source}' mount path must be "
                                      "absolute")
        if not os.path.exists(source):
            raise _config_error(kind, f"bind source path does not exist: {source}")
        req.source = _clean(source)
        req.propagation = (m.get("BindOptions") or {}).get("Propagation") or ""
        if req.propagation and req.propagation not in PROPAGATIONS:
            raise _config_error(kind, f"invalid propagation mode: {req.propagation}")
    elif kind == "volume":
        if m.get("BindOptions"):
            raise _config_error(kind, "field BindOptions must not be specified")
        opts = m.get("VolumeOptions") or {}
        req.subpath = _check_subpath(opts.get("Subpath") or "")
        req.nocopy = bool(opts.get("NoCopy")) or bool(req.subpath)  # dockerd copies nothing
        req.labels = dict(opts.get("Labels") or {})
        driver = opts.get("DriverConfig") or {}
        if driver.get("Options") is not None:
            req.driver_opts = dict(driver["Options"])
    elif kind == "tmpfs":
        if source:
            raise _config_error(kind, "field Source must not be specified")
        if m.get("BindOptions"):
            raise _config_error(kind, "field BindOptions must not be specified")
        req.tmpfs_options = tmpfs_size_mode(m.get("TmpfsOptions") or {})
    else:
        raise _config_error(kind, "mount type unknown")
    return req


def _check_subpath(subpath: str) -> str:
    """Go's filepath.IsLocal, as moby checks it: relative, and never above the volume."""
    norm = os.path.normpath(subpath) if subpath else ""
    if subpath and (subpath.startswith("/") or norm == ".." or norm.startswith("../")):
        raise _config_error("volume", "subpath must be a relative path within the volume")
    return "" if norm == "." else norm


def tmpfs_size_mode(opts: dict[str, Any]) -> list[str]:
    """TmpfsOptions → mount data, as moby's ConvertTmpfsOptions (size in g/m/k)."""
    out = []
    size = int(opts.get("SizeBytes") or 0)
    if size < 0:
        raise _config_error("tmpfs", f"invalid tmpfs size: {size}")
    if size:
        for suffix, divisor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("", 1)):
            if size % divisor == 0:
                out.append(f"size={size // divisor}{suffix}")
                break
    if opts.get("Mode"):
        out.append(f"mode={int(opts['Mode']):o}")
    return out


def parse_tmpfs(dest: str, options: str) -> MountRequest:
    """One ``HostConfig.Tmpfs`` entry: ``{"/run": "rw,size=64m"}``."""
    req = MountRequest("tmpfs", _check_target("tmpfs", dest))
    for opt in filter(None, options.split(",")):
        if opt == "ro":
            req.read_only = True
        elif opt != "rw":
            req.tmpfs_options.append(opt)
    return req


def parse_volumes_from(spec: str) -> tuple[str, str]:
    """``container[:ro|rw]`` → (container, mode)."""
    ref, _, mode = spec.partition(":")
    if not ref:
        raise InvalidParameter(f"malformed volumes-from specification: {spec}")
    if mode not in ("", "ro", "rw") and not valid_mode(mode):
        raise InvalidParameter(f"invalid mode: {mode}")
    return ref, mode


def requests_for(config: dict[str, Any], host_config: dict[str, Any]) -> list[MountRequest]:
    """Image VOLUMEs, Binds, Mounts and Tmpfs; later kinds win by destination."""
    by_dest: dict[str, MountRequest] = {}
    for dest in (config.get("Volumes") or {}):
        req = MountRequest("volume", _check_target("volume", dest), from_image=True)
        by_dest[req.destination] = req
    explicit: set[str] = set()
    binds = [parse_bind(spec) for spec in host_config.get("Binds") or []]
    mounts = [parse_mount(m) for m in host_config.get("Mounts") or []]
    for req in binds + mounts:
        if req.destination in explicit:
            raise InvalidParameter(f"Duplicate mount point: {req.destination}")
        explicit.add(req.destination)
        by_dest[req.destination] = req
    for dest, options in (host_config.get("Tmpfs") or {}).items():
        req = parse_tmpfs(dest, options or "")
        by_dest[req.destination] = req
    return sorted(by_dest.values(), key=lambda r: r.destination.count("/"))


def tmpfs_options(req: MountRequest) -> list[str]:
    """Docker's defaults (nosuid,nodev,noexec) unless the user said suid/dev/exec."""
    cancelled = {_TMPFS_NEGATIONS[o] for o in req.tmpfs_options if o in _TMPFS_NEGATIONS}
    user = [o for o in req.tmpfs_options if o not in _TMPFS_NEGATIONS and o not in
            TMPFS_DEFAULTS]
    return [o for o in TMPFS_DEFAULTS if o not in cancelled] + \
        (["ro"] if req.read_only else []) + user


def runtime_mount(req: MountRequest, source: str) -> dict[str, Any]:
    """The runtime's spec entry for one resolved request.

    Volumes, whatever their driver options, are binds of their ``_data`` directory:
    a volume with type/device/o is mounted there on the host while in use.
    """
    if req.type == "tmpfs":
        return {"destination": req.destination, "type": "tmpfs", "source": "tmpfs",
                "options": tmpfs_options(req)}
    options = ["rbind"] + (["ro"] if req.read_only else [])
    if req.subpath:
        source = os.path.join(source, req.subpath)
    return {"destination": req.destination, "type": "bind", "source": source,
            "options": options + [req.propagation or "rprivate"]}


def inspect_entry(req: MountRequest, source: str, name: str = "") -> dict[str, Any]:
    """The ``Mounts`` entry ``docker inspect`` shows."""
    if req.type == "volume":
        return {"Type": "volume", "Name": name, "Source": source,
                "Destination": req.destination, "Driver": "local", "Mode": req.mode,
                "RW": not req.read_only, "Propagation": ""}
    if req.type == "tmpfs":
        return {"Type": "tmpfs", "Source": "", "Destination": req.destination, "Mode": "",
                "RW": not req.read_only, "Propagation": ""}
    return {"Type": "bind", "Source": source, "Destination": req.destination,
            "Mode": req.mode, "RW": not req.read_only,
            "Propagation": req.propagation or "rprivate"}
