"""NetworkManager: the network subsystem as the daemon sees it (async API).

Every kernel operation (netlink, iptables, sysctl, state file) runs on one dedicated worker
thread: pyroute2's sync IPRoute must not run on the event loop, and serialising the kernel
work keeps iptables and IPAM consistent. In-memory state is guarded by one asyncio lock.

State (networks, pools with their allocations, endpoints with their ports) is one JSON file
written atomically after every change, so a restarted daemon re-adopts live endpoints and
keeps their addresses (live restore).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any, TypeVar

from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter, NotFound, SystemFailure
from pydocker.network import iptables as ipt
from pydocker.network.bridge import ensure_bridge, remove_bridge
from pydocker.network.dns import EmbeddedDNS
from pydocker.network.ipam import POOL_OVERLAP, Pool, choose_subnet, mac_for_ip, overlaps
from pydocker.network.model import (
    OPT_BRIDGE_NAME,
    OPT_DEFAULT,
    OPT_HOST_IP,
    OPT_ICC,
    OPT_MASQ,
    OPT_MTU,
    Endpoint,
    Network,
    now_rfc3339,
)
from pydocker.network.netlink import host_networks, link_index, read_sysctl, write_sysctl
from pydocker.network.ports import PortAllocated, PortHolder, PortMapping, PortSpec, parse_publish
from pydocker.network.veth import (
    VethConfig,
    create_endpoint,
    ensure_loopback,
    host_veth_name,
    remove_endpoint,
)
from pyroute2 import IPRoute

T = TypeVar("T")
log = logging.getLogger(__name__)
STATE_FILE = "networks.json"


def _new_id() -> str:
    return secrets.token_hex(32)


def _bool_opt(options: dict[str, str], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "t", "yes"):
        return True
    if value.lower() in ("0", "false", "f", "no"):
        return False
    raise InvalidParameter(f"invalid value for {key}: {value}")


class NetworkManager:
    def __init__(self, state_dir: Path, *, bridge_name: str = "pydocker0",
                 bip: str | None = None, iptables: bool = True, ip_forward: bool = True,
                 chain_prefix: str = "PYDOCKER", mtu: int = 1500,
                 userland_proxy: bool = True, dns: bool = True,
                 dns_upstreams: Sequence[tuple[str, int]] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.bridge_name = bridge_name
        self.bip = bip
        self.use_iptables = iptables
        self.set_ip_forward = ip_forward
        self.names = ipt.Names(chain_prefix)
        self.mtu = mtu
        self._nets: dict[str, Network] = {}
        self._ip_forward_before: str | None = None
        self._kernel = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pydocker-net")
        self._ipr: IPRoute | None = None
        self._lock = asyncio.Lock()
        self._ports = PortHolder(proxy=userland_proxy)
        self._dns = EmbeddedDNS(self._resolve, dns_upstreams) if dns else None
        self.stopped: str | None = None  # "shutdown" (kernel state kept) or "teardown"

    # ---------------------------------------------------------------- plumbing
    async def _k(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._kernel, fn, *args)

    @property
    def ipr(self) -> IPRoute:
        """The host netlink socket; only ever touched on the kernel thread."""
        if self._ipr is None:
            self._ipr = IPRoute()
        return self._ipr

    def _save(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        data = {"ip_forward_before": self._ip_forward_before,
                "networks": [n.to_dict() for n in self._nets.values()]}
        path = self.state_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def _load(self) -> None:
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return
        data = json.loads(path.read_text())
        self._ip_forward_before = data.get("ip_forward_before")
        for raw in data.get("networks", []):
            net = Network.from_dict(raw)
            self._nets[net.id] = net

    # ---------------------------------------------------------------- kernel (sync)
    def _k_base(self) -> None:
        if self.set_ip_forward:
            before = write_sysctl("net/ipv4/ip_forward", "1")
            if self._ip_forward_before is None:
                self._ip_forward_before = before
        if self.use_iptables:
            for chain in self.names.chains():
                chain.ensure()
            ipt.ensure_all(self.names.base_rules())
            ipt.ensure_all(self.names.jumps())

    def _net_rules(self, net: Network) -> list[ipt.Rule]:
        assert net.pool is not None
        return ipt.network_rules(self.names, net.bridge, str(net.pool.subnet),
                                 internal=net.internal, masquerade=net.masquerade, icc=net.icc)

    def _k_ensure_network(self, net: Network) -> None:
        assert net.pool is not None
        ensure_bridge(self.ipr, net.bridge, net.pool.gateway, net.pool.subnet.prefixlen, net.mtu)
        if self.use_iptables:
            ipt.ensure_all(self._net_rules(net))

    def _k_remove_network(self, net: Network) -> None:
        if self.use_iptables and net.pool is not None:
            ipt.remove_all(self._net_rules(net))
        remove_bridge(self.ipr, net.bridge)

    def _port_rules(self, net: Network, ep: Endpoint) -> list[ipt.Rule]:
        rules: list[ipt.Rule] = []
        for p in ep.ports:
            rules += ipt.port_rules(self.names, net.bridge, p.host_ip, p.host_port, ep.ip,
                                    p.container_port, p.proto)
        return rules

    def _k_connect(self, net: Network, ep: Endpoint) -> None:
        assert net.pool is not None
        index = link_index(self.ipr, net.bridge)
        if index is None:
            raise SystemFailure(f"bridge {net.bridge} of network {net.name} is missing")
        create_endpoint(self.ipr, index, VethConfig(
            ep.host_veth, ep.netns_path, IPv4Address(ep.ip), ep.prefixlen,
            IPv4Address(ep.gateway) if not net.internal else None, ep.mac, net.mtu, ep.ifname))
        if self.use_iptables and ep.ports:
            try:
                ipt.apply_batch(add=self._port_rules(net, ep))
            except BaseException:
                remove_endpoint(self.ipr, ep.host_veth)
                raise

    def _k_disconnect(self, net: Network, ep: Endpoint) -> None:
        if self.use_iptables and ep.ports:
            ipt.apply_batch(delete=self._port_rules(net, ep))
        if ep.host_veth:
            remove_endpoint(self.ipr, ep.host_veth)

    def _k_close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Ensure the predefined networks and re-adopt persisted networks and endpoints."""
        async with self._lock:
            await self._k(self._load)
            await self._k(self._k_base)
            if self._find_name("bridge") is None:
                await self._create_default_bridge()
            for name, driver in (("host", "host"), ("none", "null")):
                if self._find_name(name) is None:
                    net = Network(_new_id(), name, driver, now_rfc3339())
                    self._nets[net.id] = net
            for net in list(self._nets.values()):
                if net.driver == "bridge":
                    await self._k(self._k_ensure_network, net)
                    await self._readopt(net)
            for net in self._nets.values():
                if net.user_defined:
                    for ep in net.endpoints.values():
                        await self._start_dns(ep)
            await self._k(self._save)

    async def _create_default_bridge(self) -> None:
        if self.bip:
            iface = IPv4Interface(self.bip)
            pool = Pool.create(iface.network, str(iface.ip))
        else:
            taken = await self._k(lambda: host_networks(self.ipr))  # ipr lives on the kernel thread
            taken += [n.pool.subnet for n in self._nets.values() if n.pool]
            pool = Pool.create(choose_subnet(taken))
        options = {OPT_DEFAULT: "true", OPT_ICC: "true", OPT_MASQ: "true",
                   OPT_HOST_IP: "0.0.0.0", OPT_BRIDGE_NAME: self.bridge_name,
                   OPT_MTU: str(self.mtu)}
        net = Network(_new_id(), "bridge", "bridge", now_rfc3339(), bridge=self.bridge_name,
                      pool=pool, mtu=self.mtu, options=options)
        self._nets[net.id] = net

    async def _readopt(self, net: Network) -> None:
        """Keep endpoints whose host veth still exists (container alive), forget the rest."""
        for cid, ep in list(net.endpoints.items()):
            alive = await self._k(link_index, self.ipr, ep.host_veth)
            if alive is None:
                del net.endpoints[cid]
                if net.pool is not None and ep.ip:
                    net.pool.release(ep.ip)
                continue
            if self.use_iptables and ep.ports:
                await self._k(ipt.ensure_all, self._port_rules(net, ep))
            for mapping in ep.ports:
                self._ports.adopt(mapping)
                await self._ports.serve(mapping, ep.ip)

    async def shutdown(self, keep_live: bool = True) -> None:
        """Daemon stop. keep_live: leave bridges, veths, rules for live containers (the
        port-holding sockets and proxies die with the daemon and come back on start).
        Otherwise remove every endpoint and all kernel state (network definitions stay)."""
        if self._dns is not None:
            self._dns.close()
        if keep_live:
            await self._ports.close()
            async with self._lock:
                await self._k(self._save)
                await self._k(self._k_close)
            self._kernel.shutdown(wait=True)
            self.stopped = "shutdown"
        else:
            await self.teardown(restore_sysctls=False)

    async def teardown(self, *, restore_sysctls: bool = True) -> None:
        """Remove ALL our kernel state: endpoints, bridges, rules, chains (and ip_forward if
        we changed it and ``restore_sysctls``). Network definitions stay in the state file;
        endpoints are forgotten."""
        if self.stopped is not None:
            raise RuntimeError(f"network manager already stopped ({self.stopped})")
        if self._dns is not None:
            self._dns.close()
        async with self._lock:
            for net in self._nets.values():
                for ep in net.endpoints.values():
                    await self._ports.release(ep.ports)
                    if net.driver == "bridge":
                        await self._k(self._k_disconnect, net, ep)
                    if net.pool is not None and ep.ip:
                        net.pool.release(ep.ip)
                net.endpoints.clear()
                if net.driver == "bridge":
                    await self._k(self._k_remove_network, net)
            await self._ports.close()
            await self._k(self._k_teardown_base, restore_sysctls)
            await self._k(self._save)
            await self._k(self._k_close)
        self._kernel.shutdown(wait=True)
        self.stopped = "teardown"

    def _k_teardown_base(self, restore_sysctls: bool) -> None:
        if self.use_iptables:
            ipt.remove_all(self.names.jumps())
            for chain in self.names.chains():
                chain.remove()
        if restore_sysctls and self._ip_forward_before not in (None, "1"):
            if read_sysctl("net/ipv4/ip_forward") == "1":
                write_sysctl("net/ipv4/ip_forward", self._ip_forward_before or "0")
            self._ip_forward_before = None

    # ---------------------------------------------------------------- lookups
    def _find_name(self, name: str) -> Network | None:
        return next((n for n in self._nets.values() if n.name == name), None)

    def _get(self, ref: str) -> Network:
        if ref in self._nets:
            return self._nets[ref]
        by_name = self._find_name(ref)
        if by_name is not None:
            return by_name
        matches = [n for n in self._nets.values() if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidParameter(
                f"network {ref} is ambiguous ({len(matches)} matches found based on ID prefix)")
        raise NotFound(f"network {ref} not found")

    def lookup(self, ref: str) -> Network:
        """The network record for an id, name or unique id prefix (sync, no kernel work);
        NotFound ``network X not found`` otherwise. Callers must not mutate it."""
        return self._get(ref)

    async def get_network(self, ref: str) -> dict[str, Any]:
        return self._get(ref).inspect()

    async def list_networks(self) -> list[dict[str, Any]]:
        return [n.inspect() for n in self._nets.values()]

    def endpoints_of(self, container_id: str) -> dict[str, Endpoint]:
        """Network name -> endpoint for one container (for container inspect)."""
        return {n.name: n.endpoints[container_id] for n in self._nets.values()
                if container_id in n.endpoints}

    # ---------------------------------------------------------------- networks
    async def create_network(self, name: str, driver: str = "bridge",
                             ipam: dict[str, Any] | None = None, internal: bool = False,
                             attachable: bool = False, labels: dict[str, str] | None = None,
                             options: dict[str, str] | None = None,
                             check_duplicate: bool = True) -> dict[str, Any]:
        """Create a user-defined bridge network; returns its inspect dict."""
        options = dict(options or {})
        async with self._lock:
            if not name:
                raise InvalidParameter("network name must not be empty")
            if self._find_name(name) is not None:
                raise Conflict(f"network with name {name} already exists")
            driver = driver or "bridge"
            if driver in ("host", "null"):
                raise Forbidden(f'only one instance of "{driver}" network is allowed')
            if driver != "bridge":
                raise NotFound(f"plugin \"{driver}\" not found")
            ipam = ipam or {}
            if ipam.get("Driver") not in (None, "", "default"):
                raise NotFound(f"plugin \"{ipam['Driver']}\" not found")
            pool = await self._pool_for(ipam.get("Config") or [])
            net = Network(
                _new_id(), name, "bridge", now_rfc3339(), pool=pool, internal=internal,
                attachable=attachable, labels=dict(labels or {}), options=options,
                ipam_options=dict(ipam.get("Options") or {}),
                mtu=int(options.get(OPT_MTU) or self.mtu),
                masquerade=_bool_opt(options, OPT_MASQ, True),
                icc=_bool_opt(options, OPT_ICC, True))
            net.bridge = options.get(OPT_BRIDGE_NAME) or f"br-{net.id[:12]}"
            if len(net.bridge) > 15:
                raise InvalidParameter(f"bridge name {net.bridge} is too long (max 15)")
            if any(n.bridge == net.bridge for n in self._nets.values()):
                raise Conflict(f"bridge name {net.bridge} is already in use")
            try:
                await self._k(self._k_ensure_network, net)
            except BaseException:
                with contextlib.suppress(Exception):
                    await self._k(self._k_remove_network, net)
                raise
            self._nets[net.id] = net
            await self._k(self._save)
            return net.inspect()

    async def _pool_for(self, config: Sequence[dict[str, str]]) -> Pool:
        ours = [n.pool.subnet for n in self._nets.values() if n.pool]
        if config:
            entry = config[0]
            if not entry.get("Subnet"):
                if entry.get("Gateway") or entry.get("IPRange"):
                    raise InvalidParameter("a subnet is required with a gateway or ip-range")
            else:
                pool = Pool.create(entry["Subnet"], entry.get("Gateway") or None,
                                   entry.get("IPRange") or None)
                if overlaps(pool.subnet, ours):
                    raise Forbidden(POOL_OVERLAP)
                return pool
        taken = await self._k(lambda: host_networks(self.ipr))  # ipr lives on the kernel thread
        return Pool.create(choose_subnet(taken + ours))

    async def remove_network(self, ref: str) -> None:
        async with self._lock:
            net = self._get(ref)
            if net.predefined:
                raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
            if net.endpoints:
                raise Forbidden(f"error while removing network: network {net.name} id "
                                f"{net.id} has active endpoints")
            await self._k(self._k_remove_network, net)
            del self._nets[net.id]
            await self._k(self._save)

    # ---------------------------------------------------------------- endpoints
    async def connect(self, network: str, container_id: str, netns_path: str | os.PathLike[str],
                      *, name: str = "", aliases: Iterable[str] = (), ipv4: str | None = None,
                      mac: str | None = None,
                      ports: Iterable[PortSpec | str] = ()) -> Endpoint:
        """Attach a container's netns to ``network``: eth<N>, address, routes, ports."""
        async with self._lock:
            net = self._get(network)
            if container_id in net.endpoints:
                raise Forbidden(f"endpoint with name {name.lstrip('/') or container_id} "
                                f"already exists in network {net.name}")
            ep = Endpoint(net.id, net.name, container_id, _new_id(), name=name,
                          netns_path=os.fspath(netns_path), aliases=list(aliases))
            if net.driver != "bridge":
                if net.driver == "null":
                    await self._k(ensure_loopback, ep.netns_path)
                net.endpoints[container_id] = ep
                await self._k(self._save)
                return ep
            return await self._connect_bridge(net, ep, ipv4, mac, ports)

    async def _connect_bridge(self, net: Network, ep: Endpoint, ipv4: str | None,
                              mac: str | None, ports: Iterable[PortSpec | str]) -> Endpoint:
        assert net.pool is not None
        if ipv4 and not net.user_defined:
            raise InvalidParameter(
                "user specified IP address is supported on user defined networks only")
        specs = [s for p in ports for s in (parse_publish(p) if isinstance(p, str) else [p])]
        ip = net.pool.allocate(ipv4)
        ep.ip, ep.prefixlen, ep.gateway = str(ip), net.pool.subnet.prefixlen, str(net.pool.gateway)
        ep.static_ip = ipv4 or ""
        ep.mac = mac or mac_for_ip(ip)
        ep.host_veth = host_veth_name()
        used = {e.ifname for n in self._nets.values() for c, e in n.endpoints.items()
                if c == ep.container_id}
        ep.ifname = next(f"eth{i}" for i in range(len(used) + 1) if f"eth{i}" not in used)
        try:
            for spec in specs:
                ep.ports.append(self._ports.reserve(spec))
            await self._k(self._k_connect, net, ep)
        except PortAllocated as exc:
            await self._ports.release(ep.ports)
            net.pool.release(ip)
            raise SystemFailure(
                f"driver failed programming external connectivity on endpoint "
                f"{ep.name.lstrip('/') or ep.container_id[:12]} ({ep.endpoint_id}): {exc}"
            ) from exc
        except BaseException:
            await self._ports.release(ep.ports)
            net.pool.release(ip)
            raise
        for mapping in ep.ports:
            await self._ports.serve(mapping, ep.ip)
        net.endpoints[ep.container_id] = ep
        if net.user_defined:
            await self._start_dns(ep)
        await self._k(self._save)
        return ep

    async def disconnect(self, network: str, container_id: str) -> None:
        async with self._lock:
            net = self._get(network)
            ep = net.endpoints.get(container_id)
            if ep is None:
                raise Forbidden(f"container {container_id} is not connected to network "
                                f"{net.name}")
            await self._ports.release(ep.ports)
            if net.driver == "bridge":
                await self._k(self._k_disconnect, net, ep)
            if net.pool is not None and ep.ip:
                net.pool.release(ep.ip)
            del net.endpoints[container_id]
            if self._dns is not None and not any(
                    n.user_defined and container_id in n.endpoints for n in self._nets.values()):
                self._dns.stop(container_id)
            await self._k(self._save)

    def port_mappings(self, container_id: str) -> list[PortMapping]:
        return [p for e in self.endpoints_of(container_id).values() for p in e.ports]

    # ---------------------------------------------------------------- embedded DNS
    async def _start_dns(self, ep: Endpoint) -> None:
        """Serve 127.0.0.11 in the container's netns (best effort: a container whose
        namespace already uses 127.0.0.11:53 keeps working, without names)."""
        if self._dns is None or self._dns.serving(ep.container_id):
            return
        try:
            await self._dns.start(ep.container_id, ep.netns_path)
        except OSError as exc:
            log.warning("embedded DNS for %s not started: %s", ep.container_id[:12], exc)

    def _resolve(self, container_id: str, name: str) -> list[str] | None:
        """IPs for ``name`` on the user-defined networks ``container_id`` is attached to."""
        ips: list[str] = []
        for net in self._nets.values():
            if not net.user_defined or container_id not in net.endpoints:
                continue
            for ep in net.endpoints.values():
                names = {n.lower() for n in ep.dns_names()}
                names |= {f"{n}.{net.name.lower()}" for n in names}
                if name in names and ep.ip and ep.ip not in ips:
                    ips.append(ep.ip)
        return ips or None
