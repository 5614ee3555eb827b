"""New network records: the predefined ones (bridge, host, none) and user-defined
bridges from a create request, checked with Docker's words before anything is made."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Interface
from typing import TypedDict

from pydocker.engine.errors import Conflict, Forbidden, InvalidParameter, NotFound
from pydocker.network.ipam import NO_FREE_POOL6, POOL_OVERLAP, IPNetwork, Pool, overlaps
from pydocker.network.model import (
    OPT_BRIDGE_NAME,
    OPT_DEFAULT,
    OPT_HOST_IP,
    OPT_ICC,
    OPT_MASQ,
    OPT_MTU,
    Network,
    now_rfc3339,
)

MAX_BRIDGE_NAME = 15  # IFNAMSIZ - 1


class IPAMConfig(TypedDict, total=False):
    """One entry of a create request's IPAM.Config."""

    Subnet: str
    Gateway: str
    IPRange: str
    AuxiliaryAddresses: dict[str, str]


class IPAM(TypedDict, total=False):
    """A create request's IPAM section."""

    Driver: str
    Config: list[IPAMConfig]
    Options: dict[str, str]


def new_id() -> str:
    return secrets.token_hex(32)


def bool_option(options: dict[str, str], key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "t", "yes"):
        return True
    if value.lower() in ("0", "false", "f", "no"):
        return False
    raise InvalidParameter(f"invalid value for {key}: {value}")


def predefined(name: str, driver: str) -> Network:
    """``host`` or ``none``: records only, nothing in the kernel."""
    return Network(new_id(), name, driver, now_rfc3339())


def bip_pool(bip: str) -> Pool:
    """The default bridge's pool from ``--bip`` (its gateway address with the prefix)."""
    iface = IPv4Interface(bip)
    return Pool.create(iface.network, str(iface.ip))


def default_bridge(bridge_name: str, mtu: int, pool: Pool) -> Network:
    options = {OPT_DEFAULT: "true", OPT_ICC: "true", OPT_MASQ: "true",
               OPT_HOST_IP: "0.0.0.0", OPT_BRIDGE_NAME: bridge_name, OPT_MTU: str(mtu)}
    return Network(new_id(), "bridge", "bridge", now_rfc3339(), bridge=bridge_name,
                   pool=pool, mtu=mtu, options=options)


def check_driver(driver: str, ipam: IPAM) -> None:
    """Only bridge networks can be made (host and null exist once, as predefined)."""
    if driver in ("host", "null"):
        raise Forbidden(f'only one instance of "{driver}" network is allowed')
    if driver != "bridge":
        raise NotFound(f"plugin \"{driver}\" not found")
    if ipam.get("Driver") not in (None, "", "default"):
        raise NotFound(f"plugin \"{ipam['Driver']}\" not found")


def _is_v6(entry: IPAMConfig) -> bool:
    return ":" in (entry.get("Subnet") or "")


def requested_pool6(config: Sequence[IPAMConfig], ours: Iterable[IPNetwork], enabled: bool
                    ) -> Pool | None:
    """The IPv6 pool of a create request: with EnableIPv6 it must name one (this engine
    has no default IPv6 pools), without it it must not."""
    entries = [e for e in config if _is_v6(e)]
    if not enabled:
        if entries:
            raise InvalidParameter("IPv6 subnet given for a network without EnableIPv6")
        return None
    if not entries:
        raise Forbidden(NO_FREE_POOL6)
    return _requested(entries[0], ours, version=6)


def requested_pool(config: Sequence[IPAMConfig], ours: Iterable[IPNetwork]) -> Pool | None:
    """The IPv4 pool a create request asks for, or None: choose a free subnet."""
    config = [e for e in config if not _is_v6(e)]
    if not config:
        return None
    entry = config[0]
    if not entry.get("Subnet"):
        if entry.get("Gateway") or entry.get("IPRange") or entry.get("AuxiliaryAddresses"):
            raise InvalidParameter("a subnet is required with a gateway or ip-range")
        return None
    return _requested(entry, ours, version=4)


def _requested(entry: IPAMConfig, ours: Iterable[IPNetwork], version: int) -> Pool:
    """The pool an IPAM config entry with a subnet names, refused when it overlaps one of
    ours; its gateway shown in inspect only when the client gave one (dockerd)."""
    pool = Pool.create(entry["Subnet"], entry.get("Gateway") or None,
                       entry.get("IPRange") or None, entry.get("AuxiliaryAddresses") or {},
                       version=version)
    pool.gateway_shown = bool(entry.get("Gateway"))
    if overlaps(pool.subnet, ours):
        raise Forbidden(POOL_OVERLAP)
    return pool


def user_bridge(name: str, pool: Pool, *, pool6: Pool | None = None, ipam: IPAM,
                internal: bool, attachable: bool,
                labels: dict[str, str], options: dict[str, str], default_mtu: int,
                bridges_in_use: Iterable[str]) -> Network:
    """A user-defined bridge network's record; its bridge is named by option or ID."""
    net = Network(
        new_id(), name, "bridge", now_rfc3339(), pool=pool, pool6=pool6, ipv6=pool6 is not None,
        internal=internal,
        attachable=attachable, labels=dict(labels), options=options,
        # as sent: the docker CLI sends {}, docker-py nothing, and dockerd shows either
        ipam_options=None if ipam.get("Options") is None else dict(ipam["Options"]),
        mtu=int(options.get(OPT_MTU) or default_mtu),
        masquerade=bool_option(options, OPT_MASQ, True),
        icc=bool_option(options, OPT_ICC, True))
    net.bridge = options.get(OPT_BRIDGE_NAME) or f"br-{net.id[:12]}"
    if len(net.bridge) > MAX_BRIDGE_NAME:
        raise InvalidParameter(f"bridge name {net.bridge} is too long (max 15)")
    if net.bridge in set(bridges_in_use):
        raise Conflict(f"bridge name {net.bridge} is already in use")
    return net
