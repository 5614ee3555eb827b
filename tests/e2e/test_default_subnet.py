"""Living beside a dockerd (issue 15, part 3): the default bridge's subnet is kept in the data
root, and another interface (a dockerd's docker0, here a dummy interface of the test's own)
may route it by the next start. Then it is replaced when no container holds it, and the
start is refused, leaving the live containers alone, when one does."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon, leftovers

pytestmark = [pytest.mark.root, pytest.mark.e2e]

ANSWER = ["nc", "-ll", "-p", "80", "-e", "echo", "answered"]


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


@contextlib.contextmanager
def routed_elsewhere(name: str, subnet: ipaddress.IPv4Network) -> Iterator[None]:
    """An interface of the test's own carrying an address of ``subnet``, hence its route (as
    docker0 carries 172.17.0.1/16); removed however the test ends. A bare bridge stands in
    for a dummy interface: this kernel has no dummy driver."""
    address = subnet.broadcast_address - 1
    _ip("link", "add", name, "type", "bridge")
    try:
        _ip("addr", "add", f"{address}/{subnet.prefixlen}", "dev", name)
        _ip("link", "set", name, "up")
        yield
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)


def _default_subnet(d: Daemon) -> ipaddress.IPv4Network:
    status, _, body = d.request("GET", "/networks/bridge")
    assert status == 200, body
    return ipaddress.IPv4Network(json.loads(body)["IPAM"]["Config"][0]["Subnet"])


def _fetch(address: str, port: int) -> bytes:
    with socket.create_connection((address, port), timeout=10) as conn:
        conn.settimeout(10)
        return conn.recv(100)


@pytest.fixture
def chosen(tmp_path: Path, busybox_tar: bytes) -> Iterator[Daemon]:
    """A daemon that picks its default subnet as pydockerd does without --bip; it must
    leave nothing behind."""
    d = Daemon(tmp_path, choose_subnet=True)
    d.start()
    import_busybox(d, busybox_tar)
    yield d
    if d.proc is not None and d.proc.poll() is not None:
        d.start()
    client = d.client()
    for c in client.containers.list(all=True):
        c.remove(force=True)
    client.close()
    assert d.stop() == 0, d.log()
    assert leftovers(d) == []


def test_a_free_subnet_routed_elsewhere_is_replaced(chosen: Daemon) -> None:
    d = chosen
    first = _default_subnet(d)
    assert d.stop() == 0, d.log()  # no container: the bridge goes, the subnet is kept
    with routed_elsewhere(f"{d.bridge}d", first):
        d.start()
        second = _default_subnet(d)
        assert not second.overlaps(first)
        assert f"inet {second.network_address + 1}/{second.prefixlen}" in \
            _ip("-4", "addr", "show", "dev", d.bridge)
        client = d.client()
        try:
            c = client.containers.run("busybox", ANSWER, detach=True, ports={"80/tcp": None})
            c.reload()
            address = c.attrs["NetworkSettings"]["IPAddress"]
            assert ipaddress.ip_address(address) in second
            port = int(c.attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"])
            assert _fetch(address, 80) == b"answered\n"
            assert _fetch("127.0.0.1", port) == b"answered\n"
        finally:
            client.close()


def test_a_held_subnet_routed_elsewhere_refuses_the_start(chosen: Daemon) -> None:
    d = chosen
    subnet = _default_subnet(d)
    client = d.client()
    holder = client.containers.run("busybox", ANSWER, detach=True, name="holder")
    holder.reload()
    address = holder.attrs["NetworkSettings"]["IPAddress"]
    client.close()
    d.stop(signal.SIGTERM)  # a running container: live restore keeps its network
    dummy = f"{d.bridge}d"
    with routed_elsewhere(dummy, subnet):
        with pytest.raises(RuntimeError) as refused:
            d.start()
        message = str(refused.value)
        assert f"pydockerd: the default bridge's subnet {subnet}" in message
        assert dummy in message and "holder" in message
        # The refused start left the live container's network as it was.
        assert f"inet {subnet.network_address + 1}/{subnet.prefixlen}" in \
            _ip("-4", "addr", "show", "dev", d.bridge)
    d.start()  # the other route gone: the same subnet, and the container still answers
    assert _default_subnet(d) == subnet
    client = d.client()
    try:
        assert client.containers.get("holder").status == "running"
        assert _fetch(address, 80) == b"answered\n"
    finally:
        client.close()
