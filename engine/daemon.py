"""The Daemon: the one backend every API router calls.

It only wires subsystems together and delegates; the work lives in the area
modules (containers, images, network, volumes, runtime).
"""

from __future__ import annotations

import logging
from typing import Any

from pydocker.engine import system
from pydocker.engine.config import DaemonConfig
from pydocker.engine.events import EventBus

log = logging.getLogger(__name__)


class Daemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.events = EventBus()

    async def start(self) -> None:
        for path in (self.config.data_root, self.config.exec_root):
            path.mkdir(parents=True, exist_ok=True, mode=0o711)

    async def close(self) -> None:
        pass

    def version(self) -> dict[str, Any]:
        return system.version_info()

    async def info(self) -> dict[str, Any]:
        info = system.host_info()
        info.update({
            "ID": "",
            "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0,
            "ContainersStopped": 0,
            "Images": 0,
            "DockerRootDir": str(self.config.data_root),
            "Debug": self.config.debug,
            "Labels": list(self.config.labels),
            "NFd": _count_fds(),
            "NGoroutines": 0,
            "SystemTime": _now_rfc3339(),
            "NEventsListener": 0,
        })
        return info

    async def system_df(self) -> dict[str, Any]:
        return {"LayersSize": 0, "Images": [], "Containers": [], "Volumes": [],
                "BuildCache": []}


def _count_fds() -> int:
    import os
    return len(os.listdir("/proc/self/fd"))


def _now_rfc3339() -> str:
    from pydocker.engine.timeutil import rfc3339_now
    return rfc3339_now()
