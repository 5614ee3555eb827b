"""version, info, events, system df, system prune, and the generic ``inspect``."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import CLIENT_API_VERSION, APIError, Client, quote_ref
from pydocker.cli.commands.containers import FORMAT_HELP, filters_param, timestamp_param
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options
from pydocker.cli.formatter import Context, render_one, write_rows
from pydocker.cli.output import bytes_size, human_size

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


def _client_info(client: Client) -> dict[str, Any]:
    return {"Platform": {"Name": ""}, "Version": "0.1.0", "ApiVersion": client.version or
            CLIENT_API_VERSION, "DefaultAPIVersion": CLIENT_API_VERSION, "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}", "Os": "linux",
            "Arch": ARCH.get(platform.machine(), platform.machine()), "BuildTime": "",
            "Context": "default"}


def version(client: Client, opts: Options) -> int:
    server: dict[str, Any] | None = None
    error: Exception | None = None
    try:
        server = client.get("/version")
    except Exception as e:  # noqa: BLE001 - docker prints the client part, then the error
        error = e
    data = {"Client": _client_info(client), "Server": server}
    if opts.format:
        sys.stdout.write(render_one(opts.format, data) + "\n")
    else:
        c = _client_info(client)
        out = ["Client:", f" Version:           {c['Version']}",
               f" API version:       {c['ApiVersion']}",
               f" Python version:    {c['GoVersion'][6:]}",
               f" OS/Arch:           {c['Os']}/{c['Arch']}",
               f" Context:           {c['Context']}"]
        if server:
            out += ["", f"Server: {(server.get('Platform') or {}).get('Name', '')}".rstrip()]
            for comp in server.get("Components") or []:
                d = comp.get("Details") or {}
                out.append(f" {comp.get('Name')}:")
                out.append(f"  Version:          {comp.get('Version', '')}")
                if comp.get("Name") == "Engine":
                    out += [(f"  API version:      {d.get('ApiVersion', '')} (minimum version "
                            f"{d.get('MinAPIVersion', '')})"),
                            f"  Go version:       {d.get('GoVersion', '')}",
                            f"  Git commit:       {d.get('GitCommit', '')}",
                            f"  Built:            {d.get('BuildTime', '')}",
                            f"  OS/Arch:          {d.get('Os', '')}/{d.get('Arch', '')}",
                            f"  Experimental:     {d.get('Experimental', 'false')}"]
                else:
                    out += [f"  {k}:{' ' * max(1, 16 - len(k))}{v}" for k, v in d.items()]
        sys.stdout.write("\n".join(out) + "\n")
    if error is not None:
        raise error
    return 0


def info(client: Client, opts: Options) -> int:
    data = client.get("/info")
    if opts.format:
        sys.stdout.write(render_one(opts.format, data) + "\n")
        return 0
    c = _client_info(client)
    g = data.get
    plugins = g("Plugins") or {}
    out = ["Client:", f" Version:    {c['Version']}", f" Context:    {c['Context']}",
           " Debug Mode: false", "", "Server:",
           f" Containers: {g('Containers', 0)}", f"  Running: {g('ContainersRunning', 0)}",
           f"  Paused: {g('ContainersPaused', 0)}", f"  Stopped: {g('ContainersStopped', 0)}",
           f" Images: {g('Images', 0)}", f" Server Version: {g('ServerVersion', '')}",
           f" Storage Driver: {g('Driver', '')}"]
    out += [f"  {k}: {v}" for k, v in g("DriverStatus") or []]
    out += [f" Logging Driver: {g('LoggingDriver', '')}",
            f" Cgroup Driver: {g('CgroupDriver', '')}",
            f" Cgroup Version: {g('CgroupVersion', '')}", " Plugins:",
            f"  Volume: {' '.join(plugins.get('Volume') or [])}",
            f"  Network: {' '.join(plugins.get('Network') or [])}",
            f"  Log: {' '.join(plugins.get('Log') or [])}",
            f" Swarm: {(g('Swarm') or {}).get('LocalNodeState', 'inactive')}",
            f" Runtimes: {' '.join(sorted(g('Runtimes') or {}))}",
            f" Default Runtime: {g('DefaultRuntime', '')}",
            f" Init Binary: {g('InitBinary', '')}"]
    sec = g("SecurityOptions") or []
    if sec:
        out.append(" Security Options:")
        for opt in sec:
            fields = dict(kv.partition("=")[::2] for kv in opt.split(","))
            out.append(f"  {fields.pop('name', opt)}")
            out += [f"   {k.title()}: {v}" for k, v in fields.items()]
    out += [f" Kernel Version: {g('KernelVersion', '')}",
            f" Operating System: {g('OperatingSystem', '')}", f" OSType: {g('OSType', '')}",
            f" Architecture: {g('Architecture', '')}", f" CPUs: {g('NCPU', 0)}",
            f" Total Memory: {bytes_size(g('MemTotal') or 0)}", f" Name: {g('Name', '')}",
            f" ID: {g('ID', '')}", f" Docker Root Dir: {g('DockerRootDir', '')}",
            f" Debug Mode: {str(bool(g('Debug'))).lower()}",
            f" Experimental: {str(bool(g('ExperimentalBuild'))).lower()}",
            f" Live Restore Enabled: {str(bool(g('LiveRestoreEnabled'))).lower()}"]
    labels = g("Labels") or []
    if labels:
        out += [" Labels:"] + [f"  {lbl}" for lbl in labels]
    sys.stdout.write("\n".join(out) + "\n")
    for w in g("Warnings") or []:
        sys.stderr.write(f"{w}\n")
    return 0


def event_line(e: dict[str, Any]) -> str:
    """docker events' default line: time, type, action, id, (attributes)."""
    nano = e.get("timeNano") or int(e.get("time", 0)) * 10**9
    dt = datetime.fromtimestamp(nano // 10**9, UTC).astimezone()
    offset = dt.strftime("%z")
    zone = "Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}"
    stamp = dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{nano % 10**9:09d}{zone}"
    actor = e.get("Actor") or {}
    attrs = actor.get("Attributes") or {}
    line = f"{stamp} {e.get('Type', '')} {e.get('Action', '')} {actor.get('ID', '')}"
    if attrs:
        line += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return line


def events(client: Client, opts: Options) -> None:
    query = {"since": timestamp_param(opts.since), "until": timestamp_param(opts.until),
             "filters": filters_param(opts.filter)}
    resp = client.request("GET", "/events", query)
    fmt = "{{json .}}" if opts.format == "json" else opts.format
    for e in resp.iter_json():
        line = render_one(fmt, e) if fmt else event_line(e)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class DiskUsageContext(Context):
    FIELDS = ("Type", "TotalCount", "Active", "Size", "Reclaimable")

    def __init__(self, kind: str, total: int, active: int, size: int, reclaim: int) -> None:
        self.Type, self.TotalCount, self.Active = kind, str(total), str(active)
        self.Size = human_size(size)
        pct = f" ({reclaim * 100 // size}%)" if size > 0 else ""
        self.Reclaimable = human_size(reclaim) + pct


def disk_usage_rows(df: dict[str, Any]) -> list[DiskUsageContext]:
    images = df.get("Images") or []
    used_images = [i for i in images if (i.get("Containers") or 0) > 0]
    layers = df.get("LayersSize") or 0
    used = sum(i.get("VirtualSize", 0) - i.get("SharedSize", 0) for i in used_images
               if i.get("SharedSize", -1) != -1 and i.get("VirtualSize", -1) != -1)
    containers = df.get("Containers") or []
    active_c = [c for c in containers if c.get("State") in ("running", "paused", "restarting")]
    csize = sum(c.get("SizeRw") or 0 for c in containers)
    creclaim = csize - sum(c.get("SizeRw") or 0 for c in active_c)
    vols = df.get("Volumes") or []
    vsize = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in vols)
    vactive = [v for v in vols if (v.get("UsageData") or {}).get("RefCount", 0) > 0]
    vreclaim = sum(max((v.get("UsageData") or {}).get("Size", 0), 0) for v in vols
                   if v not in vactive)
    cache = df.get("BuildCache") or []
    bsize = sum(b.get("Size") or 0 for b in cache)
    breclaim = sum(b.get("Size") or 0 for b in cache if not b.get("InUse") and
                   not b.get("Shared"))
    return [DiskUsageContext("Images", len(images), len(used_images), layers, layers - used),
            DiskUsageContext("Containers", len(containers), len(active_c), csize, creclaim),
            DiskUsageContext("Local Volumes", len(vols), len(vactive), vsize, vreclaim),
            DiskUsageContext("Build Cache", len(cache),
                             sum(1 for b in cache if b.get("InUse")), bsize, breclaim)]


def df(client: Client, opts: Options) -> None:
    data = client.get("/system/df")
    write_rows(opts.format, disk_usage_rows(data),
               "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
               {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
                "Reclaimable": "RECLAIMABLE"})


def prune(client: Client, opts: Options) -> None:
    from pydocker.cli.prompt import confirm
    items = ["all stopped containers", "all networks not used by at least one container"]
    if opts.volumes:
        items.append("all anonymous volumes not used by at least one container")
    items += ["all images without at least one container associated to them" if opts.all
              else "all dangling images", "unused build cache"]
    warning = "WARNING! This will remove:\n" + "".join(f"  - {i}\n" for i in items)
    if not opts.force and not confirm(warning):
        return
    f = filters_param(opts.filter)
    total = 0
    report = client.post("/containers/prune", {"filters": f}) or {}
    total += report.get("SpaceReclaimed") or 0
    _deleted("Deleted Containers:", report.get("ContainersDeleted"))
    if opts.volumes:
        report = client.post("/volumes/prune", {"filters": f}) or {}
        total += report.get("SpaceReclaimed") or 0
        _deleted("Deleted Volumes:", report.get("VolumesDeleted"))
    report = client.post("/networks/prune", {"filters": f}) or {}
    _deleted("Deleted Networks:", report.get("NetworksDeleted"))
    image_filters = filters_param([*opts.filter, f"dangling={'false' if opts.all else 'true'}"])
    report = client.post("/images/prune", {"filters": image_filters}) or {}
    total += report.get("SpaceReclaimed") or 0
    lines = [f"{k.lower()}: {v}" for i in report.get("ImagesDeleted") or [] for k, v in i.items()
             if v]
    _deleted("Deleted Images:", lines)
    sys.stdout.write(f"Total reclaimed space: {human_size(total)}\n")


def _deleted(title: str, items: list[str] | None) -> None:
    if items:
        sys.stdout.write(title + "\n" + "".join(i + "\n" for i in items) + "\n")


INSPECT_PATHS = {"container": "/containers/{}/json", "image": "/images/{}/json",
                 "network": "/networks/{}", "volume": "/volumes/{}"}


def inspect(client: Client, opts: Options) -> int:
    import json
    kinds = [opts.type] if opts.type else ["container", "image", "network", "volume"]
    for k in kinds:
        if k not in INSPECT_PATHS:
            raise CliError(f'"{k}" is not a valid value for --type', status=1)
    found, errors = [], []
    for name in opts.args:
        for k in kinds:
            query = {"size": True} if opts.size and k == "container" else None
            try:
                found.append(client.get(INSPECT_PATHS[k].format(quote_ref(name)), query))
                break
            except APIError as e:
                if e.status != 404:
                    errors.append(str(e))
                    break
        else:
            errors.append(f"Error: No such {opts.type or 'object'}: {name}")
    if opts.format:
        for obj in found:
            sys.stdout.write(render_one(opts.format, obj) + "\n")
    else:
        sys.stdout.write(json.dumps(found, indent=4, ensure_ascii=False) + "\n")
    for message in errors:
        sys.stderr.write(message + "\n")
    return 1 if errors else 0


_FORMAT = Flag("format", "f", "str", help=FORMAT_HELP)

COMMANDS = {
    "version": Command("version", "[OPTIONS]", "Show the Docker version information", version,
                       (_FORMAT,), max_args=0),
    "info": Command("info", "[OPTIONS]", "Display system-wide information", info, (_FORMAT,),
                    max_args=0, aliases=("system info", "info")),
    "events": Command("events", "[OPTIONS]", "Get real time events from the server", events, (
        Flag("filter", "f", "list", help="Filter output based on conditions provided"),
        Flag("format", "", "str", help=FORMAT_HELP),
        Flag("since", "", "str", help="Show all events created since timestamp"),
        Flag("until", "", "str", help="Stream events until this timestamp"),
    ), max_args=0, aliases=("system events", "events")),
    "df": Command("system df", "[OPTIONS]", "Show docker disk usage", df, (
        Flag("format", "", "str", help=FORMAT_HELP),
        Flag("verbose", "v", help="Show detailed information on space usage"),
    ), max_args=0),
    "prune": Command("system prune", "[OPTIONS]", "Remove unused data", prune, (
        Flag("all", "a", help="Remove all unused images not just dangling ones"),
        Flag("filter", "", "list", help="Provide filter values (e.g. \"label=<key>=<value>\")"),
        Flag("force", "f", help="Do not prompt for confirmation"),
        Flag("volumes", "", help="Prune anonymous volumes"),
    ), max_args=0),
    "inspect": Command("inspect", "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level "
                       "information on Docker objects", inspect, (
                           _FORMAT,
                           Flag("size", "s", help="Display total file sizes if the type is "
                                "container"),
                           Flag("type", "", "str", help="Only inspect objects of the given "
                                "type"),
                       ), min_args=1),
}
