"""Who is waiting for what: ``POST /wait`` conditions over a container's life."""

from __future__ import annotations

import asyncio
from collections import defaultdict


class Waiters:
    """Futures per container, resolved on exit (next-exit, not-running) or removal."""

    def __init__(self) -> None:
        self._exit: dict[str, list[asyncio.Future[int]]] = defaultdict(list)
        self._removed: dict[str, list[asyncio.Future[int]]] = defaultdict(list)

    def on_exit(self, container_id: str) -> asyncio.Future[int]:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._exit[container_id].append(fut)
        return fut

    def on_removed(self, container_id: str) -> asyncio.Future[int]:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._removed[container_id].append(fut)
        return fut

    def exited(self, container_id: str, code: int) -> None:
        for fut in self._exit.pop(container_id, []):
            if not fut.done():
                fut.set_result(code)

    def removed(self, container_id: str, code: int) -> None:
        self.exited(container_id, code)
        for fut in self._removed.pop(container_id, []):
            if not fut.done():
                fut.set_result(code)
