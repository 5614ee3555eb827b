"""The Daemon: the one backend every API router calls.

It wires the subsystems together and delegates; the work lives in the area modules
(engine.containers, images, network, volumes, engine.runtime).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydocker.engine import system
from pydocker.engine.archive import Archives
from pydocker.engine.config import DaemonConfig
from pydocker.engine.containers import listing, views
from pydocker.engine.containers.attach import ClientConn, attach, parse_detach_keys
from pydocker.engine.containers.exec_service import ExecService
from pydocker.engine.containers.execs import Exec, ExecStore
from pydocker.engine.containers.logs import LogOptions, read_logs
from pydocker.engine.containers.model import Container
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.containers.store import ContainerStore
from pydocker.engine.errors import Conflict, InvalidParameter, NotFound
from pydocker.engine.events import EventBus
from pydocker.engine.filesystem import Filesystem
from pydocker.engine.filters import labels_match
from pydocker.engine.images import ImageService
from pydocker.engine.network_service import NetworkService
from pydocker.engine.networking import ContainerNetworking
from pydocker.engine.runtime.client import Runtime
from pydocker.engine.timeutil import rfc3339_now
from pydocker.engine.volumes import VolumeService
from pydocker.images.store import ImageStore
from pydocker.network.manager import NetworkManager
from pydocker.volumes.store import VolumeStore

log = logging.getLogger(__name__)


class Daemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.events = EventBus()
        self.image_store = ImageStore(config.data_root / "image")
        self.runtime = Runtime(config.exec_root)
        self.network_manager = NetworkManager(
            config.data_root / "network", bridge_name=config.bridge, bip=config.bip,
            iptables=config.iptables, ip_forward=config.ip_forward,
            chain_prefix=config.iptables_chain_prefix)
        self.networking = ContainerNetworking(self.network_manager)
        self.network_service = NetworkService(self.network_manager, self.events)
        store = ContainerStore(config.data_root / "containers")
        self.volume_service = VolumeService(VolumeStore(config.data_root / "volumes"),
                                            self.events, store.all)
        self.containers = ContainerService(
            config, store, self.image_store, self.runtime, self.networking,
            self.volume_service, self.events)
        self.images = ImageService(self.image_store, self.events, self._image_users)
        self.filesystem = Filesystem(self.containers, self.image_store, self.events)
        self.archives = Archives(self.containers)
        self.execs = ExecStore()
        self.exec_service = ExecService(self.containers, self.execs)

    async def start(self) -> None:
        for path in (self.config.data_root, self.config.exec_root):
            path.mkdir(parents=True, exist_ok=True, mode=0o711)
        await self.runtime.start()
        await self.network_manager.start()
        self.containers.store.load()  # unreadable records come back as dead containers
        await self.containers.restore()

    async def close(self) -> None:
        """Containers keep running (live restore); what only the daemon needs goes."""
        running = any(c.state.running for c in self.containers.store.all())
        if running:
            await self.network_manager.shutdown(keep_live=True)
        else:
            await self.network_manager.teardown()
        await self.volume_service.close()
        await self.runtime.close()

    # --- system -----------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return system.version_info()

    async def info(self) -> dict[str, Any]:
        info = system.host_info()
        info.update(self.containers.counts())
        info.update({
            "ID": "",
            "Images": len(self.image_store.ids()),
            "DockerRootDir": str(self.config.data_root),
            "Debug": self.config.debug,
            "Labels": list(self.config.labels),
            "NFd": len(os.listdir("/proc/self/fd")),
            "NGoroutines": len(asyncio.all_tasks()),
            "SystemTime": rfc3339_now(),
            "NEventsListener": 0,
        })
        return info

    async def system_df(self) -> dict[str, Any]:
        images = await asyncio.to_thread(self.image_store.list, all=False, filters={},
                                         digests=False)
        containers = await self.list_containers(all_=True, limit=None, size=False, filters={})
        return {"LayersSize": sum(i.get("Size", 0) for i in images), "Images": images,
                "Containers": containers, "Volumes": await self.volume_service.usage(),
                "BuildCache": []}

    def _image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(c.id, c.state.running) for c in self.containers.store.all()
                if c.image_id == image_id]

    # --- containers -------------------------------------------------------------------

    def log_path(self, c: Container) -> Path:
        return self.containers.store.dir(c.id) / f"{c.id}-json.log"

    def _paths(self, c: Container) -> dict[str, str]:
        d = self.containers.store.dir(c.id)
        return {"resolv": str(d / "resolv.conf"), "hostname": str(d / "hostname"),
                "hosts": str(d / "hosts"), "log": str(self.log_path(c))}

    def container_logs(self, ref: str, *, stdout: bool, stderr: bool, since: float = 0,
                       until: float = 0, tail: int = -1, timestamps: bool = False,
                       follow: bool = False) -> tuple[bool, AsyncIterator[bytes]]:
        """docker logs: (tty, chunks to send). Errors come before the first byte."""
        c = self.containers.store.get(ref)
        if not (stdout or stderr):
            raise InvalidParameter("Bad parameters: you must choose at least one stream")
        tty = bool(c.config.get("Tty"))
        opts = LogOptions(stdout=stdout, stderr=stderr, since_ns=int(since * 1e9),
                          until_ns=int(until * 1e9), tail=tail, timestamps=timestamps,
                          follow=follow, tty=tty)
        return tty, read_logs(self.log_path(c), opts, lambda: c.state.running)

    def attach_target(self, ref: str, detach_keys: str | None) -> tuple[Container, bool, bytes]:
        """What ``docker attach`` checks before the connection is hijacked (so its errors are
        still HTTP answers): (container, tty, detach key sequence)."""
        c = self.containers.store.get(ref)
        if c.state.status == "paused":
            raise Conflict(f"container {c.id} is paused, unpause the container before attach.")
        return c, bool(c.config.get("Tty")), parse_detach_keys(detach_keys)

    async def attach_container(self, c: Container, conn: ClientConn, *, logs: bool,
                               stream: bool, stdin: bool, stdout: bool, stderr: bool,
                               detach_keys: bytes) -> None:
        """The logged output first (``logs``), then the live streams (``stream``)."""
        if logs:
            opts = LogOptions(stdout=stdout, stderr=stderr, tty=bool(c.config.get("Tty")))
            async for chunk in read_logs(self.log_path(c), opts, lambda: False):
                await conn.write(chunk)
        if stream:
            await attach(self.containers, c, conn, stdin=stdin, stdout=stdout, stderr=stderr,
                         detach_keys=detach_keys)

    async def inspect_container(self, ref: str, size: bool = False) -> dict[str, Any]:
        c = self.containers.store.get(ref)
        return views.inspect(c, self._paths(c), {"rw": 0, "rootfs": 0} if size else None)

    def _image_matches(self, ref: str, c: Container) -> bool:
        if c.config.get("Image") == ref or c.image_id == ref or c.image_id.startswith(
                "sha256:" + ref):
            return True
        try:
            return self.image_store.get(ref).id == c.image_id
        except NotFound:
            return fnmatch.fnmatch(c.config.get("Image", ""), ref)

    async def list_containers(self, *, all_: bool, limit: int | None, size: bool,
                              filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        selected = listing.select(self.containers.store.all(), filters, all_=all_, limit=limit,
                                  image_matches=self._image_matches)
        return listing.summaries(selected, lambda c: c.config.get("Image", ""),
                                 self.containers.now_ns())

    async def prune_containers(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        deleted = []
        for c in list(self.containers.store.all()):
            if c.state.running or not labels_match(c.config.get("Labels") or {},
                                                   filters.get("label", [])):
                continue
            try:
                await self.containers.remove(c.id)
            except (Conflict, NotFound):
                continue
            deleted.append(c.id)
        self.events.publish("container", "prune", "", {"reclaimed": "0"})
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": 0}

    async def resize_container(self, ref: str, height: int, width: int) -> None:
        c = self.containers.store.get(ref)
        shim = self.containers.shims.get(c.id)
        if shim is None:
            raise Conflict(f"Container {c.id} is not running")
        await shim.resize(height, width)

    async def top(self, ref: str, ps_args: str) -> dict[str, Any]:
        from pydocker.engine.containers.top import top
        c = self.containers.store.get(ref)
        if not c.state.running:
            raise Conflict(f"Container {c.id} is not running")
        return await top(c.state.pid, ps_args)

    async def container_stats(self, c: Container, previous: dict[str, Any] | None
                              ) -> dict[str, Any]:
        from pydocker.engine.containers.stats import sample
        shim = self.containers.shims.get(c.id)
        raw = await asyncio.to_thread(shim.stats) if shim is not None else None
        return sample(c, raw, previous)

    # --- exec -------------------------------------------------------------------------

    async def exec_create(self, ref: str, body: dict[str, Any]) -> Exec:
        return self.exec_service.create(ref, body)

    def exec_check_start(self, exec_id: str) -> Exec:
        return self.exec_service.check_start(exec_id)

    async def exec_start(self, e: Exec, conn: Any | None, *, tty: bool,
                         console_size: list[int] | None = None) -> None:
        await self.exec_service.start(e, conn, tty=tty, console_size=console_size)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self.exec_service.resize(exec_id, height, width)

    # --- networks ---------------------------------------------------------------------

    async def list_networks(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        return await self.network_service.list(filters)

    async def create_network(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.network_service.create(body)

    async def remove_network(self, ref: str) -> None:
        await self.network_service.remove(ref)

    async def prune_networks(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        return await self.network_service.prune(filters)

    async def connect_network(self, ref: str, container: str,
                              endpoint_config: dict[str, Any]) -> None:
        c = self.containers.store.get(container)
        netns = None
        if c.state.running:
            netns = str(self.config.exec_root / "netns" / c.id)
        await self.networking.connect(c, ref, endpoint_config, netns)
        self.containers.store.save(c)
        net = await self.network_manager.get_network(ref)
        self.events.publish("network", "connect", net["Id"],
                            {"container": c.id, "name": net["Name"], "type": net["Driver"]})

    async def disconnect_network(self, ref: str, container: str, force: bool) -> None:
        c = self.containers.store.get(container)
        await self.networking.disconnect(c, ref, c.state.running)
        self.containers.store.save(c)
        net = await self.network_manager.get_network(ref)
        self.events.publish("network", "disconnect", net["Id"],
                            {"container": c.id, "name": net["Name"], "type": net["Driver"]})
