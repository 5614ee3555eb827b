"""Health checks: the image's HEALTHCHECK (or --health-*), run as execs on a timer.

State.Health keeps the status, the failing streak and the last five results, and each
status change is a ``health_status: <status>`` event, as dockerd reports them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Callable
from typing import Any, Protocol

from pydocker.engine import tasks
from pydocker.engine.errors import Conflict
from pydocker.engine.timeutil import rfc3339_now

from . import users
from .config import capabilities, process_env
from .model import Container
from .protocols import ShimHandle

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_NS = 30_000_000_000
DEFAULT_TIMEOUT_NS = 30_000_000_000
DEFAULT_START_INTERVAL_NS = 5_000_000_000
DEFAULT_RETRIES = 3
MAX_LOG_ENTRIES = 5
MAX_OUTPUT = 4096
_HEADER = struct.Struct(">BxxxL")


def probe_argv(test: list[str]) -> list[str] | None:
    """["CMD", a, b] → [a, b]; ["CMD-SHELL", s] → ["/bin/sh", "-c", s]; NONE → None."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    if test[0] == "CMD":
        return list(test[1:])
    return list(test)


def _demux(data: bytes) -> bytes:
    out = bytearray()
    while len(data) >= _HEADER.size:
        _, size = _HEADER.unpack_from(data)
        out += data[_HEADER.size:_HEADER.size + size]
        data = data[_HEADER.size + size:]
    return bytes(out)


class StatusSink(Protocol):
    def __call__(self, c: Container, action: str, **extra: str) -> None: ...


class HealthMonitor:
    """One task per running container with a health check.

    ``shim_of`` finds the running container's shim (None once it stopped), ``save``
    persists the record after each result, ``publish`` sends the status-change event."""

    def __init__(self, shim_of: Callable[[str], ShimHandle | None],
                 save: Callable[[Container], None], publish: StatusSink) -> None:
        self._shim_of = shim_of
        self._save = save
        self._publish = publish
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, c: Container) -> None:
        hc = c.config.get("Healthcheck") or {}
        argv = probe_argv(hc.get("Test") or [])
        if argv is None:
            return
        c.state.health = {"Status": "starting", "FailingStreak": 0, "Log": []}
        self.stop(c.id)
        self._tasks[c.id] = tasks.spawn(self._loop(c, hc, argv))

    def stop(self, container_id: str) -> None:
        task = self._tasks.pop(container_id, None)
        if task is not None:
            task.cancel()

    async def _loop(self, c: Container, hc: dict[str, Any], argv: list[str]) -> None:
        interval = (hc.get("Interval") or DEFAULT_INTERVAL_NS) / 1e9
        timeout = (hc.get("Timeout") or DEFAULT_TIMEOUT_NS) / 1e9
        retries = hc.get("Retries") or DEFAULT_RETRIES
        start_period = (hc.get("StartPeriod") or 0) / 1e9
        start_interval = (hc.get("StartInterval") or DEFAULT_START_INTERVAL_NS) / 1e9
        loop = asyncio.get_running_loop()
        began = loop.time()
        while True:
            in_start_period = loop.time() - began < start_period
            await asyncio.sleep(start_interval if in_start_period and start_period
                                else interval)
            try:
                code, output, started = await self._probe(c, argv, timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a probe that cannot run is a failure
                code, output, started = -1, str(exc), rfc3339_now()
            self._record(c, code, output, started, retries,
                         loop.time() - began < start_period)

    async def _probe(self, c: Container, argv: list[str], timeout: float
                     ) -> tuple[int, str, str]:
        started = rfc3339_now()
        shim = self._shim_of(c.id)
        if shim is None:
            raise Conflict("container is not running")
        spec = {"args": argv, "env": process_env(c.config, c.config.get("Hostname", "")),
                "cwd": c.config.get("WorkingDir") or "/", "tty": False, "stdin": False,
                "user": await asyncio.to_thread(users.for_container, c),
                "privileged": False, "capabilities": capabilities(c.host_config)}
        process = await shim.exec(spec)
        chunks = bytearray()

        async def collect() -> int:
            while True:
                data = await process.reader.read(1 << 16)
                if not data:
                    break
                if len(chunks) < MAX_OUTPUT * 2:
                    chunks.extend(data)
            code: int = await process.wait()
            return code

        try:
            code = await asyncio.wait_for(collect(), timeout)
        except TimeoutError:
            with contextlib.suppress(Exception):
                await process.kill(9)
            return -1, f"Health check exceeded timeout ({timeout:g}s)", started
        return code, _demux(bytes(chunks)).decode(errors="replace")[:MAX_OUTPUT], started

    def _record(self, c: Container, code: int, output: str, started: str, retries: int,
                in_start_period: bool) -> None:
        health = c.state.health or {"Status": "starting", "FailingStreak": 0, "Log": []}
        entries = list(health.get("Log") or [])
        entries.append({"Start": started, "End": rfc3339_now(), "ExitCode": code,
                        "Output": output})
        health["Log"] = entries[-MAX_LOG_ENTRIES:]
        before = health["Status"]
        if code == 0:
            health["Status"] = "healthy"
            health["FailingStreak"] = 0
        elif not in_start_period:
            health["FailingStreak"] = health.get("FailingStreak", 0) + 1
            if health["FailingStreak"] >= retries:
                health["Status"] = "unhealthy"
        c.state.health = health
        self._save(c)
        if health["Status"] != before:
            self._publish(c, f"health_status: {health['Status']}")
