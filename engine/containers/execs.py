"""Exec instances: ``docker exec`` processes joined to a running container."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from pydocker.engine.errors import Conflict, InvalidParameter, NotFound

from .config import capabilities, process_env
from .model import Container
from .protocols import ProcessHandle


@dataclass
class Exec:
    id: str
    container_id: str
    config: dict[str, Any]
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    process: ProcessHandle | None = None
    started: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def inspect(self) -> dict[str, Any]:
        cmd = list(self.config.get("Cmd") or [])
        process: dict[str, Any] = {
            "tty": bool(self.config.get("Tty")),
            "entrypoint": cmd[0] if cmd else "",
            "arguments": cmd[1:],
            "privileged": bool(self.config.get("Privileged")),
        }
        if self.config.get("User"):  # omitempty in dockerd's answer
            process["user"] = self.config["User"]
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": process,
            "OpenStdin": bool(self.config.get("AttachStdin")),
            "OpenStderr": bool(self.config.get("AttachStderr")),
            "OpenStdout": bool(self.config.get("AttachStdout")),
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.config.get("DetachKeys") or "",
            "Pid": self.pid,
        }


class ExecStore:
    def __init__(self) -> None:
        self._execs: dict[str, Exec] = {}

    def create(self, c: Container, body: dict[str, Any]) -> Exec:
        if not c.state.running:
            raise Conflict(f"container {c.id} is not running")
        if not c.state.status.can_exec():
            raise Conflict(f"container {c.id} is paused, unpause the container before exec")
        if not body.get("Cmd"):
            raise InvalidParameter("No exec command specified")
        e = Exec(id=secrets.token_hex(32), container_id=c.id, config=dict(body))
        self._execs[e.id] = e
        c.exec_ids.append(e.id)
        return e

    def get(self, exec_id: str) -> Exec:
        e = self._execs.get(exec_id)
        if e is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return e

    def forget_container(self, c: Container) -> None:
        for exec_id in c.exec_ids:
            self._execs.pop(exec_id, None)
        c.exec_ids.clear()


def runtime_exec_spec(c: Container, e: Exec, user: dict[str, Any]) -> dict[str, Any]:
    conf = e.config
    env = process_env({"Env": list(c.config.get("Env") or []) + list(conf.get("Env") or []),
                       "Tty": conf.get("Tty")}, c.config.get("Hostname", ""))
    hc = dict(c.host_config)
    if conf.get("Privileged"):
        hc["Privileged"] = True
    return {
        "args": list(conf["Cmd"]),
        "env": env,
        "cwd": conf.get("WorkingDir") or c.config.get("WorkingDir") or "/",
        "user": user,
        "tty": bool(conf.get("Tty")),
        "stdin": bool(conf.get("AttachStdin")),
        "privileged": bool(hc.get("Privileged")),
        "capabilities": capabilities(hc),
        "console_size": conf.get("ConsoleSize"),
    }
