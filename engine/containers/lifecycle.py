"""The verbs that move a container through its states: start, stop, kill, restart,
update, pause, unpause, remove (creation is creation.py).

Every verb checks the state machine (state.py) first, and every step that creates
something is paired with its undo, so a failure leaves nothing half-made.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydocker.engine import tasks
from pydocker.engine.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    NotModified,
    SystemFailure,
)
from pydocker.engine.host.sysinfo import CgroupInfo
from pydocker.engine.runtime.client import StartError
from pydocker.engine.runtime.errors import RuntimeFailure
from pydocker.engine.timeutil import rfc3339_now

from . import config as cfg
from . import links, logconfig, namespaces, resources, spec, users
from .context import Collaborators, LiveState
from .model import Container
from .protocols import ShimHandle
from .sandbox import Sandbox
from .state import ContainerState

DEFAULT_STOP_TIMEOUT = 10
KILL_WAIT = 10  # seconds a SIGKILL may take to reap (a process in D state)
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/tini")
UPDATABLE = ("Memory", "MemorySwap", "MemoryReservation", "CpuShares", "CpuQuota",
             "CpuPeriod", "NanoCpus", "CpusetCpus", "CpusetMems", "PidsLimit",
             "BlkioWeight", "RestartPolicy")


class StartFailed(InvalidParameter):
    """The process could not be started (missing binary, bad mount ...): Docker's 400."""


def init_path() -> str:
    for candidate in INIT_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    raise InvalidParameter("no init binary found (install Debian's tini)")


def _legacy_links(c: Container) -> bool:
    """HostConfig.Links apply on the default bridge only (dockerd's legacy links)."""
    return namespaces.network_mode(c.host_config) == "bridge"


def _with_env(config: dict[str, Any], before: list[str]) -> dict[str, Any]:
    """``config`` with ``before`` ahead of its Env, whose own variables win."""
    if not before:
        return config
    own = list(config.get("Env") or [])
    keys = {e.partition("=")[0] for e in own}
    return {**config, "Env": [e for e in before if e.partition("=")[0] not in keys] + own}


class Lifecycle:
    def __init__(self, parts: Collaborators, live: LiveState, sandbox: Sandbox,
                 cgroup_info: CgroupInfo, cgroup_parent: str, *,
                 supervise: Callable[[Container, ShimHandle], None]) -> None:
        self.parts = parts
        self.live = live
        self.sandbox = sandbox
        self.cgroup_info = cgroup_info  # what limits this host can enforce
        self.cgroup_parent = cgroup_parent
        self._supervise = supervise

    def _publish(self, c: Container, action: str, **extra: str) -> None:
        self.parts.events.publish(c, action, **extra)

    # --- start ------------------------------------------------------------------------

    async def start(self, ref: str) -> None:
        c = self.parts.store.get(ref)
        async with self.live.lock(c.id):
            if c.state.status is ContainerState.PAUSED:
                raise Conflict("cannot start a paused container, try unpause instead")
            if c.state.running:
                raise NotModified("container already started")
            if not c.state.can_start():  # removing, or dead: dockerd's one message for both
                raise Conflict("container is marked for removal and cannot be started")
            await self.start_locked(c)

    async def start_locked(self, c: Container) -> None:
        """Start ``c``, its lock held; on failure, tell whoever attached or waits."""
        try:
            await self._start_process(c)
        except BaseException as exc:
            await self.live.cancel_parked(c.id)
            if not isinstance(exc, StartFailed):
                c.state.error = str(exc)
                self.parts.store.save(c)
            self.live.waiters.exited(c.id, c.state.exit_code)
            if c.host_config.get("AutoRemove"):
                # As dockerd does: `docker run --rm` waits for the removal.
                tasks.spawn(self._remove_quietly(c.id))
            raise

    async def _remove_quietly(self, container_id: str) -> None:
        with contextlib.suppress(NotFound, Conflict):
            await self.remove(container_id, force=True, volumes=True)

    async def _start_process(self, c: Container) -> None:
        runtime, paths = self.parts.runtime, self.parts.paths
        try:
            log = logconfig.log_spec(c.host_config, c.config)  # dockerd starts the log driver first
        except logconfig.LogOptionError as exc:
            self._record_start_failure(c, exc)
            raise
        log_path = self._log_path(c)
        async with contextlib.AsyncExitStack() as undo:
            paths.bundle(c.id).mkdir(parents=True, exist_ok=True)
            linked = links.resolve(c, self.parts.store.get) if _legacy_links(c) else []
            netns, mounts = await self.sandbox.enter(c, undo, links.hosts_entries(linked))
            user = await asyncio.to_thread(users.for_container, c)
            runtime_spec = spec.build(
                container_id=c.id, config=_with_env(c.config, links.environment(c, linked)),
                host_config=c.host_config,
                argv=[c.path, *c.args], hostname=c.config["Hostname"], rootfs=c.rootfs,
                bundle=paths.bundle(c.id), netns=netns,
                namespaces=namespaces.namespace_paths(c, self.parts.store.get),
                log_path=log_path, log=log,
                mounts=mounts, user=user, cgroup_parent=self.cgroup_parent,
                init_path=init_path() if c.host_config.get("Init") else None)
            shim = await self._create_shim(runtime_spec)
            undo.push_async_callback(runtime.delete, c.id)
            await self.live.connect_parked(c.id, shim)
            try:
                await shim.start()
            except Exception as exc:  # noqa: BLE001 - any start failure is recorded, then raised
                self._record_start_failure(c, exc)
                raise StartFailed(f"failed to create task for container: {exc}") from None
            undo.pop_all()
        c.state.become(ContainerState.RUNNING)
        c.state.pid = shim.pid
        c.state.exit_code = 0
        c.state.error = ""
        c.state.oom_killed = False
        c.state.started_at = rfc3339_now()
        c.manually_stopped = False
        self.parts.store.save(c)
        self._publish(c, "start")
        self._supervise(c, shim)

    def _log_path(self, c: Container) -> Path:
        if not logconfig.keeps_logs(c.host_config):
            return Path(os.devnull)
        path = self.parts.paths.log(c.id, logconfig.driver_of(c.host_config))
        path.parent.mkdir(exist_ok=True)  # local-logs/
        return path

    async def _create_shim(self, runtime_spec: dict[str, Any]) -> ShimHandle:
        try:
            return await self.parts.runtime.create(runtime_spec)
        except RuntimeFailure as exc:  # no process yet (the shim or the spawner failed): the
            raise SystemFailure(str(exc)) from exc  # host's fault, a 500 as dockerd's

    def _record_start_failure(self, c: Container, exc: Exception) -> None:
        """The runtime says which exit code the failed start stands for (127: no such
        binary, 126: not executable ...); anything else is dockerd's 128."""
        c.state.exit_code = (exc.exit_code if isinstance(exc, StartError) else 0) or 128
        c.state.error = str(exc)
        self.parts.store.save(c)

    # --- stop / kill / restart ----------------------------------------------------------

    async def kill(self, ref: str, sig: str | int | None) -> None:
        c = self.parts.store.get(ref)
        number = cfg.parse_signal(sig, signal.SIGKILL)
        shim = self.live.shims.get(c.id)
        if shim is None or not c.state.running:
            raise Conflict(f"Cannot kill container: {ref}: container {c.id} is not running")
        if number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            c.manually_stopped = True
        # As dockerd: a SIGKILL returns once the process is gone, so an inspect right
        # after `docker kill` sees it exited (other signals may be caught: no wait).
        exited = self.live.waiters.on_exit(c.id) if number == signal.SIGKILL else None
        await shim.kill(number)
        self._publish(c, "kill", signal=str(number))
        if _thaws_for(c, number):
            await self._thaw_after_signal(c, shim)
        if exited is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(exited, KILL_WAIT)

    async def stop(self, ref: str, timeout: int | None = None, sig: str | None = None) -> None:
        c = self.parts.store.get(ref)
        if not c.state.status.can_stop():
            raise NotModified("container already stopped")
        await self._stop(c, timeout, sig)
        self._publish(c, "stop")

    async def _stop(self, c: Container, timeout: int | None, sig: str | None = None) -> None:
        c.manually_stopped = True
        shim = self.live.shims.get(c.id)
        if shim is None:
            if c.state.status is ContainerState.RESTARTING:  # waiting out its back-off
                c.state.become(ContainerState.EXITED)         # just stay down
                self.parts.store.save(c)
            return
        number = cfg.parse_signal(sig or c.config.get("StopSignal"), signal.SIGTERM)
        if timeout is None:
            timeout = c.config.get("StopTimeout") or DEFAULT_STOP_TIMEOUT
        exited = self.live.waiters.on_exit(c.id)
        if timeout != 0:
            with contextlib.suppress(Exception):
                await shim.kill(number)
                self._publish(c, "kill", signal=str(number))
            await self._thaw_after_signal(c, shim)
            if timeout < 0:
                await exited
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), timeout)
                return
        with contextlib.suppress(Exception):
            await shim.kill(signal.SIGKILL)
            self._publish(c, "kill", signal=str(int(signal.SIGKILL)))
        await self._thaw_after_signal(c, shim)
        await exited

    async def _thaw_after_signal(self, c: Container, shim: ShimHandle) -> None:
        """A frozen process does not act on a signal (cgroup v1's freezer holds even
        SIGKILL): after signalling a paused container, dockerd resumes it."""
        if c.state.status is not ContainerState.PAUSED:
            return
        with contextlib.suppress(Exception):
            await shim.resume()
        if c.state.status is ContainerState.PAUSED:  # not gone meanwhile
            c.state.become(ContainerState.RUNNING)
            self.parts.store.save(c)
            self._publish(c, "unpause")

    async def restart(self, ref: str, timeout: int | None = None, sig: str | None = None
                      ) -> None:
        c = self.parts.store.get(ref)
        async with self.live.lock(c.id):
            if not c.state.running and not c.state.can_start():
                raise Conflict(f"Cannot restart container {ref}: container is marked for "
                               "removal and cannot be started")
            if c.state.running:
                await self._stop(c, timeout, sig)
                self._publish(c, "stop")  # dockerd's restart is a stop, then a start
            await self.start_locked(c)
        self._publish(c, "restart")

    # --- update / pause -----------------------------------------------------------------

    async def update(self, ref: str, body: dict[str, Any]) -> list[str]:
        """docker update: new limits (applied to the live cgroup) and restart policy."""
        c = self.parts.store.get(ref)
        if not c.state.status.can_update():  # dockerd's check, and its wording
            raise Conflict(f"Cannot update container {c.id}: container is marked for removal "
                           'and cannot be "update"')
        changes = {k: body[k] for k in UPDATABLE if body.get(k) not in (None, "")}
        merged = {**c.host_config, **changes}
        cfg.validate_host_config(merged)
        warnings = resources.verify(merged, self.cgroup_info, update=True)
        if c.state.running:
            cg = self.parts.runtime.cgroup(c.id)
            if cg is not None:
                try:
                    await asyncio.to_thread(cg.create, spec.resources(merged),
                                            restrict_devices=False)  # set at start
                except OSError as exc:
                    raise InvalidParameter(f"Cannot update container {c.id}: {exc}") from None
        c.host_config = merged
        self.parts.store.save(c)
        self._publish(c, "update")
        return warnings

    async def pause(self, ref: str) -> None:
        c = self.parts.store.get(ref)
        if c.state.status is ContainerState.PAUSED:
            raise Conflict(f"Container {c.id} is already paused")
        if not c.state.status.can_pause():
            raise Conflict(f"container {c.id} is not running")
        await self._freeze(c, frozen=True)

    async def unpause(self, ref: str) -> None:
        c = self.parts.store.get(ref)
        if not c.state.status.can_unpause():
            raise Conflict(f"Container {c.id} is not paused")
        await self._freeze(c, frozen=False)

    async def _freeze(self, c: Container, *, frozen: bool) -> None:
        """Freeze (or thaw) the container's cgroup: docker pause / unpause."""
        shim = self.live.shims.get(c.id)
        if shim is None:  # it exited between the caller's check and now
            raise Conflict(f"container {c.id} is not running")
        await (shim.pause() if frozen else shim.resume())
        expected = ContainerState.RUNNING if frozen else ContainerState.PAUSED
        if c.state.status is not expected:  # it exited while the cgroup was (un)frozen
            raise Conflict(f"container {c.id} is not running")
        c.state.become(ContainerState.PAUSED if frozen else ContainerState.RUNNING)
        self.parts.store.save(c)
        self._publish(c, "pause" if frozen else "unpause")

    # --- remove -------------------------------------------------------------------------

    async def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        c = self.parts.store.get(ref)
        if not c.state.status.can_remove(force=force):
            raise Conflict(
                f'cannot remove container "/{c.name}": container is running: stop the '
                "container before removing or force remove")
        if c.state.running:
            await self._kill_for_removal(c)
        if c.state.status is ContainerState.REMOVING:
            return
        c.state.become(ContainerState.REMOVING)
        if self.parts.volumes is not None:
            await self.parts.volumes.release_mounts(c, volumes)
        await self.sandbox.leave(c)
        await asyncio.to_thread(self.parts.images.remove_rw, c.id)
        self.parts.store.remove(c)
        self.live.forget(c.id)
        self._publish(c, "destroy")
        self.live.waiters.removed(c.id, c.state.exit_code)

    async def _kill_for_removal(self, c: Container) -> None:
        c.manually_stopped = True
        shim = self.live.shims.get(c.id)
        if shim is not None:
            exited = self.live.waiters.on_exit(c.id)
            with contextlib.suppress(Exception):
                await shim.kill(signal.SIGKILL)
            await self._thaw_after_signal(c, shim)
            await exited


def _thaws_for(c: Container, number: int) -> bool:
    """dockerd's kill resumes a paused container for SIGKILL and for its stop signal
    (any signal when it has none set); another signal stays pending while frozen."""
    stop_signal = c.config.get("StopSignal")
    return (number == signal.SIGKILL or not stop_signal
            or cfg.parse_signal(stop_signal, signal.SIGTERM) == number)
