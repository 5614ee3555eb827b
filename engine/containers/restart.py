"""Restart policies with Docker's back-off (daemon/restartmanager).

The delay starts at 100 ms and doubles with each restart in a row; a container that
ran for 10 s or more resets it. ``docker stop`` (a manual stop) never restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydocker.engine.timeutil import parse_rfc3339_ns

BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 60.0
RESET_AFTER_S = 10.0


@dataclass
class Backoff:
    delay_s: float = 0.0


def should_restart(policy: dict[str, Any] | None, exit_code: int, restart_count: int,
                   manually_stopped: bool) -> bool:
    name = (policy or {}).get("Name") or "no"
    if manually_stopped or name == "no":
        return False
    if name in ("always", "unless-stopped"):
        return True
    if name == "on-failure":
        retries = (policy or {}).get("MaximumRetryCount") or 0
        return exit_code != 0 and (retries == 0 or restart_count < retries)
    return False


def next_delay(backoff: Backoff, started_at: str, finished_at: str) -> float:
    ran_s = (parse_rfc3339_ns(finished_at) - parse_rfc3339_ns(started_at)) / 1e9
    if ran_s >= RESET_AFTER_S:
        backoff.delay_s = 0.0
    backoff.delay_s = BACKOFF_START_S if backoff.delay_s == 0 else min(
        backoff.delay_s * 2, BACKOFF_MAX_S)
    return backoff.delay_s
