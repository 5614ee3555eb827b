"""volume ls/create/rm/inspect/prune."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import Client, quote_ref
from pydocker.cli.commands.containers import FORMAT_HELP, filters_param, inspect_objects
from pydocker.cli.commands.lifecycle import for_each
from pydocker.cli.flags import Command, Flag, Options
from pydocker.cli.formatter import LabelsContext, write_rows
from pydocker.cli.output import human_size

VOLUME_TABLE = "{{.Driver}}\t{{.Name}}"
VOLUME_HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                  "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Label": "LABEL",
                  "Links": "LINKS", "Size": "SIZE", "Availability": "AVAILABILITY",
                  "Group": "GROUP", "Status": "STATUS"}


class VolumeContext(LabelsContext):
    FIELDS = ("Name", "Driver", "Scope", "Mountpoint", "Labels", "Label", "Links", "Size",
              "Availability", "Group", "Status")
    go_type = "*formatter.volumeContext"

    def __init__(self, v: dict[str, Any]) -> None:
        self.v = v
        self.labels = v.get("Labels") or {}

    def _get(self, key: str) -> str:
        return str(self.v.get(key) or "")

    Name = property(lambda self: self._get("Name"))
    Driver = property(lambda self: self._get("Driver"))
    Scope = property(lambda self: self._get("Scope"))
    Mountpoint = property(lambda self: self._get("Mountpoint"))
    Availability = property(lambda self: "N/A")
    Group = property(lambda self: "N/A")
    Status = property(lambda self: "N/A")

    @property
    def Links(self) -> str:
        usage = self.v.get("UsageData") or {}
        return str(usage["RefCount"]) if usage.get("RefCount", -1) >= 0 else "N/A"

    @property
    def Size(self) -> str:
        usage = self.v.get("UsageData") or {}
        size = usage.get("Size", -1)
        return human_size(size, 3) if size is not None and size >= 0 else "N/A"


def ls(client: Client, opts: Options) -> None:
    result = client.get("/volumes", {"filters": filters_param(opts.filter)}) or {}
    vols = sorted(result.get("Volumes") or [], key=lambda v: v.get("Name", ""))
    for w in result.get("Warnings") or []:
        sys.stderr.write(f"{w}\n")
    fmt = opts.format
    if opts.quiet and fmt in ("", "table"):
        fmt = "{{.Name}}"
    write_rows(fmt, [VolumeContext(v) for v in vols], VOLUME_TABLE, VOLUME_HEADERS)


def create(client: Client, opts: Options) -> None:
    name = opts.args[0] if opts.args else opts.name
    body = {"Name": name, "Driver": opts.driver,
            "DriverOpts": dict(o.partition("=")[::2] for o in opts.opt),
            "Labels": dict(lbl.partition("=")[::2] for lbl in opts.label)}
    result = client.post("/volumes/create", None, body)
    sys.stdout.write(f"{result['Name']}\n")


def rm(client: Client, opts: Options) -> int:
    def remove(name: str) -> None:
        client.request("DELETE", f"/volumes/{quote_ref(name)}",
                       {"force": True if opts.force else None}).read()
    return 1 if for_each(opts.args, remove) else 0


def inspect(client: Client, opts: Options) -> int:
    return inspect_objects(client, opts.args,
                           lambda n: client.get(f"/volumes/{quote_ref(n)}"), opts.format)


def prune(client: Client, opts: Options) -> None:
    from pydocker.cli.prompt import confirm
    warning = ("WARNING! This will remove all local volumes not used by at least one "
               "container." if opts.all else "WARNING! This will remove anonymous local "
               "volumes not used by at least one container.")
    if not opts.force and not confirm(warning):
        return
    filters = list(opts.filter) + (["all=true"] if opts.all else [])
    report = client.post("/volumes/prune", {"filters": filters_param(filters)}) or {}
    deleted = report.get("VolumesDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Volumes:\n" + "".join(d + "\n" for d in deleted) + "\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(report.get('SpaceReclaimed') or 0)}\n")


COMMANDS = {
    "ls": Command("volume ls", "[OPTIONS]", "List volumes", ls, (
        Flag("cluster", "", help="Display only cluster volumes, and use cluster volume list "
             "formatting"),
        Flag("filter", "f", "list", help="Provide filter values (e.g. \"dangling=true\")"),
        Flag("format", "", "str", help=FORMAT_HELP),
        Flag("quiet", "q", help="Only display volume names"),
    ), max_args=0),
    "create": Command("volume create", "[OPTIONS] [VOLUME]", "Create a volume", create, (
        Flag("driver", "d", "str", "local", help="Specify volume driver name"),
        Flag("label", "", "list", help="Set metadata for a volume"),
        Flag("name", "", "str", help="Specify volume name"),
        Flag("opt", "o", "list", help="Set driver specific options"),
    ), max_args=1),
    "rm": Command("volume rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes",
                  rm, (Flag("force", "f", help="Force the removal of one or more volumes"),),
                  min_args=1),
    "inspect": Command("volume inspect", "[OPTIONS] VOLUME [VOLUME...]", "Display detailed "
                       "information on one or more volumes", inspect, (
                           Flag("format", "f", "str", help=FORMAT_HELP),), min_args=1),
    "prune": Command("volume prune", "[OPTIONS]", "Remove unused local volumes", prune, (
        Flag("all", "a", help="Remove all unused volumes, not just anonymous ones"),
        Flag("filter", "", "list", help="Provide filter values (e.g. \"label=<label>\")"),
        Flag("force", "f", help="Do not prompt for confirmation"),
    ), max_args=0),
}
