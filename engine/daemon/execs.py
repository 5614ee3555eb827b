"""The exec endpoints' methods: by exec ID, delegated to the exec service."""

from __future__ import annotations

from typing import Any

from pydocker.api.models.containers import ExecCreateRequest
from pydocker.engine.containers.attach import ClientConn
from pydocker.engine.containers.exec_service import ExecService
from pydocker.engine.containers.execs import ExecStore


class ExecMethods:
    _execs: ExecStore
    _exec_service: ExecService

    async def exec_create(self, ref: str, body: ExecCreateRequest) -> str:
        config = body.wire()
        # docker-py spells it detachKeys, which Go's case-insensitive decoding takes as
        # DetachKeys: the client's configured keys (its config file's detachKeys).
        camel = config.pop("detachKeys", None)
        if not config.get("DetachKeys") and camel:
            config["DetachKeys"] = camel
        return self._exec_service.create(ref, config).id

    def exec_check_start(self, exec_id: str) -> bool:
        return bool(self._exec_service.check_start(exec_id).config.get("Tty"))

    async def exec_start(self, exec_id: str, conn: ClientConn | None, *, tty: bool,
                         console_size: list[int] | None) -> None:
        await self._exec_service.start(self._execs.get(exec_id), conn, tty=tty,
                                       console_size=console_size)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self._exec_service.resize(exec_id, height, width)

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        return self._execs.get(exec_id).inspect()
