"""Running exec instances through the container's shim and streaming their stdio."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydocker.engine import tasks
from pydocker.engine.errors import Conflict, SystemFailure
from pydocker.engine.runtime.client import StartError

from . import users
from .attach import ClientConn, parse_detach_keys, relay
from .execs import Exec, ExecStore, runtime_exec_spec
from .model import Container
from .protocols import ProcessHandle
from .service import ContainerService

log = logging.getLogger(__name__)


class ExecService:
    def __init__(self, containers: ContainerService, execs: ExecStore) -> None:
        self.containers = containers
        self.execs = execs

    def create(self, ref: str, body: dict[str, Any]) -> Exec:
        c = self.containers.store.get(ref)
        e = self.execs.create(c, body)
        cmd = " ".join(body.get("Cmd") or [])
        self.containers.event(c, f"exec_create: {cmd}", execID=e.id)
        return e

    def check_start(self, exec_id: str) -> Exec:
        e = self.execs.get(exec_id)
        if e.started:
            raise Conflict(f"Error: Exec command {exec_id} has already run")
        c = self.containers.store.get(e.container_id)
        if not c.state.running:
            raise Conflict(f"container {c.id} is not running")
        if not c.state.status.can_exec():
            raise Conflict(f"container {c.id} is paused, unpause the container before exec")
        return e

    async def start(self, e: Exec, conn: ClientConn | None, *, tty: bool,
                    console_size: list[int] | None = None) -> None:
        c = self.containers.store.get(e.container_id)
        shim = self.containers.shims.get(c.id)
        if shim is None:
            raise Conflict(f"container {c.id} is not running")
        e.started = True
        user_spec = e.config.get("User") or c.config.get("User") or ""
        user = await asyncio.to_thread(users.for_container, c, user_spec)
        exec_spec = runtime_exec_spec(c, e, user)  # a pty as the create asked (dockerd)
        size = console_size or e.config.get("ConsoleSize")
        if size and all(size):
            exec_spec["console_size"] = size
        cmd = " ".join(e.config.get("Cmd") or [])
        try:
            process = await shim.exec(exec_spec, raw=tty)  # framed as the start asked
        except Exception as exc:
            e.exit_code = 126  # dockerd's, whatever the reason (a missing binary too)
            e.done.set()
            self.containers.event(c, "exec_die", execID=e.id, exitCode=str(e.exit_code))
            if isinstance(exc, StartError):  # the runtime's refusal, in runc's words
                raise SystemFailure(
                    f"exec failed: unable to start container process: {exc}") from exc
            raise
        e.process = process
        e.pid = process.pid
        e.running = True
        self.containers.event(c, f"exec_start: {cmd}", execID=e.id)
        if conn is None:
            tasks.spawn(self._finish(c, e, process))
            return
        reader, writer = process.reader, process.writer
        stdin = bool(e.config.get("AttachStdin"))
        on_tty = stdin and bool(e.config.get("Tty"))  # piped stdin is data (dockerd)
        keys = parse_detach_keys(e.config.get("DetachKeys")) if on_tty else None
        await relay(conn, reader, writer if stdin else None, detach_keys=keys)
        # The CLI asks for ExitCode right after the stream closes: know it first.
        await self._finish(c, e, process)

    async def _finish(self, c: Container, e: Exec, process: ProcessHandle) -> None:
        code = await process.wait()
        e.exit_code = code
        e.running = False
        e.done.set()
        self.containers.event(c, "exec_die", execID=e.id, exitCode=str(code))

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        e = self.execs.get(exec_id)
        if e.process is None:
            raise Conflict(f"Exec {exec_id} is not running")
        await e.process.resize(height, width)
