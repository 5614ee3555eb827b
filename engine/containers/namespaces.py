"""``--ipc``, ``--pid`` and ``--uts``: which namespaces a container shares, as dockerd
decides it (daemon/oci_linux.go WithNamespaces): its own ("new"), the host's ("host"), or
another running container's (the path of that container's namespace file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydocker.engine.errors import Conflict, InvalidParameter

from .model import Container

_IPC_OWN = ("", "private", "shareable", "none")  # "none": no /dev/shm of its own either


def check_at_create(config: dict[str, Any], host_config: dict[str, Any],
                    find: Callable[[str], Container]) -> None:
    """What dockerd refuses at create: a hostname with the host's UTS namespace, and a
    container to share with that does not exist (its 404)."""
    if host_config.get("UTSMode") == "host" and config.get("Hostname"):
        raise InvalidParameter("conflicting options: hostname and the UTS mode")
    for key in ("IpcMode", "PidMode"):
        mode = host_config.get(key) or ""
        if mode.startswith("container:"):
            find(mode.partition(":")[2])


def resolve(host_config: dict[str, Any], find: Callable[[str], Container]) -> dict[str, str]:
    """{"ipc", "pid", "uts"} → "new", "host" or a namespace file, at start."""
    ipc = host_config.get("IpcMode") or ""
    if ipc not in (*_IPC_OWN, "host") and not ipc.startswith("container:"):
        raise InvalidParameter(f"Invalid IPC mode: {ipc}")
    return {"ipc": _shared("ipc", ipc, find),
            "pid": _shared("pid", host_config.get("PidMode") or "", find),
            "uts": "host" if host_config.get("UTSMode") == "host" else "new"}


def _shared(kind: str, mode: str, find: Callable[[str], Container]) -> str:
    if mode == "host":
        return "host"
    if not mode.startswith("container:"):
        return "new"
    other = find(mode.partition(":")[2])
    if not other.state.running or not other.state.pid:
        raise Conflict(f"container {other.id} is not running")
    if kind == "ipc" and (other.host_config.get("IpcMode") or "") not in ("shareable", "host"):
        raise Conflict(f"can't join IPC of container {other.id}: non-shareable IPC (hint: use "
                       "IpcMode:shareable for the donor container)")
    return f"/proc/{other.state.pid}/ns/{kind}"
