"""Docker's output conventions: tabwriter tables, go-units sizes and durations, time strings.

Each function ports the Go original closely enough that columns line up byte for byte
with the docker CLI (text/tabwriter with minwidth 10, padding 3; units.HumanSize).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


# --- tabwriter ---------------------------------------------------------------------


def _width(s: str) -> int:
    return len(s)


def tabwrite(lines: Iterable[str], minwidth: int = 10, padding: int = 3) -> str:
    """Go's text/tabwriter (AlignLeft, pad ' ') over tab-separated lines.

    Cells are tab-terminated; a line's last cell does not take part in alignment. Column
    widths are computed per block of consecutive lines that have that column, exactly
    like tabwriter.Writer.format.
    """
    rows = [line.split("\t") for line in lines]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for row in rows[line0:line1]:
            parts = []
            for j, cell in enumerate(row):
                if j < len(widths) and j < len(row) - 1:
                    parts.append(cell + " " * (widths[j] - _width(cell)))
                else:
                    parts.append(cell)
            out.append("".join(parts))

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(rows[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(rows[this]) - 1:
                width = max(width, _width(rows[this][column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(rows))
    return "".join(line + "\n" for line in out)


# --- units -------------------------------------------------------------------------


def _go_g(value: float, precision: int) -> str:
    """fmt's %.<p>g: like C's, but Go writes exponents with at least two digits too."""
    return f"{value:.{precision}g}"


def custom_size(size: float, base: float, units: tuple[str, ...], precision: int = 4) -> str:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return _go_g(size, precision) + units[i]


def human_size(size: float, precision: int = 4) -> str:
    """units.HumanSizeWithPrecision: decimal (1000-based) units, '4.26MB'."""
    return custom_size(float(size), 1000.0, DECIMAL_UNITS, precision)


def bytes_size(size: float) -> str:
    """units.BytesSize: binary (1024-based) units, '1.5MiB'."""
    return custom_size(float(size), 1024.0, BINARY_UNITS)


_RAM_RE = re.compile(r"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?(?:[iI]?[bB])?$")


def ram_in_bytes(value: str) -> int:
    """units.RAMInBytes: '512m', '1g', '1.5GB', '1024' (binary multiples)."""
    m = _RAM_RE.match(value.strip())
    if not m:
        raise ValueError(f"invalid size: '{value}'")
    mult = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
    return int(float(m.group(1)) * mult[(m.group(2) or "").lower()])


def human_duration(seconds: float) -> str:
    """units.HumanDuration."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)  # d.Round(time.Hour)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def ago(ts: float, now: float | None = None) -> str:
    return human_duration((now if now is not None else time.time()) - ts) + " ago"


# --- time strings ------------------------------------------------------------------

_FRACTION_RE = re.compile(r"\.(\d+)")


def parse_rfc3339(value: str) -> float:
    """Docker's RFC 3339 nano timestamps as Unix seconds (0 for the zero time)."""
    if not value or value.startswith("0001-01-01"):
        return 0.0
    v = value.replace("Z", "+00:00")
    frac = 0.0
    m = _FRACTION_RE.search(v)
    if m:
        frac = float("0." + m.group(1))
        v = v[: m.start()] + v[m.end():]
    from datetime import datetime
    return datetime.fromisoformat(v).timestamp() + frac


def go_time_string(ts: float) -> str:
    """time.Unix(ts, 0).String() in local time: '2024-01-02 15:04:05 +0000 UTC'."""
    from datetime import datetime
    dt = datetime.fromtimestamp(int(ts), UTC).astimezone()
    return dt.strftime("%Y-%m-%d %H:%M:%S %z ") + (dt.tzname() or "")


def go_print(value: Any) -> str:
    """fmt.Sprint of a JSON-decoded value, the way Go templates print fields."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_print(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def ellipsis(s: str, width: int) -> str:
    """formatter.Ellipsis: cut to ``width`` runes, the last one '…'."""
    if len(s) <= width:
        return s
    if width <= 1:
        return s[:width]
    return s[: width - 1] + "…"


def go_quote(s: str) -> str:
    """strconv.Quote for the strings docker shows (printable unicode kept)."""
    return json.dumps(s, ensure_ascii=False).replace("\\u007f", "\\x7f")


def short_id(ident: str) -> str:
    ident = ident.split(":", 1)[1] if ident.startswith("sha256:") else ident
    return ident[:12]


def write(text: str) -> None:
    sys.stdout.write(text)


def go_time_from_rfc3339(value: str) -> str:
    """An RFC 3339 string as Go's time.Time.String(): '2024-01-02 15:04:05.123 +0000 UTC'."""
    if not value or value.startswith("0001-01-01"):
        return "0001-01-01 00:00:00 +0000 UTC"
    from datetime import datetime
    m = _FRACTION_RE.search(value)
    frac = m.group(1).rstrip("0") if m else ""
    ts = parse_rfc3339(value)
    dt = datetime.fromtimestamp(int(ts), UTC).astimezone()
    base = dt.strftime("%Y-%m-%d %H:%M:%S")
    return f"{base}{'.' + frac if frac else ''} {dt.strftime('%z')} {dt.tzname() or ''}"
