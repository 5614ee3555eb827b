"""Live restore, restart policies and health checks, against a daemon of the test's own."""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def wait_for(predicate, timeout: float = 15, step: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


def test_containers_survive_a_daemon_kill(fresh_daemon: Daemon, busybox_tar: bytes) -> None:
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    client = d.client()
    ticking = [client.containers.run(
        "busybox", ["sh", "-c", "i=0; while true; do echo t$i; i=$((i+1)); sleep 0.2; done"],
        detach=True, name=f"live{n}") for n in range(3)]
    short = client.containers.run("busybox", ["sh", "-c", "sleep 1; exit 42"], detach=True,
                                  name="short")
    client.close()
    wait_for(lambda: b"t2" in ticking[0].logs())
    d.stop(signal.SIGKILL)
    time.sleep(2)  # `short` exits while no daemon is there
    d.start()
    client = d.client()
    try:
        for c in ticking:
            c.reload()
            assert c.status == "running", c.attrs["State"]
            before = c.logs().count(b"\n")
            wait_for(lambda c=c, before=before: c.logs().count(b"\n") > before)
            assert c.exec_run(["echo", "still-here"]).output == b"still-here\n"
        short.reload()
        assert short.status == "exited"
        assert short.attrs["State"]["ExitCode"] == 42
        ps = d.cli("ps", "--format", "{{.Names}}").stdout.split()
        assert sorted(ps) == ["live0", "live1", "live2"]
    finally:
        client.close()


def test_on_failure_restarts_exactly_twice(client, busybox: str) -> None:  # type: ignore[no-untyped-def]
    c = client.containers.run("busybox", ["sh", "-c", "exit 1"], detach=True,
                              restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    try:
        def settled():  # type: ignore[no-untyped-def]
            c.reload()
            return c.attrs["RestartCount"] == 2 and c.status == "exited"
        wait_for(settled, timeout=20)
        time.sleep(1)
        c.reload()
        assert c.attrs["RestartCount"] == 2
        assert c.attrs["State"]["ExitCode"] == 1
    finally:
        c.remove(force=True)


def test_stop_is_respected_by_always(client, busybox: str) -> None:  # type: ignore[no-untyped-def]
    c = client.containers.run("busybox", ["sleep", "300"], detach=True,
                              restart_policy={"Name": "always"})
    try:
        c.stop(timeout=0)
        time.sleep(1)
        c.reload()
        assert c.status == "exited"
    finally:
        c.remove(force=True)


def test_unhealthy_check_flips_status(daemon: Daemon, busybox: str) -> None:
    cid = daemon.cli("run", "-d", "--health-cmd", "test -f /tmp/ok",
                     "--health-interval", "200ms", "--health-retries", "2",
                     "busybox", "sh", "-c", "touch /tmp/ok; sleep 300").stdout.strip()
    try:
        status = lambda: daemon.cli("inspect", "-f", "{{.State.Health.Status}}",  # noqa: E731
                                    cid).stdout.strip()
        wait_for(lambda: status() == "healthy")
        daemon.cli("exec", cid, "rm", "/tmp/ok")
        wait_for(lambda: status() == "unhealthy")
        names = daemon.cli("ps", "--filter", "health=unhealthy", "-q").stdout.split()
        assert cid[:12] in names
    finally:
        daemon.cli("rm", "-f", cid)


def test_default_bridge_subnet_is_chosen_clear_of_host_routes(tmp_path, busybox_tar: bytes) -> None:  # type: ignore[no-untyped-def]
    import ipaddress
    import subprocess

    from tests.e2e.harness import leftovers
    d = Daemon(tmp_path, choose_subnet=True)
    d.start()
    try:
        import_busybox(d, busybox_tar)
        client = d.client()
        c = client.containers.run("busybox", ["sleep", "30"], detach=True)
        c.reload()
        ip = ipaddress.ip_address(c.attrs["NetworkSettings"]["IPAddress"])
        routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True,
                                check=True).stdout
        for line in routes.splitlines():
            dest = line.split()[0]
            if "/" in dest and d.bridge not in line:
                assert ip not in ipaddress.ip_network(dest), line
        c.remove(force=True)
        client.close()
    finally:
        assert d.stop() == 0, d.log()
    assert leftovers(d) == []


def test_published_port_survives_a_daemon_kill(fresh_daemon: Daemon, busybox_tar: bytes) -> None:
    import socket
    import urllib.request
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = d.client()
    client.containers.run("busybox", ["sh", "-c", ("mkdir -p /w && echo alive > /w/index.html "
                                       "&& httpd -f -p 80 -h /w")], detach=True,
                          ports={"80/tcp": ("127.0.0.1", port)})
    client.close()
    url = f"http://127.0.0.1:{port}/"

    def fetch() -> bytes:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.read()
    assert wait_for(lambda: _try(fetch)) == b"alive\n"
    d.stop(signal.SIGKILL)
    assert _try(fetch) == b"alive\n"  # the kernel's DNAT does not need the daemon
    d.start()
    assert wait_for(lambda: _try(fetch)) == b"alive\n"


def _try(fn):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except OSError:
        return None
