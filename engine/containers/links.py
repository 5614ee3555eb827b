"""Legacy container links (``--link name:alias``) on the default bridge, as dockerd keeps
them: HostConfig.Links spelled ``/target:/container/alias``, the target's address in
/etc/hosts and its ports, name and environment as ``ALIAS_*`` variables, all settled when
the linking container starts. On user-defined networks links are per endpoint and the
embedded DNS answers them (network.state)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydocker.engine.errors import Conflict, InvalidParameter, NotFound

from .model import Container

# Variables docker build adds that dockerd does not pass on (links.go ToEnv).
SKIPPED_ENV = ("HOME", "PATH")
DEFAULT_LINK_REMOVAL = "Conflict, cannot remove the default link name of the container"


@dataclass(frozen=True)
class Link:
    target: str  # the linked container's name, without its "/"
    alias: str


@dataclass(frozen=True)
class Linked:
    """A link resolved at start: the target as it runs now."""

    alias: str
    target: Container
    ip: str


def parse(spec: str) -> Link:
    """``name``, ``name:alias`` or the stored ``/name:/container/alias``."""
    target, sep, alias = spec.partition(":")
    if ":" in alias or not target.strip("/") or (sep and not alias.strip("/")):
        raise InvalidParameter(f"bad format for links: {spec}")
    target = target.strip("/")
    return Link(target, alias.rsplit("/", 1)[-1] if alias else target)


def settle(specs: Sequence[str] | None, name: str, find: Callable[[str], Container]
           ) -> list[str] | None:
    """HostConfig.Links as dockerd stores it; every target must exist (a 400 if not)."""
    if not specs:
        return None
    out = []
    for spec in specs:
        link = parse(spec)
        try:
            target = find(link.target)
        except NotFound as exc:
            raise InvalidParameter(f"could not get container for {link.target}: {exc}") from None
        out.append(f"/{target.name}:/{name}/{link.alias}")
    return out


def resolve(c: Container, find: Callable[[str], Container]) -> list[Linked]:
    """The links of ``c`` about to start: each target must run (dockerd's refusal)."""
    out = []
    for spec in c.host_config.get("Links") or []:
        link = parse(spec)
        target = find(link.target)
        if not target.state.running:
            raise Conflict(f"Cannot link to a non running container: /{target.name} AS "
                           f"/{c.name}/{link.alias}")
        ip = (target.networks.get("bridge") or {}).get("IPAddress") or ""
        out.append(Linked(link.alias, target, ip))
    return out


def remove(c: Container, alias: str) -> bool:
    """Drop the link named ``alias`` from ``c``; False when it has none of that name."""
    kept = [s for s in c.host_config.get("Links") or [] if parse(s).alias != alias]
    if len(kept) == len(c.host_config.get("Links") or []):
        return False
    c.host_config["Links"] = kept or None
    return True


def names_by_target(containers: Sequence[Container]) -> dict[str, list[str]]:
    """Target container ID → the link names it is known by (``/container/alias``), which
    dockerd lists among its Names."""
    by_name = {c.name: c.id for c in containers}
    out: dict[str, list[str]] = {}
    for c in containers:
        for spec in c.host_config.get("Links") or []:
            link = parse(spec)
            if link.target in by_name:
                out.setdefault(by_name[link.target], []).append(f"/{c.name}/{link.alias}")
    return out


def hosts_entries(linked: Sequence[Linked]) -> list[tuple[str, list[str]]]:
    """/etc/hosts lines: the alias, then the target's short ID and name (dockerd's order)."""
    return [(lk.ip, [lk.alias, lk.target.short_id, lk.target.name]) for lk in linked if lk.ip]


def environment(c: Container, linked: Sequence[Linked]) -> list[str]:
    """Every link's variables (links.go ToEnv), before the container's own Env so that
    its own win."""
    env: list[str] = []
    for lk in linked:
        prefix = lk.alias.upper().replace("-", "_")
        ports = sorted((_port(key) for key in lk.target.config.get("ExposedPorts") or {}),
                       key=lambda p: (p[0], p[1] != "tcp"))
        if ports and lk.ip:
            env.append(f"{prefix}_PORT={ports[0][1]}://{lk.ip}:{ports[0][0]}")
            for port, proto in ports:
                key = f"{prefix}_PORT_{port}_{proto.upper()}"
                env += [f"{key}={proto}://{lk.ip}:{port}", f"{key}_ADDR={lk.ip}",
                        f"{key}_PORT={port}", f"{key}_PROTO={proto}"]
        env.append(f"{prefix}_NAME=/{c.name}/{lk.alias}")
        for item in lk.target.config.get("Env") or []:
            name, sep, value = item.partition("=")
            if sep and name not in SKIPPED_ENV:
                env.append(f"{prefix}_ENV_{name}={value}")
    return env


def _port(key: str) -> tuple[int, str]:
    port, _, proto = key.partition("/")
    return int(port.partition("-")[0]), proto or "tcp"
