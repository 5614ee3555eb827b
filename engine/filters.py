"""Docker's filter rules shared by the list and prune endpoints (imports only engine.errors)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime

from pydocker.engine.errors import InvalidParameter


def labels_match(labels: Mapping[str, str], exprs: Iterable[str]) -> bool:
    """Every ``key`` or ``key=value`` expression holds (AND), as dockerd's label filter."""
    for expr in exprs:
        key, sep, value = expr.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def labels_select(labels: Mapping[str, str], filters: Mapping[str, list[str]]) -> bool:
    """Every ``label`` filter holds and no ``label!`` one does."""
    return labels_match(labels, filters.get("label", [])) and not any(
        labels_match(labels, [expr]) for expr in filters.get("label!", []))


def check_keys(filters: Iterable[str], accepted: Collection[str]) -> None:
    """dockerd's 400 for a filter the list or prune does not know."""
    for key in filters:
        if key not in accepted:
            raise InvalidParameter(f"invalid filter '{key}'")


PRUNE_KEYS = frozenset({"until", "label", "label!"})

_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS_PER_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                     "h": 3600.0}


def until_cutoff(value: str, now: float) -> float:
    """The ``until`` of a prune as seconds since the epoch, read as dockerd's
    timetypes.GetTimestamp reads it: a Go duration back from now (``10m``, ``1h30m``), a
    Unix time (``1700000000[.nnn]``), or an RFC 3339 date or date-time."""
    if value and "".join(m.group(0) for m in _GO_DURATION.finditer(value)) == value:
        return now - sum(float(n) * _SECONDS_PER_UNIT[u]
                         for n, u in _GO_DURATION.findall(value))
    try:
        return float(value)
    except ValueError:
        pass
    moment = parse_time(value)
    if moment is None:
        raise ValueError(f"failed to parse value as time or duration: {value!r}")
    return moment


def parse_time(text: str) -> float | None:
    """An RFC 3339 date or date-time (any fraction, ``Z`` or an offset; a bare date or a
    time without zone is UTC) as seconds since the epoch; None if it is not one."""
    base, _, rest = text.partition(".")
    zone = ""
    if rest:  # drop the fraction beyond microseconds, keep the zone
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, zone = rest[:digits], rest[digits:]
        base = f"{base}.{fraction[:6]}" if fraction else base
    text = base + zone
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


Selection = Callable[[Mapping[str, str], str], bool]  # (labels, created) -> pruned?


def prune_filter(filters: Mapping[str, list[str]],
                 accepted: frozenset[str] = PRUNE_KEYS) -> Selection:
    """dockerd's prune filters, checked now (an unknown key or a bad ``until`` is a 400):
    an object is pruned when every ``label`` holds, no ``label!`` holds, and it was created
    before every ``until``."""
    check_keys(filters, accepted)
    now = time.time()
    try:
        cutoffs = [until_cutoff(u, now) for u in filters.get("until", [])]
    except ValueError as exc:
        raise InvalidParameter(str(exc)) from None

    def selects(labels: Mapping[str, str], created: str) -> bool:
        if not labels_select(labels, filters):
            return False
        if not cutoffs:
            return True
        made = parse_time(created) or 0.0
        return all(made < cutoff for cutoff in cutoffs)

    return selects
