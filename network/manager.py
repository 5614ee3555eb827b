"""NetworkManager: the network subsystem as the daemon sees it (async API).

Its parts: ``state`` (the records and their file), ``kernel`` (netlink, iptables and
sysctls on one dedicated thread), ``definitions`` (what a new network is), ``ports``
(the host ports published endpoints hold) and ``dns`` (127.0.0.11 in each container on a
user-defined network). The manager orders them: every change takes one asyncio lock, does
its kernel work, and saves the records, so a restarted daemon re-adopts live endpoints
and keeps their addresses (live restore).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter, SystemFailure
from pydocker.network import default_subnet, definitions
from pydocker.network import iptables as ipt
from pydocker.network.definitions import IPAM, new_id
from pydocker.network.dns import EmbeddedDNS
from pydocker.network.ipam import Pool, choose_subnet, mac_for_ip
from pydocker.network.kernel import Kernel
from pydocker.network.model import Endpoint, Network
from pydocker.network.ports import PortAllocated, PortHolder, PortMapping, PortSpec, parse_publish
from pydocker.network.state import STATE_FILE, NetworkState, load_state, save_state
from pydocker.network.veth import ensure_loopback, host_veth_name

log = logging.getLogger(__name__)


class NetworkManager:
    def __init__(self, state_dir: Path, *, bridge_name: str = "pydocker0",
                 bip: str | None = None, iptables: bool = True, ip_forward: bool = True,
                 chain_prefix: str = "PYDOCKER", mtu: int = 1500, ip6tables: bool = True,
                 userland_proxy: bool = True, dns: bool = True,
                 dns_upstreams: Sequence[tuple[str, int]] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.bridge_name = bridge_name
        self.bip = bip
        self.names = ipt.Names(chain_prefix)
        self.mtu = mtu
        self._state = NetworkState()
        self._kernel = Kernel(self.names, iptables=iptables, ip_forward=ip_forward,
                              ip6tables=ip6tables)
        self._lock = asyncio.Lock()
        self._ports = PortHolder(proxy=userland_proxy)
        self._dns = EmbeddedDNS(self._resolve, dns_upstreams) if dns else None
        self.stopped: str | None = None  # "shutdown" (kernel state kept) or "teardown"

    async def _save(self) -> None:
        await self._kernel.run(save_state, self.state_dir, self._state)

    async def _free_subnet_pool(self) -> Pool:
        """A pool on the first default subnet neither the host nor a network of ours uses."""
        taken = await self._kernel.run(self._kernel.host_networks_sync)
        return Pool.create(choose_subnet(taken + self._state.subnets()))

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Ensure the predefined networks and re-adopt persisted networks and endpoints."""
        async with self._lock:
            self._state = await self._kernel.run(load_state, self.state_dir)
            await self._default_subnet_clear_of_foreign_routes()
            before = await self._kernel.run(self._kernel.ensure_base_sync)
            if self._state.ip_forward_before is None:
                self._state.ip_forward_before = before
            if self._state.find_name("bridge") is None:
                pool = definitions.bip_pool(self.bip) if self.bip else \
                    await self._free_subnet_pool()
                self._state.add(definitions.default_bridge(self.bridge_name, self.mtu, pool))
            for name, driver in (("host", "host"), ("none", "null")):
                if self._state.find_name(name) is None:
                    self._state.add(definitions.predefined(name, driver))
            await self._settle_pending()
            for net in list(self._state.networks.values()):
                if net.driver == "bridge":
                    # A bridge gone meanwhile (deleted by hand) is made again, empty.
                    await self._kernel.run(self._kernel.ensure_bridge_sync, net)
                    await self._readopt(net)
            await self._kernel.run(self._kernel.rebuild_rules_sync,
                                   list(self._state.networks.values()))
            for net in self._state.networks.values():
                if net.user_defined:
                    for ep in net.endpoints.values():
                        await self._start_dns(ep)
            await self._save()

    async def _default_subnet_clear_of_foreign_routes(self) -> None:
        """The persisted default bridge subnet, replaced when another interface now routes
        it and no running container holds it, else refused (see default_subnet): a refusal
        comes before any kernel work, and leaves live containers as they are."""
        net = self._state.find_name("bridge")
        if net is None or net.pool is None or self.bip:
            return
        own = self._state.owned_bridges()
        link = await self._kernel.run(self._kernel.foreign_route_sync, net.pool.subnet, own)
        if link is None:
            return
        holders = [ep.name.lstrip("/") or cid[:12] for cid, ep in net.endpoints.items()
                   if await self._kernel.run(self._kernel.link_alive_sync, ep.host_veth)]
        if holders:
            await self._kernel.close()
            self.stopped = "refused"
            raise default_subnet.refusal(net, link, holders, str(self.state_dir / STATE_FILE))
        old = net.pool.subnet
        await self._kernel.run(self._kernel.remove_network_sync, net)  # its old address
        net.endpoints.clear()  # of containers that are gone: none is running
        net.pool = await self._free_subnet_pool()
        log.warning("the default bridge's subnet %s is now routed by %s: moved to %s",
                    old, link, net.pool.subnet)

    async def _readopt(self, net: Network) -> None:
        """Keep endpoints whose host veth still exists (container alive), forget the rest."""
        for cid, ep in list(net.endpoints.items()):
            if not await self._kernel.run(self._kernel.link_alive_sync, ep.host_veth):
                del net.endpoints[cid]
                net.release(ep)
                continue
            for mapping in ep.ports:
                self._ports.adopt(mapping)
                await self._ports.serve(mapping, ep.target_ip(mapping))

    async def _settle_pending(self) -> None:
        """Bridges a killed daemon was making or removing, and no network owns: gone."""
        pending = set(self._state.pending_bridges) - self._state.owned_bridges()
        if pending:
            log.info("removing bridges left by an interrupted create or remove: %s",
                     ", ".join(sorted(pending)))
            await self._kernel.run(self._kernel.remove_bridges_sync, sorted(pending))
        self._state.pending_bridges.clear()

    async def _kernel_work_on_bridge(self, bridge: str, fn: Callable[[], None]) -> None:
        """``fn`` (kernel work that makes or removes ``bridge``) between two saves: the
        bridge is recorded as pending first, so a kill during ``fn`` leaves a record the
        next start settles (``_settle_pending``)."""
        self._state.pending_bridges.append(bridge)
        await self._save()
        try:
            await self._kernel.run(fn)
        finally:
            self._state.pending_bridges.remove(bridge)

    async def shutdown(self, keep_live: bool = True) -> None:
        """Daemon stop. keep_live: leave bridges, veths, rules for live containers (the
        port-holding sockets and proxies die with the daemon and come back on start).
        Otherwise remove every endpoint and all kernel state (network definitions stay)."""
        if self.stopped == "refused":
            return  # start refused before any kernel work: nothing to keep or undo
        if self._dns is not None:
            self._dns.close()
        if keep_live:
            await self._ports.close()
            async with self._lock:
                await self._save()
                await self._kernel.close()
            self.stopped = "shutdown"
        else:
            await self.teardown(restore_sysctls=False)

    async def teardown(self, *, restore_sysctls: bool = True) -> None:
        """Remove ALL our kernel state: endpoints, bridges, rules, chains (and ip_forward if
        we changed it and ``restore_sysctls``). Network definitions stay in the state file;
        endpoints are forgotten."""
        if self.stopped == "refused":
            return  # start refused before any kernel work: nothing to undo
        if self.stopped is not None:
            raise Conflict(f"network manager already stopped ({self.stopped})")
        if self._dns is not None:
            self._dns.close()
        async with self._lock:
            for net in self._state.networks.values():
                for ep in net.endpoints.values():
                    await self._ports.release(ep.ports)
                    if net.driver == "bridge":
                        await self._kernel.run(self._kernel.disconnect_sync, net, ep)
                    net.release(ep)
                net.endpoints.clear()
                if net.driver == "bridge":
                    await self._kernel.run(self._kernel.remove_network_sync, net)
            await self._ports.close()
            before = self._state.ip_forward_before
            restore = restore_sysctls and before not in (None, "1")
            await self._kernel.run(self._kernel.remove_base_sync,
                                   (before or "0") if restore else None)
            if restore:
                self._state.ip_forward_before = None
            await self._save()
            await self._kernel.close()
        self.stopped = "teardown"

    # ---------------------------------------------------------------- lookups
    def lookup(self, ref: str) -> Network:
        """The network record for an id, name or unique id prefix (sync, no kernel work);
        NotFound ``network X not found`` otherwise. Callers must not mutate it."""
        return self._state.get(ref)

    async def get_network(self, ref: str) -> dict[str, Any]:
        return self._state.get(ref).inspect()

    async def list_networks(self) -> list[dict[str, Any]]:
        return [n.inspect() for n in self._state.networks.values()]

    def endpoints_of(self, container_id: str) -> dict[str, Endpoint]:
        """Network name -> endpoint for one container (for container inspect)."""
        return self._state.endpoints_of(container_id)

    def port_mappings(self, container_id: str) -> list[PortMapping]:
        return [p for e in self.endpoints_of(container_id).values() for p in e.ports]

    # ---------------------------------------------------------------- networks
    async def create_network(self, name: str, driver: str = "bridge",
                             ipam: dict[str, Any] | None = None, internal: bool = False,
                             attachable: bool = False, labels: dict[str, str] | None = None,
                             options: dict[str, str] | None = None,
                             check_duplicate: bool = True, ipv6: bool = False
                             ) -> dict[str, Any]:
        """Create a user-defined bridge network; returns its inspect dict. ``ipam`` is
        the request's IPAM section (definitions.IPAM; its shape is the API's to check)."""
        request = cast(IPAM, ipam or {})
        async with self._lock:
            if not name:
                raise InvalidParameter("network name must not be empty")
            if self._state.find_name(name) is not None:
                raise Conflict(f"network with name {name} already exists")
            definitions.check_driver(driver or "bridge", request)
            pool = definitions.requested_pool(request.get("Config") or [],
                                              self._state.subnets())
            pool6 = definitions.requested_pool6(request.get("Config") or [],
                                                self._state.subnets(), ipv6)
            net = definitions.user_bridge(
                name, pool or await self._free_subnet_pool(), pool6=pool6, ipam=request,
                internal=internal, attachable=attachable, labels=labels or {},
                options=dict(options or {}), default_mtu=self.mtu,
                bridges_in_use=(n.bridge for n in self._state.networks.values()))
            if await self._kernel.run(self._kernel.link_alive_sync, net.bridge):
                # An interface we did not make (docker0, a user's bridge): never adopt it,
                # or removing the network would delete it.
                raise Conflict(f"bridge name {net.bridge} is already in use on this host")
            try:
                await self._kernel_work_on_bridge(
                    net.bridge, lambda: self._kernel.ensure_network_sync(net))
            except BaseException:
                with contextlib.suppress(Exception):
                    await self._kernel.run(self._kernel.remove_network_sync, net)
                await self._save()
                raise
            self._state.add(net)
            await self._save()
            return net.inspect()

    async def remove_network(self, ref: str) -> None:
        async with self._lock:
            net = self._state.get(ref)
            if net.predefined:
                raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
            if net.endpoints:
                raise Forbidden(f"error while removing network: network {net.name} id "
                                f"{net.id} has active endpoints")
            del self._state.networks[net.id]
            try:
                await self._kernel_work_on_bridge(
                    net.bridge, lambda: self._kernel.remove_network_sync(net))
            except BaseException:
                self._state.add(net)  # still there as far as we know: start ensures it
                await self._save()
                raise
            await self._save()

    # ---------------------------------------------------------------- endpoints
    async def connect(self, network: str, container_id: str, netns_path: str | os.PathLike[str],
                      *, name: str = "", aliases: Iterable[str] = (), ipv4: str | None = None,
                      mac: str | None = None, ports: Iterable[PortSpec | str] = (),
                      links: Mapping[str, str] | None = None, ipv6: str | None = None,
                      link_local: Sequence[str] = ()) -> Endpoint:
        """Attach a container's netns to ``network``: eth<N>, address, routes, ports.
        ``links``: alias -> container name, resolved by the embedded DNS for it alone."""
        async with self._lock:
            net = self._state.get(network)
            if container_id in net.endpoints:
                raise Forbidden(f"endpoint with name {name.lstrip('/') or container_id} "
                                f"already exists in network {net.name}")
            ep = Endpoint(net.id, net.name, container_id, new_id(), name=name,
                          netns_path=os.fspath(netns_path), aliases=list(aliases),
                          links=dict(links or {}), static_ip6=ipv6 or "",
                          link_local=list(link_local))
            if net.driver != "bridge":
                if net.driver == "null":
                    await self._kernel.run(ensure_loopback, ep.netns_path)
                net.endpoints[container_id] = ep
                await self._save()
                return ep
            return await self._connect_bridge(net, ep, ipv4, mac, ports)

    def _address(self, net: Network, ep: Endpoint, ipv4: str | None, mac: str | None) -> None:
        """The endpoint's address, MAC, veth and interface name (eth<first free>)."""
        assert net.pool is not None
        ip = net.pool.allocate(ipv4)
        ep.ip, ep.prefixlen, ep.gateway = str(ip), net.pool.subnet.prefixlen, str(net.pool.gateway)
        ep.static_ip = ipv4 or ""
        if net.pool6 is not None:
            try:
                ip6 = net.pool6.allocate(ep.static_ip6 or None)
            except BaseException:
                net.pool.release(ip)
                raise
            ep.ip6, ep.prefixlen6 = str(ip6), net.pool6.subnet.prefixlen
            ep.gateway6 = str(net.pool6.gateway)
        elif ep.static_ip6:
            net.pool.release(ip)
            raise InvalidParameter(f"invalid endpoint settings: {ep.static_ip6}: the network "
                                   f"{net.name} has no IPv6")
        ep.mac = mac or mac_for_ip(ip)
        ep.host_veth = host_veth_name()
        used = {e.ifname for e in self._state.endpoints_of(ep.container_id).values()}
        ep.ifname = next(f"eth{i}" for i in range(len(used) + 1) if f"eth{i}" not in used)

    async def _connect_bridge(self, net: Network, ep: Endpoint, ipv4: str | None,
                              mac: str | None, ports: Iterable[PortSpec | str]) -> Endpoint:
        assert net.pool is not None
        if ipv4 and not net.user_defined:
            raise InvalidParameter(
                "user specified IP address is supported on user defined networks only")
        specs = [s for p in ports for s in (parse_publish(p) if isinstance(p, str) else [p])]
        self._address(net, ep, ipv4, mac)
        try:
            for spec in specs:
                ep.ports += self._ports.reserve_all(spec)
            await self._kernel.run(self._kernel.connect_sync, net, ep)
        except BaseException as exc:
            await self._ports.release(ep.ports)
            net.release(ep)
            if isinstance(exc, PortAllocated):
                raise SystemFailure(
                    f"driver failed programming external connectivity on endpoint "
                    f"{ep.name.lstrip('/') or ep.container_id[:12]} ({ep.endpoint_id}): {exc}"
                ) from exc
            raise
        for mapping in ep.ports:
            await self._ports.serve(mapping, ep.target_ip(mapping))
        net.endpoints[ep.container_id] = ep
        if net.user_defined:
            await self._start_dns(ep)
        await self._save()
        return ep

    async def disconnect(self, network: str, container_id: str) -> None:
        async with self._lock:
            net = self._state.get(network)
            ep = net.endpoints.get(container_id)
            if ep is None:
                raise Forbidden(f"container {container_id} is not connected to network "
                                f"{net.name}")
            await self._ports.release(ep.ports)
            if net.driver == "bridge":
                await self._kernel.run(self._kernel.disconnect_sync, net, ep)
            net.release(ep)
            del net.endpoints[container_id]
            if self._dns is not None and not self._state.on_user_network(container_id):
                self._dns.stop(container_id)
            await self._save()

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
        return self._state.resolve(container_id, name)
