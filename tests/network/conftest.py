"""Fixtures for real-kernel network tests: unique names, netns, an "upstream" host, snapshots.

Every name carries a random suffix (bridges ``pydt<hex>``, chains ``PYDT<HEX>``, netns
``pydt-<hex>``, subnets 10.199.<rand>.0/24) so parallel suites on one machine never collide,
and every fixture removes what it made even when the test fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import random
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydocker.network.manager import NetworkManager


def sh(cmd: str, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd!r} failed ({proc.returncode}): {proc.stderr}{proc.stdout}")
    return proc


def used_networks() -> list[ipaddress.IPv4Network]:
    out = sh("ip -4 -o route show table all; ip -4 -o addr").stdout
    return [ipaddress.IPv4Network(m, strict=False)
            for m in re.findall(r"\b(\d+\.\d+\.\d+\.\d+/\d+)", out)]


def free_subnet(prefix: str = "10.199") -> str:
    """A random /24 under ``prefix`` not routed on the host right now."""
    used = used_networks()
    for _ in range(200):
        net = ipaddress.IPv4Network(f"{prefix}.{random.randint(1, 254)}.0/24")
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise RuntimeError("no free test subnet")


def snapshot() -> dict[str, str]:
    """Host network state that must be identical before/after a manager's life."""
    return {"link": sh("ip -o link").stdout, "addr": sh("ip -o addr").stdout,
            "iptables": normalized_iptables(sh("iptables-save").stdout),
            "ip6tables": normalized_iptables(sh("ip6tables-save").stdout)}


def normalized_iptables(text: str) -> str:
    """iptables-save minus comments and counters; tables that hold nothing but built-in
    chains with ACCEPT policy are dropped (nf_tables keeps an emptied table around)."""
    tables: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        line = re.sub(r"\[\d+:\d+\]", "", line).rstrip()
        if line.startswith("*"):
            tables.append([line])
        elif tables:
            tables[-1].append(line)
    out = []
    for lines in tables:
        body = [ln for ln in lines[1:] if ln != "COMMIT"]
        if all(re.fullmatch(r":[A-Z]+ ACCEPT", ln) for ln in body):
            continue
        out += lines
    return "\n".join(out)


@dataclass
class Names:
    hex: str

    @property
    def bridge(self) -> str:
        return f"pydt{self.hex}"

    @property
    def prefix(self) -> str:
        return f"PYDT{self.hex[:6].upper()}"  # chain names must stay under 29 chars


@pytest.fixture
def names() -> Names:
    return Names(secrets.token_hex(4))


@pytest.fixture
def netns() -> Iterator[Callable[[], str]]:
    """Factory: a fresh named netns; returns its nsfs path (/run/netns/NAME)."""
    made: list[str] = []

    def make() -> str:
        name = f"pydt-{secrets.token_hex(4)}"
        sh(f"ip netns add {name}")
        made.append(name)
        return f"/run/netns/{name}"

    yield make
    for name in made:
        sh(f"ip netns pids {name} | xargs -r kill -9", check=False)
        sh(f"ip netns del {name}", check=False)


def ns_name(path: str) -> str:
    return Path(path).name


@dataclass
class Upstream:
    """A netns reachable from the host over a veth: stands in for 'the outside'."""

    netns: str  # nsfs path
    host_ip: str  # the host's address on the link
    ip: str  # the upstream's own address


@pytest.fixture
def upstream(netns: Callable[[], str]) -> Iterator[Upstream]:
    path = netns()
    name = ns_name(path)
    net = ipaddress.IPv4Network(free_subnet("10.198"))
    host_ip, peer_ip = str(net.network_address + 1), str(net.network_address + 2)
    link = f"pydu{secrets.token_hex(4)}"
    try:
        sh(f"ip link add {link} type veth peer name eth0 netns {name}")
        sh(f"ip addr add {host_ip}/24 dev {link}; ip link set {link} up")
        sh(f"ip -n {name} addr add {peer_ip}/24 dev eth0; ip -n {name} link set eth0 up; "
           f"ip -n {name} link set lo up")
        yield Upstream(path, host_ip, peer_ip)
    finally:
        sh(f"ip link del {link}", check=False)


@pytest.fixture(scope="session", autouse=True)
def _restore_ip_forward() -> Iterator[None]:
    before = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    yield
    Path("/proc/sys/net/ipv4/ip_forward").write_text(before)


@pytest.fixture
async def manager_factory(tmp_path: Path, names: Names
                          ) -> AsyncIterator[Callable[..., NetworkManager]]:
    """Factory for managers on this test's bridge/prefix/subnet; all torn down at the end."""
    made: list[NetworkManager] = []
    bip = str(ipaddress.IPv4Network(free_subnet()).network_address + 1) + "/24"

    def make(**kw: object) -> NetworkManager:
        args: dict[str, object] = {"bridge_name": names.bridge, "bip": bip,
                                   "chain_prefix": names.prefix}
        args.update(kw)
        mgr = NetworkManager(tmp_path / "net", **args)  # type: ignore[arg-type]
        made.append(mgr)
        return mgr

    yield make
    if made:
        last = made[-1]
        try:
            if last.stopped == "shutdown":  # kernel state kept: a fresh manager cleans it
                last = make()
                await last.start()
            if last.stopped is None:
                await last.teardown()
        except Exception as exc:  # noqa: BLE001 - leave a trace, then sweep by name
            print(f"teardown failed: {exc}", file=sys.stderr)
            sweep(names, tmp_path / "net" / "networks.json")


def sweep(names: Names, state: Path) -> None:
    """Last-resort cleanup by our unique names and the interfaces the state file lists."""
    links = {names.bridge}
    with contextlib.suppress(OSError, ValueError):
        for net in json.loads(state.read_text())["networks"]:
            links.add(net["bridge"])
            links.update(ep["host_veth"] for ep in net["endpoints"].values())
    for link in sorted(links - {""}):
        sh(f"ip link del {link}", check=False)
    for tool in ("iptables", "ip6tables"):
        sweep_chains(tool, names.prefix)


def sweep_chains(tool: str, prefix: str) -> None:
    """Our jumps out of the built-in chains, then our chains, in one iptables family."""
    for table, chain in (("filter", "FORWARD"), ("nat", "PREROUTING"), ("nat", "OUTPUT"),
                         ("nat", "POSTROUTING")):
        rules = sh(f"{tool} -t {table} -S {chain}", check=False).stdout.splitlines()
        for rule in rules:
            if prefix in rule and rule.startswith("-A "):
                sh(f"{tool} -t {table} -D {rule[3:]}", check=False)
    for table in ("filter", "nat"):
        chains = [ln[3:] for ln in sh(f"{tool} -t {table} -S", check=False).stdout.splitlines()
                  if ln.startswith(f"-N {prefix}")]
        for chain in chains:
            sh(f"{tool} -t {table} -F {chain}", check=False)
        for chain in chains:
            sh(f"{tool} -t {table} -X {chain}", check=False)
