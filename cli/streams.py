"""Container I/O on the client side: frame demultiplexing, hijacked sessions, raw TTYs.

A hijacked session (attach, exec start) is a plain socket after ``101 UPGRADED``: stdin
is copied to it from a thread and half-closed at EOF (``shutdown(SHUT_WR)``, as docker's
``CloseWrite``), while the main thread copies the socket to stdout/stderr until the daemon
closes it. Without a TTY every chunk carries docker's 8-byte header
(stream, 0, 0, 0, big-endian size).
"""

from __future__ import annotations

import _socket
import contextlib
import os
import struct
import sys
import threading
from collections.abc import Callable, Iterable

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Self

STDIN, STDOUT, STDERR, SYSERR = 0, 1, 2, 3
DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p, ctrl-q


class Demuxer:
    """Feed bytes of a multiplexed stream; frames go to stdout or stderr."""

    def __init__(self, out: BinaryIO, err: BinaryIO) -> None:
        self.out = out
        self.err = err
        self.buf = bytearray()
        self.error = b""

    def feed(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 8:
            kind = self.buf[0]
            size = struct.unpack(">I", self.buf[4:8])[0]
            if len(self.buf) < 8 + size:
                break
            payload = bytes(self.buf[8: 8 + size])
            del self.buf[: 8 + size]
            if kind == SYSERR:
                self.error += payload
                continue
            target = self.err if kind == STDERR else self.out
            target.write(payload)
            target.flush()


def frame(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxI", kind, len(payload)) + payload


def copy_log_stream(resp: Any, tty: bool) -> None:
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    if tty:
        for chunk in resp.iter_raw():
            out.write(chunk)
            out.flush()
        return
    demux = Demuxer(out, err)
    for chunk in resp.iter_raw():
        demux.feed(chunk)


class EscapeProxy:
    """Detect the detach sequence in stdin; forward everything else unchanged."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.pending = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to forward, detached?)."""
        if not self.keys:
            return data, False
        out = bytearray()
        for b in data:
            ch = bytes([b])
            candidate = self.pending + ch
            if self.keys.startswith(candidate):
                if candidate == self.keys:
                    return bytes(out), True
                self.pending = candidate
            else:
                out += candidate
                self.pending = b""
        return bytes(out), False


def parse_detach_keys(spec: str) -> bytes:
    """'ctrl-p,ctrl-q' -> b'\\x10\\x11' (docker's term.ToBytes)."""
    out = bytearray()
    for key in spec.split(","):
        key = key.strip().lower()
        if key.startswith("ctrl-") and len(key) > 5:
            c = key[5:]
            code = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}.get(c)
            if code is None and len(c) == 1 and "a" <= c <= "z":
                code = ord(c) - ord("a") + 1
            if code is None:
                raise ValueError(f"Unknown character: '{key}'")
            out.append(code)
        elif len(key) == 1:
            out += key.encode()
        else:
            raise ValueError(f"Unknown character: '{key}'")
    return bytes(out)


class RawTerminal:
    """Put a terminal in raw mode for the life of a ``with`` block."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.saved: list[Any] | None = None

    def __enter__(self) -> Self:
        import termios
        import tty
        if os.isatty(self.fd):
            self.saved = termios.tcgetattr(self.fd)
            tty.setraw(self.fd, termios.TCSANOW)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)


def terminal_size() -> tuple[int, int] | None:
    """(height, width) of the terminal on stdout (or stdin), if any."""
    for fd in (1, 0):
        try:
            size = os.get_terminal_size(fd)
            return size.lines, size.columns
        except OSError:
            continue
    return None


def watch_resize(resize: Callable[[int, int], None]) -> None:
    """Call ``resize(h, w)`` now and on every SIGWINCH."""
    import signal

    def on_winch(*_: object) -> None:
        size = terminal_size()
        if size:
            with contextlib.suppress(Exception):  # a failed resize must not end the session
                resize(*size)

    signal.signal(signal.SIGWINCH, on_winch)
    on_winch()


class Session:
    """A hijacked attach/exec connection and the threads that pump it."""

    def __init__(self, sock: _socket.socket, initial: bytes, tty: bool,
                 stdin: bool, detach_keys: bytes = DEFAULT_DETACH_KEYS,
                 stdin_source: Iterable[bytes] | None = None) -> None:
        self.sock = sock
        self.initial = initial
        self.tty = tty
        self.stdin = stdin
        self.detach_keys = detach_keys if tty and stdin else b""
        self.stdin_source = stdin_source
        self.detached = False
        self.stdin_done = threading.Event()

    def _read_stdin(self) -> Iterable[bytes]:
        if self.stdin_source is not None:
            yield from self.stdin_source
            return
        fd = sys.stdin.fileno()
        while True:
            try:
                data = os.read(fd, 32768)
            except OSError:
                return
            if not data:
                return
            yield data

    def _pump_stdin(self) -> None:
        proxy = EscapeProxy(self.detach_keys)
        try:
            for data in self._read_stdin():
                data, detached = proxy.feed(data)
                if data:
                    self.sock.sendall(data)
                if detached:
                    self.detached = True
                    self.sock.shutdown(_socket.SHUT_RDWR)
                    return
            self.sock.shutdown(_socket.SHUT_WR)  # EOF reaches the container's stdin
        except OSError:
            pass
        finally:
            self.stdin_done.set()

    def run(self) -> str:
        """Pump until the daemon closes the stream; return any in-band error text."""
        if self.stdin:
            threading.Thread(target=self._pump_stdin, daemon=True).start()
        out, err = sys.stdout.buffer, sys.stderr.buffer
        sys.stdout.flush()
        demux = None if self.tty else Demuxer(out, err)
        data = self.initial
        try:
            while True:
                if data:
                    if demux is None:
                        out.write(data)
                        out.flush()
                    else:
                        demux.feed(data)
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    break
                if not data:
                    break
        finally:
            self.sock.close()
        return demux.error.decode(errors="replace") if demux else ""
