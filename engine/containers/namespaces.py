"""The namespaces a container shares: ``IpcMode``, ``PidMode``, ``UTSMode`` and
``NetworkMode`` as ``host``, ``container:<id>`` or a namespace of its own, as dockerd
resolves them (its adaptSharedNamespaceContainer at create, getIpcContainer /
getPidContainer / getNetworkedContainer at start) with its wording.

A pod is built this way: cri-dockerd's sandbox (the pause container, ``IpcMode:
shareable``) owns the namespaces and every container of the pod joins them with
``container:<sandbox id>``. Joining means the runtime setns()es into
``/proc/<pid of the target's first process>/ns/<kind>`` before it execs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydocker.engine.errors import Conflict, InvalidParameter, NotFound

from .model import Container

PREFIX = "container:"
MODE_KEYS = ("IpcMode", "PidMode", "NetworkMode", "UTSMode")
IPC_MODES = ("private", "shareable", "host", "none")
DEFAULT_IPC_MODE = "private"  # dockerd's default --default-ipc-mode
# A donor's /dev/shm can be joined unless it is a private one (dockerd: ShmPath is set).
UNSHAREABLE_IPC = ("private", "none")

GetContainer = Callable[[str], Container]


def joined(mode: str | None) -> str | None:
    """The container a mode names (``container:<ref>``), else None."""
    if mode and mode.startswith(PREFIX):
        return mode[len(PREFIX):]
    return None


def network_mode(hc: dict[str, Any]) -> str:
    """HostConfig.NetworkMode as dockerd reads it: unset and ``default`` are ``bridge``."""
    mode = hc.get("NetworkMode") or "bridge"
    return "bridge" if mode == "default" else mode


def own_netns(hc: dict[str, Any]) -> bool:
    """Bridge and user-defined networks: the container gets a network namespace of its
    own (not with host, none or container:<id>)."""
    mode = network_mode(hc)
    return mode not in ("host", "none") and joined(mode) is None


def etc_owner(c: Container) -> str | None:
    """Whose /etc files ``c`` shows in inspect: None for its own; with NetworkMode
    container:<id>, that container's once ``c`` started ("" before, as dockerd)."""
    return c.etc_owner if joined(c.host_config.get("NetworkMode")) is not None else None


def settle(hc: dict[str, Any], get: GetContainer, default_ipc: str = DEFAULT_IPC_MODE
           ) -> None:
    """At create: names become IDs (so a rename keeps the pod together), a missing IPC or
    PID donor is dockerd's 400, an unknown IPC mode too, and the IPC mode is the daemon's
    default (--default-ipc-mode) when not given. A missing network donor is only found
    at start, as dockerd."""
    for key in MODE_KEYS:
        ref = joined(hc.get(key))
        if ref is None:
            continue
        try:
            hc[key] = PREFIX + get(ref).id
        except NotFound:
            if key in ("IpcMode", "PidMode"):
                raise InvalidParameter(f"No such container: {ref}") from None
    ipc = hc.get("IpcMode") or default_ipc
    if ipc not in IPC_MODES and joined(ipc) is None:
        raise InvalidParameter(f"invalid IPC mode: {ipc}")
    hc["IpcMode"] = ipc


def check_hostname(config: dict[str, Any], hc: dict[str, Any]) -> None:
    """dockerd refuses a hostname of the container's own with the host's UTS namespace."""
    if hc.get("UTSMode") == "host" and config.get("Hostname"):
        raise InvalidParameter("conflicting options: hostname and the UTS mode")


def _running(get: GetContainer, ref: str, not_found: str | None, not_running: str
             ) -> Container:
    """The running container ``ref``; ``not_found``: the prefix of the 400 for a missing
    one (None: dockerd's plain 404)."""
    try:
        other = get(ref)
    except NotFound as exc:
        if not_found is None:
            raise
        raise InvalidParameter(f"{not_found}{exc}") from None
    if not other.state.running or not other.state.pid:
        raise Conflict(not_running.format(id=other.id))
    return other


def ipc_donor(c: Container, get: GetContainer) -> Container | None:
    ref = joined(c.host_config.get("IpcMode"))
    if ref is None:
        return None
    what = f"can't join IPC of container {ref}: "
    donor = _running(get, ref, what, what + "container {id} is not running")
    if (donor.host_config.get("IpcMode") or DEFAULT_IPC_MODE) in UNSHAREABLE_IPC:
        raise InvalidParameter(f"{what}non-shareable IPC (hint: use IpcMode:shareable for "
                               "the donor container)")
    return donor


def network_donor(c: Container, get: GetContainer) -> Container | None:
    ref = joined(c.host_config.get("NetworkMode"))
    if ref is None:
        return None
    if ref == c.id:
        raise InvalidParameter("cannot join own network")
    return _running(get, ref, None, "cannot join network of a non running container: {id}")


def namespace_paths(c: Container, get: GetContainer) -> dict[str, str]:
    """The runtime's ``ipc``, ``pid`` and ``uts``: "new", "host" or a namespace file."""
    hc = c.host_config
    out = {}
    ipc = hc.get("IpcMode") or DEFAULT_IPC_MODE
    donor = ipc_donor(c, get)
    out["ipc"] = (f"/proc/{donor.state.pid}/ns/ipc" if donor is not None
                  else "host" if ipc == "host" else "new")
    pid_ref = joined(hc.get("PidMode"))
    if pid_ref is not None:
        other = _running(get, pid_ref, f"cannot join PID of a non running container: "
                         f"{pid_ref}: ", "container {id} is not running")
        out["pid"] = f"/proc/{other.state.pid}/ns/pid"
    else:
        out["pid"] = "host" if hc.get("PidMode") == "host" else "new"
    uts_ref = joined(hc.get("UTSMode"))
    if uts_ref is not None:  # dockerd 20.10 ignores it, 23+ refuses it: we join it
        other = _running(get, uts_ref, None, "cannot join UTS of a non running container: {id}")
        out["uts"] = f"/proc/{other.state.pid}/ns/uts"
    else:
        out["uts"] = "host" if hc.get("UTSMode") == "host" else "new"
    return out
