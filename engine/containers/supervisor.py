"""Watching containers that run: their exit, the restart policy's back-off, and finding
them again when the daemon restarts (live restore).

The supervisor never starts or removes a container itself: it is handed the two
callables that do (``start`` runs under the container's lock, as every start does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from pydocker.engine import tasks
from pydocker.engine.errors import Conflict, NotFound
from pydocker.engine.timeutil import rfc3339_now

from . import restart
from .context import Collaborators, LiveState
from .health import HealthMonitor
from .model import Container
from .protocols import ExitInfo, ShimHandle
from .sandbox import Sandbox
from .state import ContainerState

log = logging.getLogger(__name__)

KILLED = 137  # what a container whose shim vanished is said to have exited with


class Supervisor:
    def __init__(self, parts: Collaborators, live: LiveState, health: HealthMonitor,
                 sandbox: Sandbox, *, start: Callable[[Container], Awaitable[None]],
                 remove: Callable[[str], Awaitable[None]]) -> None:
        self.parts = parts
        self.live = live
        self.health = health
        self.sandbox = sandbox
        self._start = start
        self._remove = remove
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._backoff: dict[str, restart.Backoff] = {}

    def watch(self, c: Container, shim: ShimHandle) -> None:
        """From now on, ``c``'s exit is noticed and settled; health checks run meanwhile."""
        self.live.shims[c.id] = shim
        self._monitors[c.id] = tasks.spawn(self._monitor(c, shim))
        self.health.start(c)

    async def _monitor(self, c: Container, shim: ShimHandle) -> None:
        status: ExitInfo | None
        try:
            status = await shim.wait()
        except Exception:  # the shim vanished without telling: treat as killed
            log.exception("container %s: lost its shim", c.short_id)
            status = None
        await self.exited(c, status)

    async def exited(self, c: Container, status: ExitInfo | None) -> None:
        """Record the exit, release what the process held, then restart or auto-remove."""
        code = status.exit_code if status is not None else KILLED
        c.state.become(ContainerState.EXITED)
        c.state.pid = 0
        c.state.exit_code = code
        c.state.oom_killed = status is not None and status.oom_killed
        c.state.finished_at = (status.finished_at if status is not None else "") or rfc3339_now()
        self.live.shims.pop(c.id, None)
        self._monitors.pop(c.id, None)
        self.health.stop(c.id)
        # dockerd's order: ``die`` first, then the network disconnects and volume unmounts
        # of the clean-up.
        if c.state.oom_killed:
            self.parts.events.publish(c, "oom")
        self.parts.events.publish(c, "die", exitCode=str(code))
        await self.sandbox.leave(c)
        try:
            self.parts.store.save(c)
        except OSError as exc:
            # A full disk must not leave the exit unsettled (waiters hanging): the record
            # still says running, which the next start settles as an exit.
            log.error("container %s: exit not recorded: %s", c.short_id, exc)
        self.live.waiters.exited(c.id, code)
        if restart.should_restart(c.host_config.get("RestartPolicy") or {}, code,
                                  c.restart_count, c.manually_stopped):
            tasks.spawn(self._restart_later(c))
            return
        if c.host_config.get("AutoRemove"):
            with contextlib.suppress(NotFound, Conflict):
                await self._remove(c.id)

    async def _restart_later(self, c: Container) -> None:
        backoff = self._backoff.setdefault(c.id, restart.Backoff())
        delay = restart.next_delay(backoff, c.state.started_at, c.state.finished_at)
        c.state.become(ContainerState.RESTARTING)
        self.parts.store.save(c)
        await asyncio.sleep(delay)
        async with self.live.lock(c.id):
            if c.state.status is not ContainerState.RESTARTING or c.manually_stopped:
                return  # stopped or removed while we waited
            c.restart_count += 1
            try:
                await self._start(c)
            except Exception as exc:  # noqa: BLE001 - recorded in the state, as dockerd does
                log.error("container %s: restart failed: %s", c.short_id, exc)
                c.state.become(ContainerState.EXITED)
                c.state.error = str(exc)
                self.parts.store.save(c)

    async def restore(self) -> None:
        """Re-find live containers through their shims; settle those that died meanwhile;
        remove what a crash left of containers that no longer run or no longer exist."""
        store, runtime = self.parts.store, self.parts.runtime
        for dead in [c for c in store.all() if c.state.status is ContainerState.DEAD]:
            # Nothing can manage it any more: what its process held (shim, cgroups, netns,
            # endpoints, IPs, published ports) goes now; its files go at docker rm.
            await self.sandbox.leave(dead)
        known = {c.id: c for c in store.all()}
        for bundle in list(runtime.bundles.iterdir()):
            c = known.get(bundle.name)
            if c is None or not c.state.running:
                await runtime.delete(bundle.name)
        netns_dir = self.parts.paths.netns_dir
        if netns_dir.is_dir():
            for path in netns_dir.iterdir():
                c = known.get(path.name)
                if c is None or not c.state.running:
                    await runtime.remove_netns(path)
        for c in store.all():
            if not c.state.running:
                continue
            shim = await runtime.connect(c.id)
            if shim is not None:
                self.watch(c, shim)
                continue
            await self.exited(c, runtime.exit_status(c.id))
        if self.parts.volumes is not None:
            await self.parts.volumes.restore([c for c in store.all() if c.state.running])
