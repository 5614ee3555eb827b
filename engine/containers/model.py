"""A container's persistent record and its state machine."""

from __future__ import annotations

import functools
import logging
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from enum import StrEnum
from typing import Any

from pydocker.engine.timeutil import ZERO_TIME

from .state import ContainerState

log = logging.getLogger(__name__)


@dataclass
class State:
    status: ContainerState = ContainerState.CREATED
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    oom_killed: bool = False
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    health: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # A record read back from JSON holds the plain string; an unknown one is a
        # ValueError, which makes the record unreadable (and the container dead).
        self.status = ContainerState(self.status)

    @property
    def running(self) -> bool:
        return self.status.is_running

    def can_start(self) -> bool:
        return self.status.can_start()

    def become(self, target: ContainerState) -> None:
        """Move to ``target``; a move the state machine does not list is logged, not
        refused, because the verbs have already checked what they may do."""
        if not self.status.can_become(target):
            log.warning("unexpected container state change: %s -> %s", self.status, target)
        self.status = target

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Status": str(self.status),
            "Running": self.status.shows_running,
            "Paused": self.status is ContainerState.PAUSED,
            "Restarting": self.status is ContainerState.RESTARTING,
            "OOMKilled": self.oom_killed,
            "Dead": self.status is ContainerState.DEAD,
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
    # NetworkMode container:<id>: the container whose /etc/hostname, hosts and resolv.conf
    # this one uses (set at start, as dockerd's initializeNetworkingPaths).
    etc_owner: str = ""

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def to_record(self) -> dict[str, Any]:
        """The record to write at once (it shares the container's values): the state as
        an object, every other field JSON already. A tenth of asdict's cost, whose deep
        copy took ~0.3 ms per save, three saves per ``docker run --rm``."""
        return {**_shallow(self), "state": _shallow(self.state)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Container:
        """Raises ValueError or TypeError naming the field when the record is not one we
        wrote."""
        _check_shape(cls, record)
        state = record.get("state", {})
        _check_shape(State, state)
        return cls(**{**record, "state": State(**state)})

    @classmethod
    def dead(cls, container_id: str, error: str, salvaged: dict[str, Any]) -> Container:
        """What is left of a container whose record could not be read: enough to list,
        inspect and remove it (Docker's "dead"), never to start it. ``salvaged`` holds
        the fields of the record that could still be trusted."""
        return cls(id=container_id, name=salvaged.get("name") or container_id[:12],
                   created=salvaged.get("created") or ZERO_TIME,
                   image_id=salvaged.get("image_id") or "", config=salvaged.get("config") or {},
                   host_config={}, path="", args=[], state=State(status=ContainerState.DEAD,
                                                            error=error))


def _shallow(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@functools.cache
def _json_types(cls: type) -> dict[str, tuple[type, ...]]:
    """Field name -> the JSON types its value may have (a nested dataclass is an object)."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        hints = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        out[name] = tuple(dict if is_dataclass(h) else str if _is_str_enum(h)
                          else typing.get_origin(h) or h for h in hints)
    return out


def _is_str_enum(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, StrEnum)


def _check_shape(cls: type, record: object) -> None:
    """A record cut short or edited by hand fails here, at load, rather than later in
    every listing: the fields the class requires, none it lacks, each of its type."""
    if not isinstance(record, dict):
        raise TypeError(f"{cls.__name__.lower()} is not a JSON object")
    types_of = _json_types(cls)
    for f in fields(cls):
        if f.name not in record and f.default is MISSING and f.default_factory is MISSING:
            raise ValueError(f"missing field {f.name!r}")
    for key, value in record.items():
        if key not in types_of:
            raise ValueError(f"unknown field {key!r}")
        if not isinstance(value, types_of[key]):
            raise TypeError(f"field {key!r} has the wrong type ({type(value).__name__})")
