"""A daemon killed (SIGKILL) in the middle of a docker cp from a stopped container: the
container's root, mounted for the copy, must not outlive the restart."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon, UnixHTTPConnection

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def _copy_mounts(d: Daemon) -> list[str]:
    mnt = str(d.exec_root / "mnt")
    return [line for line in Path("/proc/mounts").read_text().splitlines() if mnt in line]


def test_a_kill_during_cp_leaves_no_mount(fresh_daemon: Daemon, busybox_tar: bytes) -> None:
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    client = d.client()
    c = client.containers.run("busybox", ["dd", "if=/dev/zero", "of=/big", "bs=1M",
                                          "count=64"], detach=True)
    c.wait()
    client.close()
    conn = UnixHTTPConnection(str(d.socket))
    conn.request("GET", f"/containers/{c.id}/archive?path=/big")
    response = conn.getresponse()
    assert response.status == 200
    response.read(4096)  # the copy is under way; the rest stays unread, blocking it
    assert _copy_mounts(d), "the stopped container's root is not mounted during the copy"
    d.stop(signal.SIGKILL)
    conn.close()
    assert _copy_mounts(d)  # what the kill left behind
    d.start()
    deadline = time.monotonic() + 10
    while _copy_mounts(d) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _copy_mounts(d)
    assert not list((d.exec_root / "mnt").iterdir())
