"""Bounded write buffers for long-lived streams (events, stats, attach).

A client may open a stream and never read it. The kernel then keeps what fits in the
socket, and asyncio's transport buffers the rest until it pauses the protocol, which
aiohttp only waits for once 64 KiB have been written since its last wait: with 1,000
such clients that is 100 MiB of the daemon's memory. Here a stream's transport pauses
at ``HIGH_WATER`` and every write waits while it is paused, so a stream that is not
read holds at most about ``HIGH_WATER`` plus one write.
"""

from __future__ import annotations

from aiohttp import web

HIGH_WATER = 16 << 10


def bound(request: web.Request) -> None:
    """Pause the request's transport at HIGH_WATER (before the stream's first write)."""
    transport = request.transport
    if transport is not None:
        transport.set_write_buffer_limits(high=HIGH_WATER)


async def write(response: web.StreamResponse, data: bytes) -> None:
    """``response.write``, then wait while the client is behind (the transport paused)."""
    await response.write(data)
    writer = response._payload_writer  # noqa: SLF001 - aiohttp's public drain() is deprecated
    if writer is not None:
        await writer.drain()
