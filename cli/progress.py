"""Display docker's JSON-message stream (pull, push, load, import, build): moby's jsonmessage.

A port of ``DisplayJSONMessagesStream`` and ``JSONProgress.String``: on a terminal every
``id`` that reports progress keeps one line, redrawn in place with ANSI cursor moves
(``ESC[nA`` up, ``ESC[2K`` clear, ``ESC[nB`` down); off a terminal progress bars are
dropped and only status lines are printed, one per message. A message without progress
forgets the remembered lines, so ``pull -a`` starts each tag's block afresh, as docker does.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TextIO

from pydocker.cli.errors import CliError
from pydocker.cli.output import human_size


def go_duration(seconds: int) -> str:
    """time.Duration.String for whole seconds: '0s', '45s', '1m30s', '2h0m5s'."""
    if seconds <= 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def progress_string(detail: dict[str, Any], width: int = 200,
                    now: float | None = None) -> str:
    """JSONProgress.String: '[==>   ]  1.2MB/3.4MB 5s' (bar only when width > 110)."""
    current = int(detail.get("current") or 0)
    total = int(detail.get("total") or 0)
    units = str(detail.get("units") or "")
    if current <= 0 and total <= 0:
        return ""
    if total <= 0:
        return f"{current} {units}" if units else f"{human_size(current):>8}"
    percentage = min(50, int(current / total * 100) // 2)
    box = ""
    if width > 110:
        box = "[" + "=" * percentage + ">" + " " * max(0, 50 - percentage) + "] "
    if detail.get("hidecounts"):
        numbers = ""
    elif units:
        numbers = f"{current} {units}" if current > total else f"{current}/{total} {units}"
    elif current > total:  # a wonky total is left out
        numbers = f"{human_size(current):>8}"
    else:
        numbers = f"{human_size(current):>8}/{human_size(total)}"
    left = ""
    start = int(detail.get("start") or 0)
    if current > 0 and start > 0 and percentage < 50 and width > 50:
        # Go's integer Duration arithmetic, truncated to whole seconds
        elapsed_ns = int(((time.time() if now is None else now) - start) * 1e9)
        per_entry = elapsed_ns // current
        left = " " + go_duration((total - current) * per_entry // 1_000_000_000)
    return box + numbers + left


def _timestamp(msg: dict[str, Any]) -> str:
    """RFC3339NanoFixed in local time, for messages that carry ``time``/``timeNano``."""
    nanos = int(msg.get("timeNano") or 0) or int(msg.get("time") or 0) * 1_000_000_000
    if not nanos:
        return ""
    from datetime import datetime
    dt = datetime.fromtimestamp(nanos // 1_000_000_000).astimezone()
    zone = dt.strftime("%z")
    zone = "Z" if zone == "+0000" else f"{zone[:3]}:{zone[3:]}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{nanos % 1_000_000_000:09d}{zone} "


class JSONError(CliError):
    """An ``errorDetail`` in the stream: its message for stderr, its code (or 1) for exit."""


def _error(msg: dict[str, Any]) -> JSONError | None:
    detail = msg.get("errorDetail")
    if not detail and not msg.get("error"):
        return None
    detail = detail if isinstance(detail, dict) else {}
    code = int(detail.get("code") or 0) or 1
    return JSONError(str(detail.get("message") or msg.get("error") or ""), code)


def display(msg: dict[str, Any], out: TextIO, tty: bool, width: int) -> None:
    """JSONMessage.Display: one message, on a terminal ending with '\\r' for progress."""
    has_progress = msg.get("progressDetail") is not None
    bar = progress_string(msg["progressDetail"], width) if has_progress else ""
    stream = msg.get("stream") or ""
    endl = ""
    if tty and not stream and has_progress:
        endl = "\r"
        out.write("\x1b[2K\r")
    elif has_progress and bar:
        return  # progress bars only on a terminal
    text = _timestamp(msg)
    if msg.get("id"):
        text += f"{msg['id']}: "
    if msg.get("from"):
        text += f"(from {msg['from']}) "
    status = msg.get("status") or ""
    if has_progress and tty:
        text += f"{status} {bar}{endl}"
    elif msg.get("progress"):
        text += f"{status} {msg['progress']}{endl}"
    elif stream:
        text += stream + endl
    else:
        text += f"{status}{endl}\n"
    out.write(text)


def terminal_width(out: TextIO) -> int:
    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 200


def display_stream(messages: Iterable[Any], out: TextIO, tty: bool, width: int = 200,
                   aux: Callable[[dict[str, Any]], None] | None = None) -> None:
    """DisplayJSONMessagesStream; raises JSONError at the first error message."""
    ids: dict[str, int] = {}
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        if msg.get("aux") is not None:
            if aux is not None:
                aux(msg)
            continue
        err = _error(msg)
        if err is not None:
            out.flush()
            raise err
        ident = msg.get("id") or ""
        diff = 0
        if ident and (msg.get("progressDetail") is not None or msg.get("progress")):
            if ident not in ids:
                ids[ident] = len(ids)
                if tty:
                    out.write("\n")
            diff = len(ids) - ids[ident]
            if tty and diff:
                out.write(f"\x1b[{diff}A")
        else:
            ids = {}  # lines of an earlier block are no longer redrawn
        display(msg, out, tty, width)
        if ident and tty and diff:
            out.write(f"\x1b[{diff}B")
        out.flush()


def show_progress(resp: Any, out: TextIO | None,
                  aux: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Render a response's progress stream to ``out`` (None: read it quietly)."""
    if out is None:
        for msg in resp.iter_json():
            if isinstance(msg, dict):
                if msg.get("aux") is not None and aux is not None:
                    aux(msg)
                elif (err := _error(msg)) is not None:
                    raise err
        return
    tty = out.isatty()
    display_stream(resp.iter_json(), out, tty, terminal_width(out) if tty else 200, aux)
