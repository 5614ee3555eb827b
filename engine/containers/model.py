"""A container's persistent record and its state machine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydocker.engine.timeutil import ZERO_TIME


@dataclass
class State:
    status: str = "created"   # created running paused restarting removing exited dead
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    health: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused", "restarting")

    def can_start(self) -> bool:
        return self.status in ("created", "exited", "dead")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Status": self.status,
            "Running": self.status in ("running", "paused"),
            "Paused": self.status == "paused",
            "Restarting": self.status == "restarting",
            "OOMKilled": self.oom_killed,
            "Dead": self.status == "dead",
            "Pid": self.pid,
            "ExitCode": self.exit_code,
            "Error": self.error,
            "StartedAt": self.started_at,
            "FinishedAt": self.finished_at,
        }
        if self.health is not None:
            out["Health"] = self.health
        return out


@dataclass
class Container:
    id: str
    name: str                     # without the leading slash
    created: str
    image_id: str
    config: dict[str, Any]        # Config, after merging the image's
    host_config: dict[str, Any]
    path: str
    args: list[str]
    state: State = field(default_factory=State)
    restart_count: int = 0
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → endpoint
    ports: dict[str, Any] = field(default_factory=dict)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    rootfs: dict[str, Any] = field(default_factory=dict)     # lower/upper/work from the store
    platform: str = "linux"
    manually_stopped: bool = False
    exec_ids: list[str] = field(default_factory=list)
    endpoints_config: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Container:
        record = dict(record)
        record["state"] = State(**record.get("state", {}))
        return cls(**record)
