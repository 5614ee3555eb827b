"""The shim's side of its daemon connections: one request each, then maybe a stream.

Connections are non-blocking and buffered here, so that a client that stops reading
never stalls the container (its output is dropped past its share of MAX_TOTAL_BUFFER,
at most MAX_CLIENT_BUFFER) and the shim
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
# What all clients together may have buffered: with many attached clients that do not
# read, each gets its share (1,000 of them: 128 KiB each), and the shim stays small.
MAX_TOTAL_BUFFER = 128 << 20
CLIENT_PIECE = 32 << 10  # the largest output frame sent to a client

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
        self.buffered = 0  # bytes in every connection's ``out``

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
        share = min(MAX_CLIENT_BUFFER, MAX_TOTAL_BUFFER // max(1, len(self.conns)))
        if conn.out and (len(conn.out) + len(data) > share
                         or self.buffered + len(data) > MAX_TOTAL_BUFFER):
            return  # a client that stopped reading loses output, not the container
        conn.out += data
        self.buffered += len(data)

    def flush(self, conn: Conn) -> None:
        if conn.out and not conn.dead:
            try:
                sent = conn.sock.send(conn.out)
                del conn.out[:sent]
                self.buffered -= sent
            except BlockingIOError:
                pass
            except OSError:
                conn.dead = True
                self.buffered -= len(conn.out)
                conn.out.clear()
        self.update(conn)

    def end(self, conn: Conn, last: bytes) -> None:
        """Send the stream's last message (past any cap: it carries the exit status); the
        connection closes once it is out."""
        conn.out += last
        self.buffered += len(last)
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
        self.buffered -= len(conn.out)
        conn.out.clear()
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
