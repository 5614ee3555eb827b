"""Clients that open 1,000 event or attach streams, take the answer's headers and never
read again: the daemon's memory (its RSS) grows by a bounded amount per stream, however
much is published or printed afterwards. The figures go to stdout (``-s``)."""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker.models.containers import Container

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

STREAMS = 1000
MiB = 1 << 20
# Labels make each event of the container ~8 KiB: a stream's socket fills after a few
# dozen, and its subscription's queue after a thousand more.
LABELS = {f"label{i:02d}": "x" * 100 for i in range(80)}


def _rss(d: Daemon) -> int:
    assert d.proc is not None
    return _rss_of(d.proc.pid)


def _rss_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmRSS:"))) * 1024


@contextlib.contextmanager
def _unread_streams(d: Daemon, request: bytes) -> Iterator[list[socket.socket]]:
    """STREAMS connections that sent ``request``, read the headers, and then nothing."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * STREAMS)), hard))
    socks: list[socket.socket] = []
    try:
        for _ in range(STREAMS):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            socks.append(s)
            s.connect(str(d.socket))
            s.sendall(request)
        for s in socks:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(1)  # one byte at a time: nothing of the body is taken
                assert chunk, head
                head += chunk
            assert head.split()[1] in (b"200", b"101"), head
        yield socks
    finally:
        for s in socks:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _shim_rss(c: Container) -> int:
    c.reload()
    status = Path(f"/proc/{c.attrs['State']['Pid']}/status").read_text()
    shim = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
    return _rss_of(int(shim))


def test_unread_event_streams_do_not_grow_the_daemon(fresh_daemon: Daemon,
                                                     busybox_tar: bytes) -> None:
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    client = d.client()
    c = client.containers.create("busybox", ["true"], name="pydt-events", labels=LABELS)
    names = ("pydt-events", "pydt-events2")

    def rename(times: int) -> None:  # one ~8 KiB event each, and cheap
        for i in range(times):
            client.api.rename(c.id, names[(i + 1) % 2])
        if times % 2:
            client.api.rename(c.id, names[0])

    try:
        rename(20)  # the daemon's own first-time allocations
        before = _rss(d)
        with _unread_streams(d, b"GET /events HTTP/1.1\r\nHost: d\r\n\r\n"):
            opened = _rss(d)
            rename(1200)  # every stream's queue is full (dockerd keeps 1024 a listener)
            filled = _rss(d)
            rename(1200)
            after = _rss(d)
            assert d.request("GET", "/_ping")[0] == 200
        print(f"\nevents: {STREAMS} streams opened +{(opened - before) / MiB:.1f} MiB, "
              f"1200 events +{(filled - opened) / MiB:.1f} MiB, "
              f"1200 more +{(after - filled) / MiB:.1f} MiB")
        # Once the queues are full, more events cost nothing per stream: without a
        # bound each of the 1200 would be kept for each stream (about 20 MiB).
        assert after - filled < 6 * MiB
        assert after - before < STREAMS * 96 * 1024
    finally:
        c.remove()
        client.close()


def test_unread_attach_streams_do_not_grow_the_daemon(fresh_daemon: Daemon,
                                                      busybox_tar: bytes) -> None:
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    client = d.client()
    # Output as fast as the container can make it, kept nowhere but in the streams.
    c = client.containers.run(
        "busybox", ["sh", "-c", "while :; do cat /bin/busybox; done"], detach=True,
        log_config={"Type": "none"})
    try:
        before = _rss(d)
        request = (f"POST /containers/{c.id}/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                   "Host: d\r\nUpgrade: tcp\r\nConnection: Upgrade\r\nContent-Length: 0"
                   "\r\n\r\n").encode()
        with _unread_streams(d, request):
            time.sleep(5)  # every stream's buffers fill
            filled, shim_filled = _rss(d), _shim_rss(c)
            time.sleep(5)
            after, shim_after = _rss(d), _shim_rss(c)
            assert d.request("GET", "/_ping")[0] == 200
        print(f"\nattach: {STREAMS} streams +{(filled - before) / MiB:.1f} MiB, "
              f"5 s later +{(after - filled) / MiB:.1f} MiB; its shim {shim_filled / MiB:.0f} MiB, "
              f"then {shim_after / MiB:.0f} MiB")
        # Each stream holds a piece of output and its socket's buffers (about 32 KiB
        # here); unbounded, it would hold everything the container printed since.
        assert after - before < STREAMS * 128 * 1024
        # The shim keeps a share of 128 MiB for them all, plus a frame each.
        assert shim_after < 320 * MiB
    finally:
        c.remove(force=True)
        client.close()
