"""network ls/create/rm/inspect/connect/disconnect/prune."""

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
from pydocker.cli.output import go_time_from_rfc3339, short_id

NETWORK_TABLE = "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
                   "Label": "LABEL", "CreatedAt": "CREATED AT"}


def _b(v: Any) -> str:
    return "true" if v else "false"


class NetworkContext(LabelsContext):
    FIELDS = ("ID", "Name", "Driver", "Scope", "IPv4", "IPv6", "Internal", "Labels", "Label",
              "CreatedAt")
    go_type = "*formatter.networkContext"

    def __init__(self, n: dict[str, Any], trunc: bool) -> None:
        self.n, self.trunc = n, trunc
        self.labels = n.get("Labels") or {}

    @property
    def ID(self) -> str:
        return short_id(self.n["Id"]) if self.trunc else str(self.n["Id"])

    @property
    def Name(self) -> str:
        return str(self.n.get("Name", ""))

    @property
    def Driver(self) -> str:
        return str(self.n.get("Driver", ""))

    @property
    def Scope(self) -> str:
        return str(self.n.get("Scope", ""))

    @property
    def IPv4(self) -> str:
        return _b(self.n.get("EnableIPv4", True))

    @property
    def IPv6(self) -> str:
        return _b(self.n.get("EnableIPv6"))

    @property
    def Internal(self) -> str:
        return _b(self.n.get("Internal"))

    @property
    def CreatedAt(self) -> str:
        return go_time_from_rfc3339(str(self.n.get("Created", "")))


def ls(client: Client, opts: Options) -> None:
    nets = client.get("/networks", {"filters": filters_param(opts.filter)}) or []
    nets.sort(key=lambda n: n.get("Name", ""))
    fmt = opts.format
    if opts.quiet and fmt in ("", "table"):
        fmt = "{{.ID}}"
    write_rows(fmt, [NetworkContext(n, not opts.no_trunc) for n in nets], NETWORK_TABLE,
               NETWORK_HEADERS)


def _kv(items: list[str]) -> dict[str, str]:
    return dict(i.partition("=")[::2] for i in items)


def create(client: Client, opts: Options) -> None:
    ipam_config = []
    for n, subnet in enumerate(opts.subnet):
        cfg = {"Subnet": subnet}
        if n < len(opts.gateway):
            cfg["Gateway"] = opts.gateway[n]
        if n < len(opts.ip_range):
            cfg["IPRange"] = opts.ip_range[n]
        if opts.aux_address:
            cfg["AuxiliaryAddresses"] = _kv(opts.aux_address)
        ipam_config.append(cfg)
    body = {"Name": opts.args[0], "Driver": opts.driver, "Internal": opts.internal,
            "Attachable": opts.attachable, "EnableIPv6": opts.ipv6 or None,
            "Options": _kv(opts.opt), "Labels": _kv(opts.label),
            "IPAM": {"Driver": opts.ipam_driver, "Config": ipam_config,
                     "Options": _kv(opts.ipam_opt)},
            "CheckDuplicate": True}
    result = client.post("/networks/create", None, body)
    sys.stdout.write(f"{result['Id']}\n")


def rm(client: Client, opts: Options) -> int:
    def remove(name: str) -> None:
        client.request("DELETE", f"/networks/{quote_ref(name)}").read()
    return 1 if for_each(opts.args, remove) else 0


def inspect(client: Client, opts: Options) -> int:
    return inspect_objects(client, opts.args,
                           lambda n: client.get(f"/networks/{quote_ref(n)}"), opts.format)


def connect(client: Client, opts: Options) -> None:
    from pydocker.cli.commands.runconfig import endpoint_config
    net, container = opts.args
    endpoint = endpoint_config(opts.alias, opts.ip, opts.ip6)
    if opts.link:
        endpoint["Links"] = opts.link
    client.request("POST", f"/networks/{quote_ref(net)}/connect", None,
                   {"Container": container, "EndpointConfig": endpoint or None}).read()


def disconnect(client: Client, opts: Options) -> None:
    net, container = opts.args
    client.request("POST", f"/networks/{quote_ref(net)}/disconnect", None,
                   {"Container": container, "Force": opts.force}).read()


def prune(client: Client, opts: Options) -> None:
    from pydocker.cli.prompt import confirm
    if not opts.force and not confirm("WARNING! This will remove all custom networks not "
                                      "used by at least one container."):
        return
    report = client.post("/networks/prune", {"filters": filters_param(opts.filter)}) or {}
    deleted = report.get("NetworksDeleted") or []
    if deleted:
        sys.stdout.write("Deleted Networks:\n" + "".join(d + "\n" for d in deleted))


def _net(path: str, usage: str, help_text: str, fn: Any, flags: tuple[Flag, ...] = (),
         lo: int = 0, hi: int | None = None) -> Command:
    return Command(f"network {path}", usage, help_text, fn, flags, min_args=lo, max_args=hi)


COMMANDS = {
    "ls": _net("ls", "[OPTIONS]", "List networks", ls, (
        Flag("filter", "f", "list", help="Provide filter values (e.g. \"driver=bridge\")"),
        Flag("format", "", "str", help=FORMAT_HELP),
        Flag("no-trunc", "", help="Do not truncate the output"),
        Flag("quiet", "q", help="Only display network IDs"),
    ), hi=0),
    "create": _net("create", "[OPTIONS] NETWORK", "Create a network", create, (
        Flag("attachable", "", help="Enable manual container attachment"),
        Flag("aux-address", "", "list", help="Auxiliary IPv4 or IPv6 addresses used by "
             "Network driver"),
        Flag("driver", "d", "str", "bridge", help="Driver to manage the Network"),
        Flag("gateway", "", "list", help="IPv4 or IPv6 Gateway for the master subnet"),
        Flag("internal", "", help="Restrict external access to the network"),
        Flag("ip-range", "", "list", help="Allocate container ip from a sub-range"),
        Flag("ipam-driver", "", "str", "default", help="IP Address Management Driver"),
        Flag("ipam-opt", "", "list", help="Set IPAM driver specific options"),
        Flag("ipv6", "", help="Enable or disable IPv6 networking"),
        Flag("label", "", "list", help="Set metadata on a network"),
        Flag("opt", "o", "list", help="Set driver specific options"),
        Flag("subnet", "", "list", help="Subnet in CIDR format that represents a network "
             "segment"),
    ), lo=1, hi=1),
    "rm": _net("rm", "NETWORK [NETWORK...]", "Remove one or more networks", rm, (
        Flag("force", "f", help="Do not error if the network does not exist"),), lo=1),
    "inspect": _net("inspect", "[OPTIONS] NETWORK [NETWORK...]", "Display detailed "
                    "information on one or more networks", inspect, (
                        Flag("format", "f", "str", help=FORMAT_HELP),
                        Flag("verbose", "v", help="Verbose output for diagnostics"),
                    ), lo=1),
    "connect": _net("connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a "
                    "network", connect, (
                        Flag("alias", "", "list", help="Add network-scoped alias for the "
                             "container"),
                        Flag("ip", "", "str", help="IPv4 address (e.g., \"172.30.100.104\")"),
                        Flag("ip6", "", "str", help="IPv6 address (e.g., \"2001:db8::33\")"),
                        Flag("link", "", "list", help="Add link to another container"),
                    ), lo=2, hi=2),
    "disconnect": _net("disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container "
                       "from a network", disconnect, (
                           Flag("force", "f", help="Force the container to disconnect from a "
                                "network"),), lo=2, hi=2),
    "prune": _net("prune", "[OPTIONS]", "Remove all unused networks", prune, (
        Flag("filter", "", "list", help="Provide filter values (e.g. \"until=<timestamp>\")"),
        Flag("force", "f", help="Do not prompt for confirmation"),
    ), hi=0),
}
