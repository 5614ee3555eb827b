"""Relaying a client's hijacked connection to a container's (or exec's) stdio stream.

The shim already speaks Docker's stream format (multiplexed frames without a TTY, raw
bytes with one), so output is copied as it comes; stdin goes the other way raw, and a
client half-close becomes EOF on the process's stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from pydocker.engine import tasks
from pydocker.engine.errors import InvalidParameter

from .context import Connect
from .model import Container
from .protocols import OutputReader, ShimHandle

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q


class ClientConn(Protocol):
    async def read(self) -> bytes: ...
    async def write(self, data: bytes) -> None: ...


class AttachPoint(Protocol):
    """Where an attach joins a container: the container service, seen this narrowly."""

    async def attach_when_started(self, c: Container, connect: Connect) -> None: ...
    def event(self, c: Container, action: str, **extra: str) -> None: ...


def parse_detach_keys(spec: str | None) -> bytes:
    """Docker's detachKeys syntax: "ctrl-p,ctrl-q", "a,ctrl-@" ..."""
    if not spec:
        return DEFAULT_DETACH_KEYS
    out = bytearray()
    for key in spec.split(","):
        key = key.strip()
        if key.startswith("ctrl-") and len(key) == 6:
            ch = key[5]
            if ch == "@":
                out.append(0)
            elif ch.isalpha():
                out.append(ord(ch.lower()) - ord("a") + 1)
            else:
                out.append({"[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}.get(ch, 0))
        elif len(key) == 1:
            out.append(ord(key))
        else:
            raise InvalidParameter(f"Invalid detach keys ({spec}) provided")
    return bytes(out)


async def relay(client: ClientConn, reader: OutputReader,
                writer: asyncio.StreamWriter | None, *, detach_keys: bytes | None = None
                ) -> bool:
    """Copy until the output ends; returns True when the client detached."""
    detached = asyncio.Event()

    async def pump_in() -> None:
        matched = 0
        while True:
            data = await client.read()
            if not data:
                break
            if detach_keys:
                for byte in data:
                    matched = matched + 1 if byte == detach_keys[matched] else (
                        1 if byte == detach_keys[0] else 0)
                    if matched == len(detach_keys):
                        detached.set()
                        return
            if writer is not None:
                writer.write(data)
                await writer.drain()
        if writer is not None and writer.can_write_eof():
            writer.write_eof()

    async def pump_out() -> None:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                return
            await client.write(data)

    out_task = asyncio.ensure_future(pump_out())
    in_task = asyncio.ensure_future(pump_in())
    detach_wait = asyncio.ensure_future(detached.wait())
    try:
        await asyncio.wait({out_task, detach_wait}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (in_task, detach_wait, out_task):
            task.cancel()
        for task in (in_task, detach_wait, out_task):
            with contextlib.suppress(BaseException):
                await task
        if writer is not None:
            writer.close()
    return detached.is_set()


async def attach(point: AttachPoint, c: Container, conn: ClientConn, *, stdin: bool, stdout: bool,
                 stderr: bool, detach_keys: bytes | None) -> None:
    """Stream a container's stdio over ``conn`` until it exits or the client detaches.

    Before the container starts (``docker run`` attaches first), the connection is
    parked and joined to the shim right before the process is released, so not one
    byte of output is missed.
    """
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[bool] = loop.create_future()
    use_stdin = stdin and bool(c.config.get("OpenStdin"))
    # As dockerd, detach keys are looked for on a terminal only: piped stdin is data,
    # and any binary input holds ctrl-p ctrl-q somewhere.
    tty = bool(c.config.get("Tty"))

    async def connect(shim: ShimHandle | None) -> None:
        if shim is None:  # the start failed: nothing will ever be streamed
            if not finished.done():
                finished.set_result(False)
            return
        reader, writer = await shim.attach(use_stdin, stdout, stderr)

        async def run() -> None:
            try:
                detached = await relay(conn, reader, writer if use_stdin else None,
                                       detach_keys=detach_keys if use_stdin and tty else None)
                if not finished.done():
                    finished.set_result(detached)
            except BaseException as exc:  # noqa: BLE001 - delivered to the waiter below
                if not finished.done():
                    finished.set_exception(exc)

        tasks.spawn(run())

    point.event(c, "attach")  # dockerd's, once the attach is accepted (before any start)
    await point.attach_when_started(c, connect)
    detached = await finished
    if detached:
        point.event(c, "detach")
