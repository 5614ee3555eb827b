"""``GET /containers/json``: Docker's filter rules over the container records."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.filters import check_keys, labels_match
from pydocker.engine.timeutil import parse_rfc3339_ns

from .model import Container
from .state import ContainerState

FILTERS = {"id", "name", "label", "status", "exited", "ancestor", "before", "since",
           "volume", "network", "health", "publish", "expose", "is-task"}
STATUSES = {str(state) for state in ContainerState}


def _port_ok(c: Container, exprs: list[str], published: bool) -> bool:
    keys = set((c.ports or {}) if published else (c.config.get("ExposedPorts") or {}))
    if published:
        hosts = {b.get("HostPort") for bs in (c.ports or {}).values() for b in bs or []}
    for expr in exprs:
        port = expr if "/" in expr else f"{expr}/tcp"
        if port in keys or (published and expr.split("/")[0] in hosts):
            return True
    return False


def select(containers: list[Container], filters: dict[str, list[str]], *, all_: bool,
           limit: int | None, image_matches: Callable[[str, Container], bool]
           ) -> list[Container]:
    check_keys(filters, FILTERS)
    for status in filters.get("status", []):
        if status not in STATUSES:
            raise InvalidParameter(f"invalid filter 'status={status}'")
    ordered = sorted(containers, key=lambda c: parse_rfc3339_ns(c.created), reverse=True)
    by_ref = {c.id: c for c in ordered}
    for c in ordered:
        by_ref.setdefault(c.name, c)

    def created_of(ref: str) -> int:
        match = by_ref.get(ref) or next((c for c in ordered if c.id.startswith(ref)), None)
        if match is None:
            raise InvalidParameter(f"No such container: {ref}")
        return parse_rfc3339_ns(match.created)

    before = min((created_of(r) for r in filters.get("before", [])), default=None)
    since = max((created_of(r) for r in filters.get("since", [])), default=None)
    show_all = all_ or bool(filters.get("status")) or bool(filters.get("exited")) \
        or limit is not None and limit > 0 or before is not None or since is not None
    out = []
    for c in ordered:
        if not show_all and not c.state.running:
            continue
        created = parse_rfc3339_ns(c.created)
        if before is not None and created >= before:
            continue
        if since is not None and created <= since:
            continue
        if not _matches(c, filters, image_matches):
            continue
        out.append(c)
        if limit is not None and limit > 0 and len(out) >= limit:
            break
    return out


def _name_matches(pattern: str, name: str) -> bool:
    """dockerd's name filter: a regular expression searched in the name with its leading
    "/" (so ``^/web$`` is exact) and without it (so ``^web$`` is too); a pattern that
    does not compile matches nothing."""
    try:
        return any(re.search(pattern, candidate) for candidate in (f"/{name}", name))
    except re.error:
        return False


def _matches(c: Container, f: dict[str, list[str]],
             image_matches: Callable[[str, Container], bool]) -> bool:
    if f.get("id") and not any(c.id.startswith(v) for v in f["id"]):
        return False
    if f.get("name") and not any(_name_matches(v, c.name) for v in f["name"]):
        return False
    if f.get("label") and not labels_match(c.config.get("Labels") or {}, f["label"]):
        return False
    if f.get("status") and c.state.status not in f["status"]:
        return False
    if f.get("exited") and (c.state.status is not ContainerState.EXITED
                            or str(c.state.exit_code) not in f["exited"]):
        return False
    if f.get("ancestor") and not any(image_matches(v, c) for v in f["ancestor"]):
        return False
    if f.get("network") and not any(n in c.networks or any(
            ep.get("NetworkID", "").startswith(n) for ep in c.networks.values())
            for n in f["network"]):
        return False
    if f.get("volume") and not any(
            m.get("inspect", {}).get("Name") == v or m.get("inspect", {}).get("Destination") == v
            for m in c.mounts for v in f["volume"]):
        return False
    if f.get("health"):
        status = (c.state.health or {}).get("Status", "none")
        if status not in f["health"]:
            return False
    if f.get("publish") and not _port_ok(c, f["publish"], True):
        return False
    if f.get("expose") and not _port_ok(c, f["expose"], False):
        return False
    return not (f.get("is-task") and "true" in f["is-task"])


def summaries(selected: list[Container], image_name: Callable[[Container], str], now_ns: int
              ) -> list[dict[str, Any]]:
    from .views import summary
    return [summary(c, image_name(c), now_ns) for c in selected]
