"""``stats``: docker's resource table, once (--no-stream) or redrawn live each second."""

from __future__ import annotations

import os
import sys
import threading
import time

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import APIError, Client, quote_ref
from pydocker.cli.commands.containers import FORMAT_HELP
from pydocker.cli.flags import Command, Flag, Options
from pydocker.cli.formatter import Context, render
from pydocker.cli.output import bytes_size, human_size

STATS_TABLE = ("{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"
               "{{.BlockIO}}\t{{.PIDs}}")
STATS_HEADERS = {"ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME",
                 "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",
                 "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}


def compute(s: dict[str, Any]) -> dict[str, float]:
    """docker's formulas (cli/command/container/stats_helpers.go) for a Linux sample."""
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    cpu_delta = ((cpu.get("cpu_usage") or {}).get("total_usage", 0)
                 - (pre.get("cpu_usage") or {}).get("total_usage", 0))
    sys_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage")
                                           or []) or 1
    cpu_pct = cpu_delta / sys_delta * online * 100.0 if sys_delta > 0 and cpu_delta > 0 else 0.0
    mem = s.get("memory_stats") or {}
    mstats = mem.get("stats") or {}
    usage = mem.get("usage") or 0
    for key in ("total_inactive_file", "inactive_file"):
        if key in mstats and mstats[key] < usage:
            usage -= mstats[key]
            break
    limit = mem.get("limit") or 0
    rx = sum(n.get("rx_bytes", 0) for n in (s.get("networks") or {}).values())
    tx = sum(n.get("tx_bytes", 0) for n in (s.get("networks") or {}).values())
    read = write = 0
    for entry in (s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", "")).lower()
        if op == "read":
            read += entry.get("value", 0)
        elif op == "write":
            write += entry.get("value", 0)
    return {"cpu": cpu_pct, "mem": float(usage), "limit": float(limit),
            "mem_pct": usage / limit * 100.0 if limit else 0.0, "rx": rx, "tx": tx,
            "read": read, "write": write,
            "pids": float((s.get("pids_stats") or {}).get("current") or 0)}


class StatsContext(Context):
    FIELDS = ("ID", "Container", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO",
              "PIDs")
    go_type = "*formatter.statsContext"

    def __init__(self, container: str, cid: str, name: str, s: dict[str, Any] | None,
                 trunc: bool) -> None:
        self.Container = container
        self.ID = cid[:12] if trunc else cid
        self.Name = name.lstrip("/") or "--"
        if s is None:
            self.CPUPerc = self.MemPerc = "--"
            self.MemUsage = self.NetIO = self.BlockIO = "-- / --"
            self.PIDs = "--"
            return
        v = compute(s)
        self.CPUPerc = f"{v['cpu']:.2f}%"
        self.MemUsage = f"{bytes_size(v['mem'])} / {bytes_size(v['limit'])}"
        self.MemPerc = f"{v['mem_pct']:.2f}%"
        self.NetIO = f"{human_size(v['rx'], 3)} / {human_size(v['tx'], 3)}"
        self.BlockIO = f"{human_size(v['read'], 3)} / {human_size(v['write'], 3)}"
        self.PIDs = str(int(v["pids"]))


def _targets(client: Client, opts: Options) -> list[tuple[str, str, str]]:
    """(as given, id, name) for each container to watch."""
    if opts.args:
        out = []
        for name in opts.args:
            info = client.get(f"/containers/{quote_ref(name)}/json")
            out.append((name, info["Id"], info.get("Name", "")))
        return out
    listing = client.get("/containers/json", {"all": True if opts.all else None})
    return [(c["Id"][:12], c["Id"], (c.get("Names") or [""])[0]) for c in listing]


def stats(client: Client, opts: Options) -> int:
    targets = _targets(client, opts)
    fmt = opts.format
    if opts.no_stream:
        rows = []
        for given, cid, name in targets:
            try:
                s = client.get(f"/containers/{cid}/stats", {"stream": False})
            except APIError:
                s = None
            rows.append(StatsContext(given, cid, name, s, not opts.no_trunc))
        sys.stdout.write(render(fmt, rows, STATS_TABLE, STATS_HEADERS))
        return 0
    latest: dict[str, dict[str, Any] | None] = {cid: None for _, cid, _ in targets}

    def follow(cid: str) -> None:
        c = Client(client.host)
        c.version = client.negotiate()
        try:
            for s in c.request("GET", f"/containers/{cid}/stats", {"stream": True}).iter_json():
                latest[cid] = s
        except (APIError, OSError):
            pass

    for _, cid, _ in targets:
        threading.Thread(target=follow, args=(cid,), daemon=True).start()
    tty = os.isatty(1)
    while True:
        time.sleep(1)
        rows = [StatsContext(g, cid, n, latest.get(cid), not opts.no_trunc)
                for g, cid, n in targets]
        text = render(fmt, rows, STATS_TABLE, STATS_HEADERS)
        sys.stdout.write(("\x1b[2J\x1b[H" if tty else "") + text)
        sys.stdout.flush()


COMMANDS = {
    "stats": Command("stats", "[OPTIONS] [CONTAINER...]", "Display a live stream of "
                     "container(s) resource usage statistics", stats, (
                         Flag("all", "a", help="Show all containers (default shows just "
                              "running)"),
                         Flag("format", "", "str", help=FORMAT_HELP),
                         Flag("no-stream", "", help="Disable streaming stats and only pull "
                              "the first result"),
                         Flag("no-trunc", "", help="Do not truncate output"),
                     ), aliases=("container stats", "stats")),
}
