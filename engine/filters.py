"""Docker's filter rules shared by every list endpoint (a leaf: imports nothing of ours)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def labels_match(labels: Mapping[str, str], exprs: Iterable[str]) -> bool:
    """Every ``key`` or ``key=value`` expression holds (AND), as dockerd's label filter."""
    for expr in exprs:
        key, sep, value = expr.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True
