"""Pod networking through CNI, as cri-dockerd's CNI mode does it: each pod sandbox runs
with ``NetworkMode: none`` and Debian's containernetworking-plugins (loopback, bridge
with host-local IPAM, portmap, firewall) are run against its network namespace
(/proc/<pid>/ns/net), with CNI_COMMAND=ADD/DEL and the network configuration on stdin.
The network is the test's own: a bridge pydtc*, a /24 of its own, host-local's state
in the test's directory; DEL undoes each pod, and what the plugins leave on purpose
(the bridge, the chains shared by all pods) is removed at the end.
"""

from __future__ import annotations

import json
import secrets
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.goclient import exec_sync
from tests.e2e.harness import Daemon
from tests.e2e.pods import LOOP, Pod

pytestmark = pytest.mark.root

CNI_PATH = "/usr/lib/cni"
# Chains the plugins create once for all pods and never delete (portmap, firewall).
SHARED_CHAINS = (("nat", "CNI-HOSTPORT-DNAT"), ("nat", "CNI-HOSTPORT-SNAT"),
                 ("nat", "CNI-HOSTPORT-MASQ"), ("nat", "CNI-HOSTPORT-SETMARK"),
                 ("filter", "CNI-FORWARD"), ("filter", "CNI-ADMIN"))


def iptables_save() -> str:
    return subprocess.run(["iptables-save"], check=True, capture_output=True, text=True).stdout


def free_subnet(tag: str) -> str:
    routes = subprocess.run(["ip", "-4", "route"], check=True, capture_output=True,
                            text=True).stdout
    for step in range(256):
        net = f"10.{150 + (int(tag[:2], 16) + step) % 40}.{int(tag[2:4], 16)}"
        if f"{net}." not in routes:
            return net
    raise AssertionError("no free /24 for the test's CNI network")


class CniNetwork:
    """A conflist and the plugin calls libcni makes for it (ADD in order, each with the
    previous result; DEL in reverse, each with the cached result of the ADD)."""

    def __init__(self, tmp: Path, tag: str) -> None:
        self.bridge = f"pydtc{tag}"
        self.net = free_subnet(tag)
        self.name = f"pydt-cni-{tag}"
        self.results: dict[str, dict[str, Any]] = {}
        self.plugins: list[dict[str, Any]] = [
            {"type": "bridge", "bridge": self.bridge, "isGateway": True, "ipMasq": False,
             "ipam": {"type": "host-local", "subnet": f"{self.net}.0/24",
                      "dataDir": str(tmp / "ipam"), "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "firewall"},
        ]

    def _exec(self, plugin: dict[str, Any], command: str, container_id: str, netns: str,
              ifname: str, prev: dict[str, Any] | None, ports: list[dict[str, Any]]
              ) -> dict[str, Any]:
        conf: dict[str, Any] = {"cniVersion": "0.4.0", "name": self.name, **plugin}
        if prev is not None:
            conf["prevResult"] = prev
        if plugin.get("capabilities", {}).get("portMappings"):
            conf["runtimeConfig"] = {"portMappings": ports}
        env = {"CNI_COMMAND": command, "CNI_CONTAINERID": container_id, "CNI_NETNS": netns,
               "CNI_IFNAME": ifname, "CNI_PATH": CNI_PATH, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        proc = subprocess.run([f"{CNI_PATH}/{plugin['type']}"], input=json.dumps(conf),
                              env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, f"{plugin['type']} {command}: {proc.stdout}{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def add(self, container_id: str, pid: int, ports: list[dict[str, Any]]) -> str:
        """The pod's address. The loopback plugin first, as cri-dockerd brings lo up."""
        netns = f"/proc/{pid}/ns/net"
        self._exec({"type": "loopback"}, "ADD", container_id, netns, "lo", None, [])
        result: dict[str, Any] | None = None
        for plugin in self.plugins:
            result = self._exec(plugin, "ADD", container_id, netns, "eth0", result, ports)
        assert result is not None
        self.results[container_id] = result
        address: str = result["ips"][0]["address"]
        return address.partition("/")[0]

    def delete(self, container_id: str, pid: int, ports: list[dict[str, Any]]) -> None:
        netns = f"/proc/{pid}/ns/net"
        cached = self.results.pop(container_id)
        for plugin in reversed(self.plugins):
            self._exec(plugin, "DEL", container_id, netns, "eth0", cached, ports)


@pytest.fixture
def cni(tmp_path: Path) -> Iterator[CniNetwork]:
    before = iptables_save()
    network = CniNetwork(tmp_path, secrets.token_hex(3))
    yield network
    subprocess.run(["ip", "link", "del", network.bridge], capture_output=True, check=False)
    for table, chain in SHARED_CHAINS:
        if f":{chain} " not in before:  # ours: made by this test, gone with it
            _remove_chain(table, chain)
    after = iptables_save()
    assert not [c for _, c in SHARED_CHAINS if f":{c} " in after and f":{c} " not in before]


def _remove_chain(table: str, chain: str) -> None:
    rules = subprocess.run(["iptables", "-w", "-t", table, "-S"], capture_output=True,
                           text=True, check=False).stdout
    for rule in rules.splitlines():
        if rule.startswith("-A ") and f"-j {chain}" in rule:
            subprocess.run(["iptables", "-w", "-t", table, "-D", *shlex.split(rule[3:])],
                           check=False, capture_output=True)
    subprocess.run(["iptables", "-w", "-t", table, "-F", chain], check=False, capture_output=True)
    subprocess.run(["iptables", "-w", "-t", table, "-X", chain], check=False, capture_output=True)


def _pod(daemon: Daemon, tmp: Path, name: str) -> tuple[Pod, int]:
    (tmp / name).mkdir()
    pod = Pod(daemon, tmp / name)
    sandbox = pod.run_sandbox("none", hostname=name)
    return pod, sandbox["State"]["Pid"]


def _connect(host: str, port: int, deadline: float) -> bytes:
    """What the pod's one-shot server sends, once it listens."""
    while True:
        try:
            with socket.create_connection((host, port), timeout=5) as conn:
                data = conn.recv(100)
                if data:
                    return data
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing answered on {host}:{port}")
        time.sleep(0.2)


def test_cni_bridge_pod_to_pod_and_host_port(daemon: Daemon, pause_image: str,
                                             cni: CniNetwork, tmp_path: Path) -> None:
    host_port = 20000 + secrets.randbelow(20000)
    ports = [{"hostPort": host_port, "containerPort": 8080, "protocol": "tcp"}]
    pods = [_pod(daemon, tmp_path, "pydt-cni-a"), _pod(daemon, tmp_path, "pydt-cni-b")]
    added: list[tuple[Pod, int, list[dict[str, Any]]]] = []
    try:
        (a, a_pid), (b, b_pid) = pods
        a_ip = cni.add(a.sandbox, a_pid, ports)
        added.append((a, a_pid, ports))
        b_ip = cni.add(b.sandbox, b_pid, [])
        added.append((b, b_pid, []))
        rules = iptables_save()
        assert f"--to-destination {a_ip}:8080" in rules
        server = a.create_container("server", ["sh", "-c",
                                               "echo pydt-hostport | nc -l -p 8080"])
        client = b.create_container("client", LOOP)
        code, out, err = exec_sync(daemon, client, ["ping", "-c", "1", "-W", "5", a_ip])
        assert code == 0, out + err
        code, out, _ = exec_sync(daemon, server, ["sh", "-c", "ip -4 -o addr show eth0"])
        assert f"inet {a_ip}/24" in out.decode() and b_ip != a_ip
        gateway = f"{cni.net}.1"  # the host's address on the bridge, local: DNATed
        assert _connect(gateway, host_port, time.monotonic() + 30) == b"pydt-hostport\n"
    finally:
        for pod, pid, pod_ports in reversed(added):
            cni.delete(pod.sandbox, pid, pod_ports)
        for pod, _ in pods:
            pod.remove_all()
    rules = iptables_save()  # DEL took the pods' rules (and portmap's chain) away
    assert f"--dport {host_port}" not in rules and f"{a_ip}" not in rules
