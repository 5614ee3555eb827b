"""Display docker's JSON-lines progress (load, import, pull, build).

On a terminal each ``id`` keeps one line that is rewritten in place, with a bar drawn
from ``progressDetail``; otherwise only status lines are printed, one per message, and
progress updates are dropped so logs stay readable (docker's jsonmessage does the same).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, TextIO

from pydocker.cli.errors import CliError
from pydocker.cli.output import human_size


def bar(current: int, total: int, width: int = 50) -> str:
    """jsonmessage.JSONProgress.String: '[=====>     ]  1.2MB/5MB'."""
    if total <= 0:
        return f"{human_size(current):>8}"
    filled = min(width, int(width * current / total))
    arrow = ">" if filled < width else ""
    body = "=" * filled + arrow + " " * max(0, width - filled - len(arrow))
    return f"[{body}] {human_size(current):>8}/{human_size(total)}"


def _line(msg: dict[str, Any], tty: bool) -> str:
    prefix = f"{msg['id']}: " if msg.get("id") else ""
    status = msg.get("status", "")
    if tty:
        detail = msg.get("progressDetail") or {}
        progress = msg.get("progress") or (
            bar(int(detail.get("current", 0)), int(detail.get("total", 0)))
            if detail.get("current") else "")
        if progress:
            return f"{prefix}{status} {progress}"
    return f"{prefix}{status}"


def show_progress(resp: Any, out: TextIO | None) -> list[dict[str, Any]]:
    """Render a progress stream to ``out`` (None: quiet); raise CliError on an error message.

    Returns the messages, for callers that want aux data or the final status.
    """
    tty = out is not None and os.isatty(out.fileno())
    lines: dict[str, int] = {}
    count = 0
    seen: list[dict[str, Any]] = []
    for msg in resp.iter_json():
        if not isinstance(msg, dict):
            continue
        seen.append(msg)
        if msg.get("error") or msg.get("errorDetail"):
            detail = msg.get("errorDetail") or {}
            raise CliError(str(msg.get("error") or detail.get("message")), status=1)
        if out is None:
            continue
        if msg.get("stream") is not None:
            out.write(msg["stream"])
            out.flush()
            continue
        if "status" not in msg:
            continue
        ident = msg.get("id")
        has_progress = bool((msg.get("progressDetail") or {}).get("current") or
                            msg.get("progress"))
        if not tty:
            if not has_progress:
                out.write(_line(msg, False) + "\n")
            continue
        text = _line(msg, True)
        if ident and ident in lines:
            up = count - lines[ident]
            out.write(f"\x1b[{up}A\r\x1b[2K{text}\r\x1b[{up}B")
        else:
            if ident:
                lines[ident] = count
            out.write(text + "\n")
            count += 1
        out.flush()
    return seen
