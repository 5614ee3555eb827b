"""Pseudo-terminals allocated inside the container's own devpts instance."""

from __future__ import annotations

import array
import fcntl
import os
import socket
import struct
import termios

from . import syscalls as sc


def open_pty() -> tuple[int, int]:
    """(master, slave) from the container's /dev/ptmx, so `tty` names /dev/pts/N."""
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    fcntl.ioctl(master, sc.TIOCSPTLCK, struct.pack("i", 0))
    buf = array.array("i", [0])
    fcntl.ioctl(master, sc.TIOCGPTN, buf, True)
    slave = os.open(f"/dev/pts/{buf[0]}", os.O_RDWR | os.O_NOCTTY)
    return master, slave


def make_controlling(slave: int) -> None:
    os.setsid()
    fcntl.ioctl(slave, sc.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def set_size(fd: int, rows: int, cols: int) -> None:
    if rows > 0 and cols > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def send_fd(sock: socket.socket, fd: int) -> None:
    socket.send_fds(sock, [b"M"], [fd])


def recv_fd(sock: socket.socket) -> int | None:
    _, fds, _, _ = socket.recv_fds(sock, 16, 1)
    return fds[0] if fds else None
