"""The container service: one façade over the parts that do the work.

``Lifecycle`` has the verbs (create, start, stop ...), ``Supervisor`` watches running
containers (exit, restart policy, restore at daemon start), ``HealthMonitor`` runs health
checks, ``Sandbox`` sets up and takes down what a running container holds. They share
``Collaborators`` and ``LiveState`` (context.py), never this class; the daemon and the
engine services talk to this class only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from pydocker.engine.config import DaemonConfig
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.events import EventBus
from pydocker.engine.host import sysinfo

from . import creation, names
from .context import Collaborators, Connect, ContainerEvents, LiveState
from .health import HealthMonitor
from .lifecycle import DEFAULT_STOP_TIMEOUT, INIT_CANDIDATES, Lifecycle, StartFailed
from .model import Container
from .paths import ContainerPaths
from .protocols import ContainerRuntime, ImageSource, Networking, ShimHandle, Volumes
from .sandbox import Sandbox
from .state import ContainerState
from .store import ContainerStore
from .supervisor import Supervisor

__all__ = ["DEFAULT_STOP_TIMEOUT", "INIT_CANDIDATES", "ContainerService", "StartFailed"]

WAIT_CONDITIONS = ("", "not-running", "next-exit", "removed")


class ContainerService:
    def __init__(self, conf: DaemonConfig, store: ContainerStore, images: ImageSource,
                 runtime: ContainerRuntime, network: Networking | None,
                 volumes: Volumes | None, events: EventBus) -> None:
        self.conf = conf
        self.store = store
        self.runtime = runtime
        self.paths = ContainerPaths(store.root, conf.exec_root)
        self.parts = Collaborators(store=store, images=images, runtime=runtime,
                                   network=network, volumes=volumes, paths=self.paths,
                                   events=ContainerEvents(events))
        self.live = LiveState()
        self.health = HealthMonitor(self.live.shims.get, store.save, self.parts.events.publish)
        self.cgroup_info = sysinfo.probe_limits()  # what limits this host can enforce
        sandbox = Sandbox(self.parts)
        self.supervisor = Supervisor(self.parts, self.live, self.health, sandbox,
                                     start=self._restart_now, remove=self._auto_remove)
        self.lifecycle = Lifecycle(self.parts, self.live, sandbox, self.cgroup_info,
                                   conf.cgroup_parent, supervise=self.supervisor.watch)

    @property
    def shims(self) -> dict[str, ShimHandle]:
        """The shims of running containers, by container ID."""
        return self.live.shims

    def lock(self, container_id: str) -> asyncio.Lock:
        return self.live.lock(container_id)

    def event(self, c: Container, action: str, **extra: str) -> None:
        self.parts.events.publish(c, action, **extra)

    async def _restart_now(self, c: Container) -> None:
        await self.lifecycle.start_locked(c)

    async def _auto_remove(self, container_id: str) -> None:
        await self.lifecycle.remove(container_id, force=True, volumes=True)

    # --- the verbs (creation.py, lifecycle.py) ----------------------------------------------

    async def create(self, name: str | None, body: dict[str, Any],
                     platform: str | None = None) -> tuple[Container, list[str]]:
        return await creation.create(self.parts, self.cgroup_info, name, body, platform,
                                     default_ipc_mode=self.conf.default_ipc_mode)

    async def start(self, ref: str) -> None:
        await self.lifecycle.start(ref)

    async def kill(self, ref: str, sig: str | int | None) -> None:
        await self.lifecycle.kill(ref, sig)

    async def stop(self, ref: str, timeout: int | None = None, sig: str | None = None) -> None:
        await self.lifecycle.stop(ref, timeout, sig)

    async def restart(self, ref: str, timeout: int | None = None, sig: str | None = None
                      ) -> None:
        await self.lifecycle.restart(ref, timeout, sig)

    async def update(self, ref: str, body: dict[str, Any]) -> list[str]:
        return await self.lifecycle.update(ref, body)

    async def pause(self, ref: str) -> None:
        await self.lifecycle.pause(ref)

    async def unpause(self, ref: str) -> None:
        await self.lifecycle.unpause(ref)

    async def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        await self.lifecycle.remove(ref, force=force, volumes=volumes)

    async def restore(self) -> None:
        """At daemon start: find running containers again (supervisor.py)."""
        await self.supervisor.restore()

    # --- wait / rename / attach -----------------------------------------------------------

    async def wait(self, ref: str, condition: str) -> Awaitable[int]:
        """Returns an awaitable at once, so the HTTP headers can go out before it resolves."""
        if condition not in WAIT_CONDITIONS:
            raise InvalidParameter(f"invalid condition: {condition!r}")
        c = self.store.get(ref)
        if condition == "removed":
            return self.live.waiters.on_removed(c.id)
        if condition in ("", "not-running") and not c.state.running:
            fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            fut.set_result(c.state.exit_code)
            return fut
        return self.live.waiters.on_exit(c.id)

    async def rename(self, ref: str, new_name: str) -> None:
        c = self.store.get(ref)
        if not new_name:
            raise InvalidParameter("Neither old nor new names may be empty")
        new = names.validate(new_name)
        if new == c.name:
            raise InvalidParameter("Renaming a container with the same name as its current "
                                   "name")
        old = c.name
        self.store.rename(c, new)
        self.store.save(c)
        self.event(c, "rename", oldName="/" + old)

    async def attach_when_started(self, c: Container, connect: Connect) -> None:
        """Run ``connect(shim)`` now if running, else right before the next start."""
        shim = self.live.shims.get(c.id)
        if shim is not None and c.state.running:
            await connect(shim)
        else:
            self.live.park(c.id, connect)

    # --- figures ----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        states = [c.state.status for c in self.store.all()]
        running = states.count(ContainerState.RUNNING) + states.count(ContainerState.RESTARTING)
        paused = states.count(ContainerState.PAUSED)
        return {"Containers": len(states), "ContainersRunning": running,
                "ContainersPaused": paused, "ContainersStopped": len(states) - running - paused}

    def image_users(self, image_id: str) -> list[str]:
        return [c.id for c in self.store.all() if c.image_id == image_id]

    def running_image_users(self, image_id: str) -> list[str]:
        return [c.id for c in self.store.all() if c.image_id == image_id and c.state.running]

    @staticmethod
    def now_ns() -> int:
        return time.time_ns()
