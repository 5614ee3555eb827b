"""Container lifecycle: create, start, stop, kill, wait, remove, restart, rename, pause.

The service owns container state; the runtime runs processes, the image store gives
root filesystems, the network manager gives endpoints. Every step that creates
something is paired with its undo, so a failure leaves nothing half-made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydocker.engine import tasks
from pydocker.engine.config import DaemonConfig
from pydocker.engine.errors import Conflict, InvalidParameter, NotFound, NotModified
from pydocker.engine.events import EventBus
from pydocker.engine.host import sysinfo
from pydocker.engine.timeutil import rfc3339_now

from . import config as cfg
from . import files, names, resources, restart, spec, users
from .health import HealthMonitor
from .model import Container
from .store import ContainerStore
from .waiters import Waiters

log = logging.getLogger(__name__)

DEFAULT_STOP_TIMEOUT = 10
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/tini")


class StartFailed(InvalidParameter):
    """The process could not be started (missing binary, bad mount ...): Docker's 400."""


class ContainerService:
    def __init__(self, conf: DaemonConfig, store: ContainerStore, images: Any, runtime: Any,
                 network: Any, volumes: Any, events: EventBus) -> None:
        self.conf = conf
        self.store = store
        self.images = images
        self.runtime = runtime
        self.network = network
        self.volumes = volumes
        self.events = events
        self.waiters = Waiters()
        self.cgroup_info = sysinfo.probe()  # what limits this host can enforce
        self.shims: dict[str, Any] = {}
        self._monitors: dict[str, asyncio.Task[None]] = {}
        self._pending_attach: dict[str, list[Callable[[Any], Awaitable[None]]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._backoff: dict[str, restart.Backoff] = {}
        self.health = HealthMonitor(self)

    def lock(self, container_id: str) -> asyncio.Lock:
        return self._locks.setdefault(container_id, asyncio.Lock())

    def event(self, c: Container, action: str, **extra: str) -> None:
        attrs = {"name": c.name, "image": c.config.get("Image", "")}
        attrs.update(c.config.get("Labels") or {})
        attrs.update(extra)
        self.events.publish("container", action, c.id, attrs)

    # --- create -----------------------------------------------------------------------

    async def create(self, name: str | None, body: dict[str, Any],
                     platform: str | None = None) -> tuple[Container, list[str]]:
        image_ref = body.get("Image") or ""
        if not image_ref:
            raise InvalidParameter("config cannot be empty in order to create a container")
        host_config = dict(body.get("HostConfig") or {})
        cfg.validate_host_config(host_config)
        warnings = resources.verify(host_config, self.cgroup_info)
        cfg.capabilities(host_config)  # unknown capabilities are a 400 before anything exists
        if name is not None and name != "":
            name = names.validate(name)
        image = await asyncio.to_thread(self.images.get, image_ref)
        config = cfg.merge_image_config(body, image.config)
        config["Image"] = image_ref
        path, args = cfg.entrypoint_and_args(config)
        container_id = secrets.token_hex(32)
        if not config.get("Hostname"):
            config["Hostname"] = container_id[:12]
        name = name or names.random_name(self.store.names())
        self.store.reserve_name(name, container_id)
        c = Container(id=container_id, name=name, created=rfc3339_now(), image_id=image.id,
                      config=config, host_config=host_config, path=path, args=args,
                      platform=platform or "linux",
                      endpoints_config={
                          "bridge" if k == "default" else k: v for k, v in (
                              (body.get("NetworkingConfig") or {}).get("EndpointsConfig")
                              or {}).items()})
        if self.network is not None:
            self.network.validate(c)
            c.networks = self.network.planned(c)
        async with contextlib.AsyncExitStack() as undo:
            self.store.add(c)
            undo.callback(self.store.remove, c)
            c.rootfs = await asyncio.to_thread(self.images.create_rw, c.id, image.id)
            undo.push_async_callback(asyncio.to_thread, self.images.remove_rw, c.id)
            if self.volumes is not None:
                c.mounts = await self.volumes.prepare_mounts(c)
                undo.push_async_callback(self.volumes.release_mounts, c, True)
            self.store.save(c)
            undo.pop_all()
        self.event(c, "create")
        return c, warnings

    # --- start ------------------------------------------------------------------------

    async def start(self, ref: str) -> None:
        c = self.store.get(ref)
        async with self.lock(c.id):
            if c.state.status == "paused":
                raise Conflict("cannot start a paused container, try unpause instead")
            if c.state.running:
                raise NotModified("container already started")
            if not c.state.can_start():  # removing, or dead: dockerd's one message for both
                raise Conflict("container is marked for removal and cannot be started")
            await self._start(c)

    async def _start(self, c: Container) -> None:
        try:
            await self._start_process(c)
        except BaseException as exc:
            # Whoever attached (docker run) or waits must learn it will not run.
            for connect in self._pending_attach.pop(c.id, []):
                with contextlib.suppress(Exception):
                    await connect(None)
            if not isinstance(exc, StartFailed):
                c.state.error = str(exc)
                self.store.save(c)
            self.waiters.exited(c.id, c.state.exit_code)
            if c.host_config.get("AutoRemove"):
                # As dockerd does: `docker run --rm` waits for the removal.
                tasks.spawn(self._remove_quietly(c.id))
            raise

    async def _remove_quietly(self, container_id: str) -> None:
        with contextlib.suppress(NotFound, Conflict):
            await self.remove(container_id, force=True, volumes=True)

    async def _start_process(self, c: Container) -> None:
        bundle = self.conf.exec_root / "containers" / c.id
        cdir = self.store.dir(c.id)
        async with contextlib.AsyncExitStack() as undo:
            bundle.mkdir(parents=True, exist_ok=True)
            netns = await self._setup_network(c, undo)
            if self.volumes is not None:
                await self.volumes.mount(c)
                undo.push_async_callback(self.volumes.unmount, c)
            etc_mounts = self._write_etc_files(c, cdir)
            argv = [c.path, *c.args]
            user = await asyncio.to_thread(self._resolve_user, c)
            init = self._init_path() if c.host_config.get("Init") else None
            runtime_spec = spec.build(
                container_id=c.id, config=c.config, host_config=c.host_config, argv=argv,
                hostname=c.config["Hostname"], rootfs=c.rootfs, bundle=bundle,
                log_path=cdir / f"{c.id}-json.log", netns=netns,
                mounts=etc_mounts + [m["spec"] for m in c.mounts if "spec" in m],
                user=user, cgroup_parent=self.conf.cgroup_parent, init_path=init)
            shim = await self.runtime.create(runtime_spec)
            undo.push_async_callback(self.runtime.delete, c.id)
            for connect in self._pending_attach.pop(c.id, []):
                await connect(shim)
            try:
                await shim.start()
            except Exception as exc:  # noqa: BLE001 - any start failure is recorded, then raised
                code = getattr(exc, "exit_code", 0) or 128
                c.state.exit_code = code
                c.state.error = str(exc)
                self.store.save(c)
                message = f"failed to create task for container: {exc}"
                raise StartFailed(message) from None
            undo.pop_all()
        self.shims[c.id] = shim
        c.state.status = "running"
        c.state.pid = shim.pid
        c.state.exit_code = 0
        c.state.error = ""
        c.state.oom_killed = False
        c.state.started_at = rfc3339_now()
        c.manually_stopped = False
        self.store.save(c)
        self.event(c, "start")
        self._monitors[c.id] = tasks.spawn(self._monitor(c, shim))
        self.health.start(c)

    def _resolve_user(self, c: Container) -> dict[str, Any]:
        return self._resolve_user_spec(c, c.config.get("User") or "")

    def _resolve_user_spec(self, c: Container, spec_user: str) -> dict[str, Any]:
        layers = [c.rootfs.get("upper", "")] + list(c.rootfs.get("lower", []))
        group_add = c.host_config.get("GroupAdd") or []
        if not spec_user and not group_add:
            return {"uid": 0, "gid": 0, "additional_gids": []}
        return users.resolve(spec_user, users.read_in_layers(layers, "etc/passwd"),
                             users.read_in_layers(layers, "etc/group"), group_add)

    @staticmethod
    def _init_path() -> str:
        for candidate in INIT_CANDIDATES:
            if os.path.exists(candidate):
                return candidate
        raise InvalidParameter("no init binary found (install Debian's tini)")

    def _write_etc_files(self, c: Container, cdir: Path) -> list[dict[str, Any]]:
        hc = c.host_config
        primary = next(iter(c.networks.values()), {})
        hostname = c.config["Hostname"]
        mode = hc.get("NetworkMode") or "bridge"
        if mode == "host":
            hosts = Path("/etc/hosts").read_text()
            hostname_text = os.uname().nodename + "\n"
        else:
            hosts = files.hosts_file(hostname, c.config.get("Domainname") or "",
                                     primary.get("IPAddress") or None, hc.get("ExtraHosts"))
            hostname_text = hostname + "\n"
        written = {
            "/etc/resolv.conf": files.write(cdir, "resolv.conf", files.resolv_conf(
                hc, embedded_dns=any(n not in ("bridge", "host", "none") for n in c.networks))),
            "/etc/hostname": files.write(cdir, "hostname", hostname_text),
            "/etc/hosts": files.write(cdir, "hosts", hosts),
        }
        ro = ["ro"] if hc.get("ReadonlyRootfs") else []
        return [{"destination": dest, "type": "bind", "source": str(src),
                 "options": ["rbind", "rprivate", *ro]} for dest, src in written.items()]

    async def _setup_network(self, c: Container, undo: contextlib.AsyncExitStack) -> str:
        mode = c.host_config.get("NetworkMode") or "bridge"
        if mode in ("host", "none"):
            return mode
        if mode.startswith("container:"):
            other = self.store.get(mode.partition(":")[2])
            if not other.state.running:
                raise Conflict(f"cannot join network of a non running container: {other.id}")
            return f"/proc/{other.state.pid}/ns/net"
        if self.network is None:
            raise InvalidParameter("bridge networking is not available in this daemon")
        netns = self.conf.exec_root / "netns" / c.id
        netns.parent.mkdir(parents=True, exist_ok=True)
        await self.runtime.create_netns(netns)
        undo.push_async_callback(self.runtime.remove_netns, netns)
        await self.network.attach_container(c, str(netns))
        undo.push_async_callback(self.network.detach_container, c)
        return str(netns)

    # --- exit -------------------------------------------------------------------------

    async def _monitor(self, c: Container, shim: Any) -> None:
        try:
            status = await shim.wait()
        except Exception:  # the shim vanished without telling: treat as killed
            log.exception("container %s: lost its shim", c.short_id)
            status = None
        await self._exited(c, status)

    async def _exited(self, c: Container, status: Any) -> None:
        code = getattr(status, "exit_code", 137) if status is not None else 137
        c.state.status = "exited"
        c.state.pid = 0
        c.state.exit_code = code
        c.state.oom_killed = bool(getattr(status, "oom_killed", False))
        c.state.finished_at = getattr(status, "finished_at", None) or rfc3339_now()
        self.shims.pop(c.id, None)
        self._monitors.pop(c.id, None)
        self.health.stop(c.id)
        await self._teardown(c)
        self.store.save(c)
        if c.state.oom_killed:
            self.event(c, "oom")
        self.event(c, "die", exitCode=str(code))
        self.waiters.exited(c.id, code)
        if restart.should_restart(c.host_config.get("RestartPolicy") or {}, code,
                                  c.restart_count, c.manually_stopped):
            tasks.spawn(self._restart_later(c))
            return
        if c.host_config.get("AutoRemove"):
            with contextlib.suppress(NotFound, Conflict):
                await self.remove(c.id, force=True, volumes=True)

    async def _restart_later(self, c: Container) -> None:
        backoff = self._backoff.setdefault(c.id, restart.Backoff())
        delay = restart.next_delay(backoff, c.state.started_at, c.state.finished_at)
        c.state.status = "restarting"
        self.store.save(c)
        await asyncio.sleep(delay)
        async with self.lock(c.id):
            if c.state.status != "restarting" or c.manually_stopped:
                return  # stopped or removed while we waited
            c.restart_count += 1
            try:
                await self._start(c)
            except Exception as exc:  # noqa: BLE001 - recorded in the state, as dockerd does
                log.error("container %s: restart failed: %s", c.short_id, exc)
                c.state.status = "exited"
                c.state.error = str(exc)
                self.store.save(c)

    async def _teardown(self, c: Container) -> None:
        """What a stopped container no longer needs: endpoints, netns, runtime leftovers."""
        mode = c.host_config.get("NetworkMode") or "bridge"
        if self.network is not None and mode not in ("host", "none") and not mode.startswith(
                "container:"):
            with contextlib.suppress(Exception):
                await self.network.detach_container(c)
            with contextlib.suppress(Exception):
                await self.runtime.remove_netns(self.conf.exec_root / "netns" / c.id)
        with contextlib.suppress(Exception):
            await self.runtime.delete(c.id)
        if self.volumes is not None:
            with contextlib.suppress(Exception):
                await self.volumes.unmount(c)

    # --- stop / kill / restart ----------------------------------------------------------

    async def kill(self, ref: str, sig: str | int | None) -> None:
        c = self.store.get(ref)
        number = cfg.parse_signal(sig, signal.SIGKILL)
        shim = self.shims.get(c.id)
        if shim is None or not c.state.running:
            raise Conflict(f"Cannot kill container: {ref}: container {c.id} is not running")
        if c.state.status == "paused" and number != signal.SIGKILL:
            raise Conflict(f"Cannot kill container: {ref}: container {c.id} is paused")
        if number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            c.manually_stopped = True
        await shim.kill(number)
        self.event(c, "kill", signal=str(number))

    async def stop(self, ref: str, timeout: int | None = None, sig: str | None = None) -> None:
        c = self.store.get(ref)
        if not c.state.running:
            raise NotModified("container already stopped")
        await self._stop(c, timeout, sig)
        self.event(c, "stop")

    async def _stop(self, c: Container, timeout: int | None, sig: str | None = None) -> None:
        c.manually_stopped = True
        shim = self.shims.get(c.id)
        if shim is None:
            if c.state.status == "restarting":  # waiting out its back-off: just stay down
                c.state.status = "exited"
                self.store.save(c)
            return
        number = cfg.parse_signal(sig or c.config.get("StopSignal"), signal.SIGTERM)
        if timeout is None:
            timeout = c.config.get("StopTimeout") or DEFAULT_STOP_TIMEOUT
        exited = self.waiters.on_exit(c.id)
        if c.state.status == "paused":
            await shim.resume()
        if timeout != 0:
            with contextlib.suppress(Exception):
                await shim.kill(number)
                self.event(c, "kill", signal=str(number))
            if timeout < 0:
                await exited
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(exited), timeout)
                return
        with contextlib.suppress(Exception):
            await shim.kill(signal.SIGKILL)
            self.event(c, "kill", signal=str(int(signal.SIGKILL)))
        await exited

    async def restart(self, ref: str, timeout: int | None = None, sig: str | None = None
                      ) -> None:
        c = self.store.get(ref)
        async with self.lock(c.id):
            if not c.state.running and not c.state.can_start():
                raise Conflict(f"Cannot restart container {ref}: container is marked for "
                               "removal and cannot be started")
            if c.state.running:
                await self._stop(c, timeout, sig)
            await self._start(c)
        self.event(c, "restart")

    UPDATABLE = ("Memory", "MemorySwap", "MemoryReservation", "CpuShares", "CpuQuota",
                 "CpuPeriod", "NanoCpus", "CpusetCpus", "CpusetMems", "PidsLimit",
                 "BlkioWeight", "RestartPolicy")

    async def update(self, ref: str, body: dict[str, Any]) -> list[str]:
        """docker update: new limits (applied to the live cgroup) and restart policy."""
        c = self.store.get(ref)
        if c.state.status in ("removing", "dead"):  # dockerd's check, and its wording
            raise Conflict(f"Cannot update container {c.id}: container is marked for removal "
                           'and cannot be "update"')
        changes = {k: body[k] for k in self.UPDATABLE if body.get(k) not in (None, "")}
        merged = {**c.host_config, **changes}
        cfg.validate_host_config(merged)
        warnings = resources.verify(merged, self.cgroup_info, update=True)
        if c.state.running:
            cg = self.runtime.cgroup(c.id)
            if cg is not None:
                try:
                    await asyncio.to_thread(cg.create, spec.resources(merged),
                                            restrict_devices=False)  # set at start
                except OSError as exc:
                    raise InvalidParameter(f"Cannot update container {c.id}: {exc}") from None
        c.host_config = merged
        self.store.save(c)
        self.event(c, "update")
        return warnings

    async def pause(self, ref: str) -> None:
        c = self.store.get(ref)
        if c.state.status == "paused":
            raise Conflict(f"Container {c.id} is already paused")
        if c.state.status != "running":
            raise Conflict(f"Container {c.id} is not running")
        await self.shims[c.id].pause()
        c.state.status = "paused"
        self.store.save(c)
        self.event(c, "pause")

    async def unpause(self, ref: str) -> None:
        c = self.store.get(ref)
        if c.state.status != "paused":
            raise Conflict(f"Container {c.id} is not paused")
        await self.shims[c.id].resume()
        c.state.status = "running"
        self.store.save(c)
        self.event(c, "unpause")

    # --- wait / remove / rename ---------------------------------------------------------

    async def wait(self, ref: str, condition: str) -> Awaitable[int]:
        """Returns an awaitable at once, so the HTTP headers can go out before it resolves."""
        if condition not in ("", "not-running", "next-exit", "removed"):
            raise InvalidParameter(f"invalid condition: {condition!r}")
        c = self.store.get(ref)
        if condition == "removed":
            return self.waiters.on_removed(c.id)
        if condition in ("", "not-running") and not c.state.running:
            fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            fut.set_result(c.state.exit_code)
            return fut
        return self.waiters.on_exit(c.id)

    async def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        c = self.store.get(ref)
        if c.state.running:
            if not force:
                raise Conflict(
                    f'cannot remove container "/{c.name}": container is running: stop the '
                    "container before removing or force remove")
            c.manually_stopped = True
            shim = self.shims.get(c.id)
            if shim is not None:
                exited = self.waiters.on_exit(c.id)
                with contextlib.suppress(Exception):
                    await shim.kill(signal.SIGKILL)
                await exited
        if c.state.status == "removing":
            return
        c.state.status = "removing"
        if self.volumes is not None:
            await self.volumes.release_mounts(c, volumes)
        await self._teardown(c)
        await asyncio.to_thread(self.images.remove_rw, c.id)
        self.store.remove(c)
        self._locks.pop(c.id, None)
        self._pending_attach.pop(c.id, None)
        self.event(c, "destroy")
        self.waiters.removed(c.id, c.state.exit_code)

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

    # --- attach -------------------------------------------------------------------------

    async def attach_when_started(self, c: Container,
                                  connect: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``connect(shim)`` now if running, else right before the next start."""
        shim = self.shims.get(c.id)
        if shim is not None and c.state.running:
            await connect(shim)
        else:
            self._pending_attach.setdefault(c.id, []).append(connect)

    # --- daemon start / stop ------------------------------------------------------------

    async def restore(self) -> None:
        """Re-find live containers through their shims; settle those that died meanwhile;
        remove what a crash left of containers that no longer run or no longer exist."""
        for dead in [c for c in self.store.all() if c.state.status == "dead"]:
            # Nothing can manage it any more: what its process held (shim, cgroups, netns,
            # endpoints, IPs, published ports) goes now; its files go at docker rm.
            await self._teardown(dead)
        known = {c.id: c for c in self.store.all()}
        for bundle in list(self.runtime.bundles.iterdir()):
            c = known.get(bundle.name)
            if c is None or not c.state.running:
                await self.runtime.delete(bundle.name)
        netns_dir = self.conf.exec_root / "netns"
        if netns_dir.is_dir():
            for path in netns_dir.iterdir():
                c = known.get(path.name)
                if c is None or not c.state.running:
                    await self.runtime.remove_netns(path)
        for c in self.store.all():
            if not c.state.running:
                continue
            shim = await self.runtime.connect(c.id)
            if shim is not None:
                self.shims[c.id] = shim
                self._monitors[c.id] = tasks.spawn(self._monitor(c, shim))
                self.health.start(c)
                continue
            status = self.runtime.exit_status(c.id)
            await self._exited(c, status)
        if self.volumes is not None:
            await self.volumes.restore([c for c in self.store.all() if c.state.running])

    def counts(self) -> dict[str, int]:
        states = [c.state.status for c in self.store.all()]
        return {"Containers": len(states),
                "ContainersRunning": states.count("running") + states.count("restarting"),
                "ContainersPaused": states.count("paused"),
                "ContainersStopped": len(states) - states.count("running")
                - states.count("paused") - states.count("restarting")}

    def image_users(self, image_id: str) -> list[str]:
        return [c.id for c in self.store.all() if c.image_id == image_id]

    def running_image_users(self, image_id: str) -> list[str]:
        return [c.id for c in self.store.all() if c.image_id == image_id and c.state.running]

    @staticmethod
    def now_ns() -> int:
        return time.time_ns()
