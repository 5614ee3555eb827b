"""Docker's time formats."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339_nano(ns: int) -> str:
    """RFC3339Nano in UTC like Go prints it (trailing zeros of the fraction trimmed)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{frac:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def rfc3339_now() -> str:
    return rfc3339_nano(time.time_ns())


@functools.lru_cache(maxsize=4096)
def parse_rfc3339_ns(text: str) -> int:
    """Inverse of rfc3339_nano for the timestamps we write (UTC, 'Z')."""
    if not text or text.startswith("0001-"):
        return 0
    base, _, frac = text.rstrip("Z").partition(".")
    secs = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=UTC).timestamp())
    return secs * 1_000_000_000 + int((frac or "0").ljust(9, "0")[:9])
