"""Container read commands: ps, logs, top, port, container inspect, container prune."""

from __future__ import annotations

import json
import sys
import time

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import APIError, Client, quote_ref
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options
from pydocker.cli.formatter import LabelsContext, write_rows
from pydocker.cli.output import (
    ago,
    ellipsis,
    go_quote,
    go_time_string,
    human_size,
    parse_rfc3339,
    short_id,
    tabwrite,
)

PS_TABLE = "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
PS_HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
    "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS",
    "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS", "Platform": "PLATFORM",
    "Label": "LABEL",
}


def filters_param(specs: list[str]) -> str | None:
    """``-f key=value`` flags as the Engine API's map form: {"key": {"value": true}}."""
    if not specs:
        return None
    out: dict[str, dict[str, bool]] = {}
    for spec in specs:
        key, eq, value = spec.partition("=")
        if not eq:
            raise CliError("bad format of filter (expected name=value)", status=125)
        out.setdefault(key.strip().lower(), {})[value] = True
    return json.dumps(out)


def display_ports(ports: list[dict[str, Any]]) -> str:
    """formatter.DisplayablePorts: ranges grouped, host mappings last."""
    def key(p: dict[str, Any]) -> tuple[Any, ...]:
        return (p.get("PrivatePort", 0), p.get("IP", ""), p.get("PublicPort", 0),
                p.get("Type", ""))

    groups: dict[str, list[int]] = {}
    order: list[str] = []
    result: list[str] = []
    mappings: list[str] = []

    def form(pkey: str, first: int, last: int) -> str:
        ip, _, typ = pkey.rpartition("/")
        group = str(first) if first == last else f"{first}-{last}"
        if ip:
            host = f"[{ip}]" if ":" in ip else ip
            group = f"{host}:{group}->{group}"
        return f"{group}/{typ}"

    for p in sorted(ports, key=key):
        current, typ, ip = p.get("PrivatePort", 0), p.get("Type", "tcp"), p.get("IP", "")
        pkey = typ
        if ip:
            if p.get("PublicPort") != current:
                host = f"[{ip}]" if ":" in ip else ip
                mappings.append(f"{host}:{p.get('PublicPort')}->{current}/{typ}")
                continue
            pkey = f"{ip}/{typ}"
        g = groups.get(pkey)
        if g is None:
            groups[pkey] = [current, current]
            order.append(pkey)
        elif current == g[1] + 1:
            g[1] = current
        else:
            result.append(form(pkey, g[0], g[1]))
            groups[pkey] = [current, current]
    result += [form(k, *groups[k]) for k in order]
    return ", ".join(result + mappings)


class ContainerContext(LabelsContext):
    FIELDS = ("ID", "Image", "Command", "CreatedAt", "RunningFor", "Ports", "State", "Status",
              "Size", "Names", "Labels", "Label", "Mounts", "LocalVolumes", "Networks",
              "Platform")
    go_type = "*formatter.ContainerContext"

    def __init__(self, c: dict[str, Any], trunc: bool = True, now: float | None = None) -> None:
        self.c = c
        self.trunc = trunc
        self.now = now
        self.labels = c.get("Labels") or {}

    @property
    def ID(self) -> str:
        return short_id(self.c["Id"]) if self.trunc else self.c["Id"]

    @property
    def Image(self) -> str:
        image = self.c.get("Image") or ""
        if not image:
            return "<no image>"
        if self.trunc:
            if image.startswith("sha256:") or short_id(self.c.get("ImageID", "")) == image:
                return short_id(image)
            if "@" in image:
                return image.split("@", 1)[0]
        return str(image)

    @property
    def Command(self) -> str:
        cmd = self.c.get("Command") or ""
        return go_quote(ellipsis(cmd, 20) if self.trunc else cmd)

    @property
    def CreatedAt(self) -> str:
        return go_time_string(self.c.get("Created", 0))

    @property
    def RunningFor(self) -> str:
        return ago(self.c.get("Created", 0), self.now)

    @property
    def Ports(self) -> str:
        return display_ports(self.c.get("Ports") or [])

    @property
    def State(self) -> str:
        return str(self.c.get("State", ""))

    @property
    def Status(self) -> str:
        return str(self.c.get("Status", ""))

    @property
    def Size(self) -> str:
        srw = human_size(self.c.get("SizeRw") or 0, 3)
        root = self.c.get("SizeRootFs") or 0
        return f"{srw} (virtual {human_size(root, 3)})" if root > 0 else srw

    @property
    def Names(self) -> str:
        names = [n.removeprefix("/") for n in self.c.get("Names") or []]
        if self.trunc:
            for n in names:
                if "/" not in n:
                    names = [n]
                    break
        return ",".join(names)

    @property
    def Mounts(self) -> str:
        names = []
        for m in self.c.get("Mounts") or []:
            name = m.get("Name") or m.get("Source") or ""
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    @property
    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    @property
    def Networks(self) -> str:
        nets = ((self.c.get("NetworkSettings") or {}).get("Networks")) or {}
        return ",".join(sorted(nets))

    @property
    def Platform(self) -> Any:
        return None


def ps(client: Client, opts: Options) -> None:
    fmt = opts.format
    if opts.quiet and fmt in ("", "table"):
        fmt = "{{.ID}}"
    size = opts.size or ".Size" in fmt
    if opts.size and fmt in ("", "table"):
        fmt = "table " + PS_TABLE + "\t{{.Size}}"
    limit = 1 if opts.latest else opts.last
    query = {"all": True if (opts.all or limit > 0) else None,
             "limit": limit if limit > 0 else None, "size": True if size else None,
             "filters": filters_param(opts.filter)}
    containers = client.get("/containers/json", query)
    now = time.time()
    rows = [ContainerContext(c, not opts.no_trunc, now) for c in containers]
    write_rows(fmt, rows, PS_TABLE, PS_HEADERS)


def container_tty(client: Client, name: str) -> tuple[str, bool]:
    info = client.get(f"/containers/{quote_ref(name)}/json")
    return info["Id"], bool((info.get("Config") or {}).get("Tty"))


def timestamp_param(value: str, now: float | None = None) -> str | None:
    """--since/--until: a Go duration ('10m', '1h30m'), Unix seconds or an RFC 3339 date."""
    if not value:
        return None
    now = time.time() if now is None else now
    import re
    if re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", value):
        unit = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
        total = sum(float(n) * unit[u] for n, _, u in
                    re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", value))
        return f"{now - total:.9f}".rstrip("0").rstrip(".")
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return value
    try:
        v = value if ("T" in value or len(value) > 10) else value + "T00:00:00Z"
        if not re.search(r"(Z|[+-]\d\d:?\d\d)$", v):
            v += "Z"
        return f"{parse_rfc3339(v):.9f}".rstrip("0").rstrip(".")
    except ValueError:
        raise CliError(f'invalid value for "since": failed to parse value as time or '
                       f'duration: "{value}"', status=1) from None


def logs(client: Client, opts: Options) -> None:
    name = opts.args[0]
    _, tty = container_tty(client, name)
    query = {"stdout": True, "stderr": True, "follow": True if opts.follow else None,
             "timestamps": True if opts.timestamps else None,
             "tail": opts.tail if opts.tail != "all" else "all",
             "since": timestamp_param(opts.since), "until": timestamp_param(opts.until),
             "details": True if opts.details else None}
    resp = client.request("GET", f"/containers/{quote_ref(name)}/logs", query)
    from pydocker.cli.streams import copy_log_stream
    copy_log_stream(resp, tty)


def top(client: Client, opts: Options) -> None:
    query = {"ps_args": " ".join(opts.args[1:])} if len(opts.args) > 1 else None
    result = client.get(f"/containers/{quote_ref(opts.args[0])}/top", query)
    lines = ["\t".join(result.get("Titles") or [])]
    lines += ["\t".join(str(x) for x in p) for p in result.get("Processes") or []]
    sys.stdout.write(tabwrite(lines, minwidth=20, padding=3))


def port(client: Client, opts: Options) -> int:
    name = opts.args[0]
    info = client.get(f"/containers/{quote_ref(name)}/json")
    ports = ((info.get("NetworkSettings") or {}).get("Ports")) or {}

    def host(b: dict[str, str]) -> str:
        ip = b.get("HostIp") or "0.0.0.0"
        return f"[{ip}]:{b.get('HostPort')}" if ":" in ip else f"{ip}:{b.get('HostPort')}"

    if len(opts.args) > 1:
        want = opts.args[1]
        pkey = want if "/" in want else want + "/tcp"
        bindings = ports.get(pkey)
        if bindings:
            sys.stdout.write("".join(host(b) + "\n" for b in bindings))
            return 0
        raise CliError(f"Error: No public port '{want}' published for {name}")

    def order(k: str) -> tuple[int, str]:
        num, _, proto = k.partition("/")
        return (int(num) if num.isdigit() else 0, proto)

    for pkey in sorted(ports, key=order):
        for b in ports[pkey] or []:
            sys.stdout.write(f"{pkey} -> {host(b)}\n")
    return 0


def inspect_objects(client: Client, names: list[str], fetch: Any, fmt: str) -> int:
    """docker's inspect loop: print what was found, errors for the rest, exit 1 if any."""
    from pydocker.cli.formatter import render_one
    found, errors = [], []
    for name in names:
        try:
            found.append(fetch(name))
        except APIError as e:
            errors.append(str(e))
    if fmt:
        for obj in found:
            sys.stdout.write(render_one(fmt, obj) + "\n")
    else:
        sys.stdout.write(json.dumps(found, indent=4, ensure_ascii=False) + "\n")
    for message in errors:
        sys.stderr.write(message + "\n")
    return 1 if errors else 0


def inspect(client: Client, opts: Options) -> int:
    def fetch(name: str) -> Any:
        return client.get(f"/containers/{quote_ref(name)}/json",
                          {"size": True} if opts.size else None)
    return inspect_objects(client, opts.args, fetch, opts.format)


def prune(client: Client, opts: Options) -> None:
    from pydocker.cli.prompt import confirm
    if not opts.force and not confirm("WARNING! This will remove all stopped containers."):
        return
    report = client.post("/containers/prune", {"filters": filters_param(opts.filter)})
    deleted = report.get("ContainersDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Containers:\n" + "".join(d + "\n" for d in deleted) + "\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}\n")


FORMAT_HELP = ("Format output using a custom template:\n'table': table with column headers "
               "(default)\n'table TEMPLATE': table using the given Go template\n'json': JSON\n"
               "'TEMPLATE': the given Go template")

COMMANDS = {
    "ps": Command("ps", "[OPTIONS]", "List containers", ps, (
        Flag("all", "a", help="Show all containers (default shows just running)"),
        Flag("filter", "f", "list", help="Filter output based on conditions provided",
             metavar="filter"),
        Flag("format", "", "str", help=FORMAT_HELP),
        Flag("last", "n", "int", -1, help="Show n last created containers (includes all "
             "states)"),
        Flag("latest", "l", help="Show the latest created container (includes all states)"),
        Flag("no-trunc", "", help="Don't truncate output"),
        Flag("quiet", "q", help="Only display container IDs"),
        Flag("size", "s", help="Display total file sizes"),
    ), max_args=0, aliases=("container ls", "container list", "container ps", "ps")),
    "logs": Command("logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container", logs, (
        Flag("details", "", help="Show extra details provided to logs"),
        Flag("follow", "f", help="Follow log output"),
        Flag("since", "", "str", help="Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\")"
             " or relative (e.g. \"42m\" for 42 minutes)"),
        Flag("tail", "n", "str", "all", help="Number of lines to show from the end of the logs"),
        Flag("timestamps", "t", help="Show timestamps"),
        Flag("until", "", "str", help="Show logs before a timestamp or relative duration"),
    ), min_args=1, max_args=1),
    "top": Command("top", "CONTAINER [ps OPTIONS]", "Display the running processes of a "
                   "container", top, (), min_args=1, interspersed=False),
    "port": Command("port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a "
                    "specific mapping for the container", port, (), min_args=1, max_args=2),
    "inspect": Command("container inspect", "[OPTIONS] CONTAINER [CONTAINER...]",
                       "Display detailed information on one or more containers", inspect, (
                           Flag("format", "f", "str", help=FORMAT_HELP),
                           Flag("size", "s", help="Display total file sizes"),
                       ), min_args=1),
    "prune": Command("container prune", "[OPTIONS]", "Remove all stopped containers", prune, (
        Flag("filter", "", "list", help="Provide filter values (e.g. \"until=<timestamp>\")"),
        Flag("force", "f", help="Do not prompt for confirmation"),
    ), max_args=0),
}
