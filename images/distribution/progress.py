"""dockerd's progress records, field for field (moby pkg/streamformatter, jsonmessage).

A record is a dict whose key order is Go's ``JSONMessage`` field order, so encoding it
compactly (with Go's HTML escaping of ``<``, ``>`` and ``&``) gives dockerd's bytes:

- a message (``progress.Message``): ``{"status": msg, "id": id}``, ``id`` left out if empty;
- an action (``progress.Update``): ``{"status", "progressDetail": {}, "id"}``;
- progress: ``{"status", "progressDetail": {"current", "total"}, "progress": bar, "id"}``.

The bar is ``JSONProgress.String()`` for a daemon without a terminal (width 200, no start
time, so no time left): ``[====>     ]  1.2MB/3.4MB``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Record = dict[str, Any]
Emit = Callable[[Record], None]

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float) -> str:
    """go-units ``HumanSize``: decimal units, 4 significant digits (``%.4g``)."""
    unit = 0
    while size >= 1000 and unit < len(_UNITS) - 1:
        size /= 1000
        unit += 1
    return f"{size:.4g}{_UNITS[unit]}"


def bar(current: int, total: int) -> str:
    """The preformatted ``progress`` string."""
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(int(current / total * 100) // 2, 50)
    box = f"[{'=' * filled}>{' ' * (50 - filled)}] "
    numbers = f"{human_size(current):>8}/{human_size(total)}"
    if current > total:
        numbers = f"{human_size(current):>8}"  # a wonky count: the total is left out
    return box + numbers


def message(text: str, id_: str = "") -> Record:
    return {"status": text, "id": id_} if id_ else {"status": text}


def action(id_: str, text: str) -> Record:
    return {"status": text, "progressDetail": {}, "id": id_}


def progress(id_: str, text: str, current: int, total: int) -> Record:
    detail: Record = {}
    if current:
        detail["current"] = current
    if total:
        detail["total"] = total
    record: Record = {"status": text, "progressDetail": detail}
    shown = bar(current, total)
    if shown:
        record["progress"] = shown
    record["id"] = id_
    return record


def aux(data: Record) -> Record:
    """The push's closing ``{"progressDetail": {}, "aux": {...}}``."""
    return {"progressDetail": {}, "aux": data}


class Throttle:
    """dockerd's progress reader: an update after each 512 KiB and at most every 100 ms,
    the first read always shown; the caller reports the end by itself."""

    EVERY_BYTES = 512 << 10
    EVERY_SECONDS = 0.1

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_bytes = -1
        self._last_time = 0.0

    def due(self, current: int) -> bool:
        now = self._clock()
        first = self._last_bytes < 0
        if first or (current - self._last_bytes >= self.EVERY_BYTES
                     and now - self._last_time >= self.EVERY_SECONDS):
            self._last_bytes, self._last_time = current, now
            return True
        return False
