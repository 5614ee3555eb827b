"""``docker top``: the host's ps, narrowed to the processes of one container."""

from __future__ import annotations

import asyncio
import os
import shlex
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.commands import HostCommandError, arun


def container_pids(init_pid: int) -> set[int]:
    """Every process in the pid namespace of the container's init."""
    try:
        target = os.readlink(f"/proc/{init_pid}/ns/pid")
    except OSError:
        return set()
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == target:
                    pids.add(int(entry))
            except OSError:
                continue
    return pids


async def top(init_pid: int, ps_args: str) -> dict[str, Any]:
    # ps_args are the client's: ps refusing them, or output without a PID column, is a
    # bad request (400), not the daemon failing.
    try:
        args = shlex.split(ps_args) if ps_args else ["-ef"]
    except ValueError as e:
        raise InvalidParameter(f"invalid ps_args {ps_args!r}: {e}") from None
    try:
        out = await arun(["ps", *args])
    except HostCommandError as e:
        raise InvalidParameter(f"Error running ps: {e.stderr.strip()}") from None
    lines = out.splitlines()
    if not lines:
        raise InvalidParameter("ps returned no output")
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidParameter("Couldn't find PID field in ps output")
    pid_col = titles.index("PID")
    pids = await asyncio.to_thread(container_pids, init_pid)
    processes = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        if len(fields) > pid_col and fields[pid_col].isdigit() and int(fields[pid_col]) in pids:
            processes.append(fields)
    return {"Titles": titles, "Processes": processes}
