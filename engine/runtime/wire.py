"""The shim's wire format, shared by the shim (blocking sockets) and the daemon (asyncio).

Requests and replies: a 4-byte big-endian length, then JSON. Streams (attach, exec):
frames ``[type, 0, 0, 0, len32] + payload`` — type 1 stdout, 2 stderr (Docker's own
multiplexing, so the daemon can pass them on untouched), 3 a JSON control message
(the exit status) that ends the stream.
"""

from __future__ import annotations

import json
import struct

LENGTH = struct.Struct(">I")
FRAME = struct.Struct(">BxxxL")
STDOUT, STDERR, CONTROL = 1, 2, 3


def message(obj: object) -> bytes:
    data = json.dumps(obj).encode()
    return LENGTH.pack(len(data)) + data


def frame(kind: int, payload: bytes) -> bytes:
    return FRAME.pack(kind, len(payload)) + payload


def control(obj: object) -> bytes:
    return frame(CONTROL, json.dumps(obj).encode())
