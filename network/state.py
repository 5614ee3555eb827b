"""The network records (networks, their pools and endpoints) and the one file they live in.

``networks.json`` is rewritten atomically after every change, so a restarted daemon
re-adopts live endpoints with their addresses (live restore). Lookups here are pure reads
of the records: no kernel, no locking (the manager serialises every change).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydocker.engine.errors import InvalidParameter, NotFound
from pydocker.engine.host.atomic import write_atomic
from pydocker.network.ipam import IPNetwork
from pydocker.network.model import Endpoint, Network

STATE_FILE = "networks.json"


@dataclass
class NetworkState:
    networks: dict[str, Network] = field(default_factory=dict)  # by ID
    ip_forward_before: str | None = None  # the host's value before we turned it on
    # Bridges being made or removed: written before the kernel work, cleared after it, so
    # a daemon killed in between knows at start which bridges it may have left behind.
    pending_bridges: list[str] = field(default_factory=list)

    def add(self, net: Network) -> None:
        self.networks[net.id] = net

    def owned_bridges(self) -> set[str]:
        return {n.bridge for n in self.networks.values() if n.driver == "bridge" and n.bridge}

    def find_name(self, name: str) -> Network | None:
        return next((n for n in self.networks.values() if n.name == name), None)

    def get(self, ref: str) -> Network:
        """The network an ID, name or unique ID prefix names (Docker's order and words)."""
        if ref in self.networks:
            return self.networks[ref]
        by_name = self.find_name(ref)
        if by_name is not None:
            return by_name
        matches = [n for n in self.networks.values() if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidParameter(
                f"network {ref} is ambiguous ({len(matches)} matches found based on ID prefix)")
        raise NotFound(f"network {ref} not found")

    def subnets(self) -> list[IPNetwork]:
        """Every subnet of ours, IPv4 and IPv6: a new one must overlap none."""
        return [p.subnet for n in self.networks.values() for p in (n.pool, n.pool6) if p]

    def endpoints_of(self, container_id: str) -> dict[str, Endpoint]:
        """Network name -> endpoint for one container."""
        return {n.name: n.endpoints[container_id] for n in self.networks.values()
                if container_id in n.endpoints}

    def on_user_network(self, container_id: str) -> bool:
        """Whether the container is on a user-defined network (where names resolve)."""
        return any(n.user_defined and container_id in n.endpoints
                   for n in self.networks.values())

    def resolve(self, container_id: str, name: str) -> list[str] | None:
        """IPs for ``name`` on the user-defined networks ``container_id`` is attached to."""
        ips: list[str] = []
        for net in self.networks.values():
            if not net.user_defined or container_id not in net.endpoints:
                continue
            linked = {a.lower(): t.lower() for a, t in net.endpoints[container_id].links.items()}
            linked |= {f"{a}.{net.name.lower()}": t for a, t in linked.items()}
            for ep in net.endpoints.values():
                names = {n.lower() for n in ep.dns_names()}
                names |= {f"{n}.{net.name.lower()}" for n in names}
                hit = name in names or linked.get(name) == ep.name.lstrip("/").lower()
                if hit and ep.ip and ep.ip not in ips:
                    ips.append(ep.ip)
        return ips or None


def load_state(state_dir: Path) -> NetworkState:
    path = state_dir / STATE_FILE
    if not path.exists():
        return NetworkState()
    data = json.loads(path.read_text())
    nets = [Network.from_dict(raw) for raw in data.get("networks", [])]
    return NetworkState({n.id: n for n in nets}, data.get("ip_forward_before"),
                        list(data.get("pending_bridges") or []))


def save_state(state_dir: Path, state: NetworkState) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    data = {"ip_forward_before": state.ip_forward_before,
            "pending_bridges": state.pending_bridges,
            "networks": [n.to_dict() for n in state.networks.values()]}
    write_atomic(state_dir / STATE_FILE, json.dumps(data, indent=1).encode())
