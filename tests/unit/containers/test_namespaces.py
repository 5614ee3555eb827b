"""Shared namespaces as dockerd resolves them: names become IDs at create, donors are
checked at start with dockerd's words, and the runtime gets namespace files."""

from __future__ import annotations

from typing import Any

import pytest
from pydocker.engine.containers.model import Container
from pydocker.engine.containers.namespaces import namespace_paths, settle
from pydocker.engine.containers.state import ContainerState
from pydocker.engine.errors import Conflict, InvalidParameter, NotFound

SANDBOX = "a" * 64


def container(cid: str, name: str, running: bool = True, **hc: Any) -> Container:
    c = Container(id=cid, name=name, created="", image_id="", config={}, host_config=hc,
                  path="sh", args=[])
    if running:
        c.state.status, c.state.pid = ContainerState.RUNNING, 4242
    return c


def getter(*known: Container) -> Any:
    def get(ref: str) -> Container:
        for c in known:
            if ref in (c.id, c.name, c.id[:12]):
                return c
        raise NotFound(f"No such container: {ref}")
    return get


def test_create_names_become_ids_and_ipc_defaults_to_private() -> None:
    get = getter(container(SANDBOX, "k8s_POD", IpcMode="shareable"))
    hc: dict[str, Any] = {"IpcMode": "container:k8s_POD", "PidMode": "container:k8s_POD",
                          "NetworkMode": "container:aaaaaaaaaaaa"}
    settle(hc, get)
    assert hc == {"IpcMode": f"container:{SANDBOX}", "PidMode": f"container:{SANDBOX}",
                  "NetworkMode": f"container:{SANDBOX}"}
    empty: dict[str, Any] = {"IpcMode": ""}
    settle(empty, get)
    assert empty["IpcMode"] == "private"
    settle(empty := {"IpcMode": ""}, get, "shareable")  # pydockerd --default-ipc-mode
    assert empty["IpcMode"] == "shareable"


@pytest.mark.parametrize(("hc", "message"), [
    ({"IpcMode": "container:gone"}, "No such container: gone"),
    ({"PidMode": "container:gone"}, "No such container: gone"),
    ({"IpcMode": "bogus"}, "invalid IPC mode: bogus"),
])
def test_create_refuses_what_dockerd_refuses(hc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        settle(hc, getter())


def test_a_missing_network_donor_is_found_only_at_start() -> None:
    hc = {"NetworkMode": "container:gone"}
    settle(hc, getter())
    assert hc["NetworkMode"] == "container:gone"


def test_joiners_get_the_donors_namespace_files() -> None:
    sandbox = container(SANDBOX, "k8s_POD", IpcMode="shareable")
    joined = f"container:{SANDBOX}"
    app = container("b" * 64, "app", running=False, IpcMode=joined, PidMode=joined,
                    UTSMode=joined)
    assert namespace_paths(app, getter(sandbox)) == {
        "ipc": "/proc/4242/ns/ipc", "pid": "/proc/4242/ns/pid", "uts": "/proc/4242/ns/uts"}
    host = container("c" * 64, "host", running=False, IpcMode="host", PidMode="host",
                     UTSMode="host")
    assert namespace_paths(host, getter()) == {"ipc": "host", "pid": "host", "uts": "host"}
    own = container("d" * 64, "own", running=False, IpcMode="shareable")
    assert namespace_paths(own, getter()) == {"ipc": "new", "pid": "new", "uts": "new"}


def test_donors_must_run_and_share() -> None:
    stopped = container(SANDBOX, "stopped", running=False, IpcMode="shareable")
    app = container("b" * 64, "app", running=False, IpcMode=f"container:{SANDBOX}")
    with pytest.raises(Conflict, match=f"can't join IPC of container {SANDBOX}: container "
                                       f"{SANDBOX} is not running"):
        namespace_paths(app, getter(stopped))
    private = container(SANDBOX, "private", IpcMode="private")
    with pytest.raises(InvalidParameter, match="non-shareable IPC"):
        namespace_paths(app, getter(private))
    pid_app = container("b" * 64, "app", running=False, PidMode=f"container:{SANDBOX}")
    with pytest.raises(Conflict, match=f"^container {SANDBOX} is not running$"):
        namespace_paths(pid_app, getter(stopped))
