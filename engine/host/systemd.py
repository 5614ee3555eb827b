"""systemd's two small protocols: socket activation (``-H fd://``) and readiness (sd_notify).

Socket activation (sd_listen_fds(3)): systemd opens the listening sockets of
pydocker.socket and starts the service with them as fds 3, 4, ... and the environment
``LISTEN_PID`` (our pid) and ``LISTEN_FDS`` (how many). ``fd://`` takes them all,
``fd://N`` only fd N, as dockerd's ``listenFD`` does.
"""

from __future__ import annotations

import os
import socket

SD_LISTEN_FDS_START = 3


class ActivationError(Exception):
    pass


def listen_fds() -> list[int]:
    """The fds systemd passed to this process; the variables are removed once read, so
    that no child process thinks they are meant for it."""
    pid = os.environ.pop("LISTEN_PID", "")
    count = os.environ.pop("LISTEN_FDS", "")
    os.environ.pop("LISTEN_FDNAMES", None)
    if not pid or not count or not pid.isdigit() or int(pid) != os.getpid():
        return []
    fds = list(range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(count)))
    for fd in fds:
        os.set_inheritable(fd, False)
    return fds


def activated_sockets(host: str, passed: list[int]) -> list[socket.socket]:
    """The listening sockets an ``fd://`` or ``fd://N`` host names, from ``passed``."""
    wanted = host.removeprefix("fd://")
    if not passed:
        raise ActivationError("no sockets found via socket activation: make sure the service "
                              "was started by systemd")
    if wanted:
        if not wanted.isdigit() or int(wanted) not in passed:
            raise ActivationError(f"too few socket activated files passed in by systemd "
                                  f"for {host}")
        passed = [int(wanted)]
    sockets = []
    for fd in passed:
        sock = socket.socket(fileno=fd)
        if sock.type != socket.SOCK_STREAM:
            raise ActivationError(f"fd {fd} passed by systemd is not a stream socket")
        sockets.append(sock)
    return sockets


def notify(state: str) -> None:
    """Tell the service manager ``state`` (``READY=1``, ``RELOADING=1``, ``STOPPING=1``)
    when it asked to be told (``Type=notify`` sets ``NOTIFY_SOCKET``); else nothing."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(state.encode(), address)
        except OSError:
            pass  # the manager went away: nothing to tell
