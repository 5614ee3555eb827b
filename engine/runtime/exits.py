"""A container's exit record: what the shim sends to waiters and leaves in
``<bundle>/exit.json`` for a daemon that was down when the container stopped (live
restore). One shape, written by the shim, read by the daemon."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .atomic import write_atomic

EXIT_FILE = "exit.json"


@dataclass
class ExitStatus:
    exit_code: int
    oom_killed: bool = False
    finished_at: str = ""
    error: str = ""  # set by the daemon when the monitor vanished without a record

    def to_json(self) -> dict[str, int | bool | str]:
        return {"exit_code": self.exit_code, "oom_killed": self.oom_killed,
                "finished_at": self.finished_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExitStatus:
        return cls(int(data["exit_code"]), bool(data.get("oom_killed")),
                   data.get("finished_at", ""))


def exit_code_of(wait_status: int) -> int:
    """Docker's exit code: the program's, or 128 + the signal that killed it."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def record(bundle: str | os.PathLike[str], status: ExitStatus) -> None:
    write_atomic(os.path.join(bundle, EXIT_FILE), json.dumps(status.to_json()).encode())


def read(bundle: str | os.PathLike[str]) -> ExitStatus | None:
    """The recorded exit, or None while the container runs (or its record is torn)."""
    try:
        with open(os.path.join(bundle, EXIT_FILE), "rb") as f:
            return ExitStatus.from_json(json.loads(f.read()))
    except (OSError, ValueError, KeyError):
        return None
