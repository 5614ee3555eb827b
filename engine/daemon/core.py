"""The Daemon's wiring, start and stop, and the system endpoints' methods."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from pydocker.engine import system
from pydocker.engine.archive import Archives
from pydocker.engine.config import DaemonConfig
from pydocker.engine.containers.exec_service import ExecService
from pydocker.engine.containers.execs import ExecStore
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.containers.store import ContainerStore
from pydocker.engine.daemonconfig import RELOADABLE, config_key
from pydocker.engine.events import EventBus
from pydocker.engine.filesystem import Filesystem
from pydocker.engine.images import ImageService
from pydocker.engine.network_service import NetworkService
from pydocker.engine.networking import ContainerNetworking
from pydocker.engine.runtime.client import Runtime
from pydocker.engine.timeutil import rfc3339_now
from pydocker.engine.volumes import VolumeService
from pydocker.images.store import ImageStore
from pydocker.network.manager import NetworkManager
from pydocker.volumes.store import VolumeStore

from .build import BuildMethods
from .containers import ContainerMethods
from .execs import ExecMethods
from .images import ImageMethods
from .networks import NetworkMethods
from .volumes import VolumeMethods


class Daemon(BuildMethods, ContainerMethods, ExecMethods, ImageMethods, NetworkMethods,
             VolumeMethods):
    """Every collaborator is private: the API reaches the engine only through methods."""

    def __init__(self, config: DaemonConfig) -> None:
        self._config = config
        self._events = EventBus()
        self._image_store = ImageStore(config.data_root / "image")
        self._runtime = Runtime(config.exec_root)
        self._network_manager = NetworkManager(
            config.data_root / "network", bridge_name=config.bridge, bip=config.bip,
            iptables=config.iptables, ip6tables=config.ip6tables, ip_forward=config.ip_forward,
            chain_prefix=config.iptables_chain_prefix)
        self._networking = ContainerNetworking(self._network_manager, self._events)
        self._network_service = NetworkService(self._network_manager, self._events)
        store = ContainerStore(config.data_root / "containers")
        self._volume_service = VolumeService(VolumeStore(config.data_root / "volumes"),
                                             self._events, store.all)
        self._containers = ContainerService(
            config, store, self._image_store, self._runtime, self._networking,
            self._volume_service, self._events)
        self._images = ImageService(self._image_store, self._events, self._image_users, config)
        self._filesystem = Filesystem(self._containers, self._image_store, self._events)
        self._archives = Archives(self._containers)
        self._execs = ExecStore()
        self._exec_service = ExecService(self._containers, self._execs)
        self._engine_id = ""  # read or made at start, in the data root

    async def start(self) -> None:
        for path in (self._config.data_root, self._config.exec_root):
            path.mkdir(parents=True, exist_ok=True, mode=0o711)
        self._engine_id = system.engine_id(self._config.data_root)
        await self._runtime.start()
        await self._network_manager.start()
        self._containers.store.load()  # unreadable records come back as dead containers
        await self._containers.restore()

    def announce_start(self) -> None:
        """The ``daemon start`` event, once the API is listening."""
        self._events.publish("daemon", "start", self._engine_id, {"name": socket.gethostname()})

    def reload(self, changes: Mapping[str, Any]) -> DaemonConfig:
        """dockerd's Daemon.Reload for the settings pydockerd has (debug, labels, transfer
        limits, insecure registries, mirrors): each one in ``changes`` replaces the running
        value. Ends with the ``daemon reload`` event."""
        updated = dataclasses.replace(self._config, **{
            dest: _reloaded(value) for dest, value in changes.items() if dest in RELOADABLE})
        self._config = updated
        self._images.reconfigure(updated)
        self._events.publish("daemon", "reload", self._engine_id, reload_attributes(updated))
        return updated

    async def close(self) -> None:
        """Containers keep running (live restore); what only the daemon needs goes."""
        running = any(c.state.running for c in self._containers.store.all())
        if running:
            await self._network_manager.shutdown(keep_live=True)
        else:
            await self._network_manager.teardown()
        await self._volume_service.close()
        await self._images.close()
        await self._runtime.close()

    # --- system -----------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        return system.version_info()

    async def info(self) -> dict[str, Any]:
        info = system.host_info()
        info.update(self._containers.counts())
        info.update({
            "ID": self._engine_id,
            "Images": len(self._image_store.ids()),
            "DockerRootDir": str(self._config.data_root),
            "Debug": self._config.debug,
            "Labels": list(self._config.labels),
            "LoggingDriver": self._config.log_driver,
            "NFd": len(os.listdir("/proc/self/fd")),
            "NGoroutines": len(asyncio.all_tasks()),
            "SystemTime": rfc3339_now(),
            "NEventsListener": 0,
            "RegistryConfig": system.registry_config(self._config.insecure_registries,
                                                     self._config.registry_mirrors),
        })
        return info

    async def system_df(self) -> dict[str, Any]:
        layers_size, images = await asyncio.to_thread(self._image_store.disk_usage)
        for image in images:
            image["Containers"] = len(self._image_users(image["Id"]))
        containers = await self.container_list(all_=True, limit=None, size=True, filters={})
        return {"LayersSize": layers_size, "Images": images,
                "Containers": containers, "Volumes": await self._volume_service.usage(),
                "BuildCache": []}

    async def events_stream(self, since: float | None, until: float | None,
                            filters: dict[str, list[str]]
                            ) -> AsyncGenerator[dict[str, Any], None]:
        async with contextlib.aclosing(self._events.stream(since, until, filters)) as events:
            async for event in events:
                yield event.to_json()

    def _image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(c.id, c.state.running) for c in self._containers.store.all()
                if c.image_id == image_id]


def _reloaded(value: Any) -> Any:
    """A reloaded setting as DaemonConfig holds it: lists as tuples, transfer limits at
    least 1 (as at start)."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return max(1, value)
    return value


def reload_attributes(config: DaemonConfig) -> dict[str, str]:
    """The ``daemon reload`` event's attributes, formatted as dockerd formats them."""
    def formatted(value: Any) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, tuple):
            return json.dumps(list(value), separators=(",", ":"))
        return str(value)
    return {"name": socket.gethostname(),
            **{config_key(dest): formatted(getattr(config, dest)) for dest in RELOADABLE}}
