"""The shim's side of its daemon connections: one request each, then maybe a stream.

Connections are non-blocking and buffered here, so that a client that stops reading
never stalls the container (its output is dropped past MAX_CLIENT_BUFFER) and the shim
loop never blocks on a socket.
"""

from __future__ import annotations

import json
import selectors
import socket
from collections.abc import Iterator
from typing import Any

from . import wire

MAX_CLIENT_BUFFER = 64 << 20

Request = dict[str, Any]  # a decoded JSON request from the daemon


class Conn:
    """A daemon connection and what it asked for."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()
        self.kind = ""          # "attach", "exec", "wait"
        self.stdin = False
        self.streams = (True, True)
        self.exec_id = ""
        self.closing = False
        self.read_closed = False
        self.registered = False
        self.dead = False


class Clients:
    """The connections being streamed to, selected on in the shim's one selector."""

    def __init__(self, sel: selectors.BaseSelector) -> None:
        self.sel = sel
        self.conns: dict[int, Conn] = {}

    def __iter__(self) -> Iterator[Conn]:
        """A snapshot: sending may drop connections."""
        return iter(list(self.conns.values()))

    def pending(self) -> bool:
        return any(c.out for c in self.conns.values())

    def reply(self, conn: Conn, obj: object) -> None:
        """Answer a one-shot request and close."""
        try:
            conn.sock.sendall(wire.message(obj))
        except OSError:
            pass
        conn.sock.close()

    def watch(self, conn: Conn) -> None:
        conn.sock.setblocking(False)
        self.conns[id(conn)] = conn
        self.update(conn)

    def send(self, conn: Conn, data: bytes) -> None:
        if len(conn.out) > MAX_CLIENT_BUFFER:
            return  # a client that stopped reading loses output, not the container
        conn.out += data

    def flush(self, conn: Conn) -> None:
        if conn.out and not conn.dead:
            try:
                sent = conn.sock.send(conn.out)
                del conn.out[:sent]
            except BlockingIOError:
                pass
            except OSError:
                conn.dead = True
                conn.out.clear()
        self.update(conn)

    def end(self, conn: Conn, last: bytes) -> None:
        """Send the stream's last message; the connection closes once it is out."""
        self.send(conn, last)
        conn.closing = True
        self.flush(conn)

    def update(self, conn: Conn) -> None:
        """Select on what the connection still needs; close it when it needs nothing."""
        if conn.dead or (conn.closing and not conn.out):
            self.drop(conn)
            return
        events = (0 if conn.read_closed else selectors.EVENT_READ) | (
            selectors.EVENT_WRITE if conn.out else 0)
        if events == 0:
            if conn.registered:
                self.sel.unregister(conn.sock)
                conn.registered = False
        elif conn.registered:
            self.sel.modify(conn.sock, events, ("conn", conn))
        else:
            self.sel.register(conn.sock, events, ("conn", conn))
            conn.registered = True

    def drop(self, conn: Conn) -> None:
        self.conns.pop(id(conn), None)
        if conn.registered:
            self.sel.unregister(conn.sock)
            conn.registered = False
        conn.sock.close()


def read_request(sock: socket.socket) -> Request:
    """One length-prefixed JSON request, read blocking (the socket has a timeout)."""
    (size,) = wire.LENGTH.unpack(_recv_exact(sock, wire.LENGTH.size))
    message: Request = json.loads(_recv_exact(sock, size))
    return message


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ValueError("connection closed")
        buf += chunk
    return buf
