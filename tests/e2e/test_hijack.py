"""A hijacked stream read the way docker-py reads it.

docker-py parses the 101 answer through http.client's buffered file and then reads the
stream from the raw socket beneath it, so any output that arrived together with the
headers would be lost. A client that is slow to read the answer must still get it all.
"""

from __future__ import annotations

import json
import struct
import time
from typing import Any

import docker
import pytest

from .harness import Daemon, UnixHTTPConnection, detached

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def _read_frames(raw: Any) -> bytes:
    out = b""
    while header := raw.read(8):
        _, size = struct.unpack(">BxxxL", header)
        payload = b""
        while len(payload) < size:
            chunk = raw.read(size - len(payload))
            if not chunk:
                break
            payload += chunk
        out += payload
    return out


def test_exec_output_survives_a_client_slow_to_read_the_headers(
        daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    with detached(client, ["sleep", "300"]) as c:
        for _ in range(3):
            exec_id = client.api.exec_create(c.id, ["echo", "quick"])["Id"]
            conn = UnixHTTPConnection(str(daemon.socket))
            try:
                conn.request("POST", f"/v1.45/exec/{exec_id}/start",
                             body=json.dumps({"Detach": False, "Tty": False}),
                             headers={"Content-Type": "application/json",
                                      "Connection": "Upgrade", "Upgrade": "tcp"})
                time.sleep(0.3)  # the process has long exited when the client reads
                resp = conn.getresponse()
                assert resp.status == 101
                assert resp.fp is not None
                raw = resp.fp.raw
                assert _read_frames(raw) == b"quick\n"
            finally:
                conn.close()
            assert client.api.exec_inspect(exec_id)["ExitCode"] == 0
