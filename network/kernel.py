"""The network's kernel work (netlink, iptables, sysctls), all on one dedicated thread.

pyroute2's sync IPRoute must not run on the event loop, and serialising the kernel work
keeps iptables and the bridges consistent with the records. Every ``*_sync`` method here
runs on that thread (through ``run``); none of them touches the records' bookkeeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_address
from typing import ParamSpec, TypeVar

from pydocker.engine.errors import SystemFailure
from pydocker.network import default_subnet, ip6rules
from pydocker.network import iptables as ipt
from pydocker.network.bridge import ensure_address6, ensure_bridge, remove_bridge
from pydocker.network.ipam import IPNetwork
from pydocker.network.model import Endpoint, Network
from pydocker.network.netlink import (
    HostNetlink,
    host_iproute,
    host_networks,
    link_index,
    read_sysctl,
    write_sysctl,
)
from pydocker.network.veth import VethConfig, create_endpoint, remove_endpoint

T = TypeVar("T")
P = ParamSpec("P")
IP_FORWARD = "net/ipv4/ip_forward"


class Kernel:
    def __init__(self, names: ipt.Names, *, iptables: bool, ip_forward: bool,
                 ip6tables: bool = True) -> None:
        self.names = names
        self.use_iptables = iptables
        self.use_ip6tables = iptables and ip6tables
        self.set_ip_forward = ip_forward
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pydocker-net")
        self._ipr: HostNetlink | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args)`` on the kernel thread."""
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, lambda: fn(*args, **kwargs))

    @property
    def ipr(self) -> HostNetlink:
        """The host netlink socket; only ever touched on the kernel thread."""
        if self._ipr is None:
            self._ipr = host_iproute()
        return self._ipr

    async def close(self) -> None:
        """Close the netlink socket (on the kernel thread), then stop the thread."""
        await self.run(self._close_sync)
        self._thread.shutdown(wait=True)

    def _close_sync(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    # --- the host: forwarding and our chains ----------------------------------------------

    def ensure_base_sync(self) -> str | None:
        """Forwarding on, our chains and their jumps in place; returns ip_forward's value
        before (None if we leave it alone)."""
        before = write_sysctl(IP_FORWARD, "1") if self.set_ip_forward else None
        if self.use_iptables:
            for chain in self.names.chains():
                chain.ensure()
            ipt.ensure_all(self.names.base_rules())
            ipt.ensure_all(self.names.jumps())
        if self.use_ip6tables:
            ip6rules.ensure_base(self.names)
        return before

    def remove_base_sync(self, restore_ip_forward: str | None) -> None:
        """Our chains gone; ip_forward set back to ``restore_ip_forward`` if it is given."""
        if self.use_iptables:
            ipt.remove_all(self.names.jumps())
            ipt.remove_chains(self.names.chains())
        if self.use_ip6tables:
            ip6rules.remove_base(self.names)
        if restore_ip_forward is not None and read_sysctl(IP_FORWARD) == "1":
            write_sysctl(IP_FORWARD, restore_ip_forward)

    def foreign_route_sync(self, subnet: IPNetwork, own_links: set[str]) -> str | None:
        return default_subnet.foreign_route(self.ipr, subnet, own_links)

    def host_networks_sync(self) -> list[IPv4Network]:
        """Subnets the host already routes: a new network must not overlap them."""
        return host_networks(self.ipr)

    # --- networks -------------------------------------------------------------------------

    def _network_rules(self, net: Network) -> list[ipt.Rule]:
        assert net.pool is not None
        rules = ipt.network_rules(self.names, net.bridge, str(net.pool.subnet),
                                  internal=net.internal, masquerade=net.masquerade, icc=net.icc)
        return rules + (ip6rules.network_rules(self.names, net) if self.use_ip6tables else [])

    def ensure_network_sync(self, net: Network) -> None:
        self.ensure_bridge_sync(net)
        if self.use_iptables:
            ipt.ensure_all(self._network_rules(net))

    def ensure_bridge_sync(self, net: Network) -> None:
        """The network's bridge, addressed and up (its rules are the caller's)."""
        assert net.pool is not None
        ensure_bridge(self.ipr, net.bridge, IPv4Address(net.pool.gateway),
                      net.pool.subnet.prefixlen, net.mtu)
        if net.pool6 is not None:
            ensure_address6(self.ipr, net.bridge, IPv6Address(net.pool6.gateway),
                            net.pool6.subnet.prefixlen)
            if self.set_ip_forward:
                ip6rules.enable_forwarding()

    def remove_network_sync(self, net: Network) -> None:
        if self.use_iptables and net.pool is not None:
            ipt.remove_all(self._network_rules(net))
        remove_bridge(self.ipr, net.bridge)

    def remove_bridges_sync(self, names: Iterable[str]) -> None:
        """Bridges a killed daemon may have left half made or half removed (their rules go
        with ``rebuild_rules_sync``)."""
        for name in names:
            remove_bridge(self.ipr, name)

    def rebuild_rules_sync(self, nets: Iterable[Network]) -> None:
        """Every rule inside our chains, rebuilt from the records in one atomic
        iptables-restore: rules of networks or endpoints a killed daemon left behind go,
        those of live ones stay without a moment's gap."""
        if not self.use_iptables:
            return
        rules = list(self.names.base_rules())
        chains = self.names.chains()
        if self.use_ip6tables:
            rules += ip6rules.as_v6(self.names.base_rules())
            chains += ip6rules.chains(self.names)
        for net in nets:
            if net.driver == "bridge" and net.pool is not None:
                rules += self._network_rules(net)
                for ep in net.endpoints.values():
                    rules += self.port_rules(net, ep)
        ipt.apply_batch(add=rules, flush=chains)

    # --- endpoints ------------------------------------------------------------------------

    def port_rules(self, net: Network, ep: Endpoint) -> list[ipt.Rule]:
        rules: list[ipt.Rule] = []
        for p in ep.ports:
            if ":" in p.host_ip and not (ep.ip6 and self.use_ip6tables):
                continue  # the port's proxy alone carries it (IPv6 to an IPv4 container)
            rules += ipt.port_rules(self.names, net.bridge, p.host_ip, p.host_port,
                                    ep.target_ip(p), p.container_port, p.proto)
        return rules

    def link_alive_sync(self, name: str) -> bool:
        return link_index(self.ipr, name) is not None

    def connect_sync(self, net: Network, ep: Endpoint) -> None:
        """The veth pair, addressed and routed, and the endpoint's published ports."""
        assert net.pool is not None
        index = link_index(self.ipr, net.bridge)
        if index is None:
            raise SystemFailure(f"bridge {net.bridge} of network {net.name} is missing")
        create_endpoint(self.ipr, index, VethConfig(
            ep.host_veth, ep.netns_path, IPv4Address(ep.ip), ep.prefixlen,
            IPv4Address(ep.gateway) if not net.internal else None, ep.mac, net.mtu, ep.ifname,
            IPv6Address(ep.ip6) if ep.ip6 else None, ep.prefixlen6,
            IPv6Address(ep.gateway6) if ep.gateway6 and not net.internal else None,
            tuple(ip_address(a) for a in ep.link_local)))
        if self.use_iptables and ep.ports:
            try:
                ipt.apply_batch(add=self.port_rules(net, ep))
            except BaseException:
                remove_endpoint(self.ipr, ep.host_veth)
                raise

    def disconnect_sync(self, net: Network, ep: Endpoint) -> None:
        if self.use_iptables and ep.ports:
            ipt.apply_batch(delete=self.port_rules(net, ep))
        if ep.host_veth:
            remove_endpoint(self.ipr, ep.host_veth)
