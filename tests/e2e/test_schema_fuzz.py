"""Schemathesis against moby's swagger for API 1.50, on a daemon of its own: no operation
may answer 5xx or hang. Not in the default run (minutes long, and schemathesis is not a
project dependency): ``pip install schemathesis`` then
``PYDOCKER_SCHEMA_FUZZ=1 pytest -p no:randomly tests/e2e/test_schema_fuzz.py``
(see the README). The swagger is read from ``../shared/data``, never copied here."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

SWAGGER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / \
    "moby-swagger-v1.50.yaml"
EXAMPLES = 20
# Not ours to fuzz: swarm mode, plugins and BuildKit (not implemented: 501/503 by design),
# registry traffic (no network beyond loopback), and streams that are meant to stay open
# (events, attach, wait, follow) which a fuzzer cannot tell from a hang.
EXCLUDED = ("^(Swarm|Node|Service|Task|Secret|Config|Plugin|GetPlugin|Session|ImageBuild|"
            "BuildPrune|ImageCreate|ImagePush|ImageSearch|SystemAuth|DistributionInspect|"
            "ContainerAttach|SystemEvents|ContainerWait|ContainerStats|ContainerLogs|"
            "ImageGet|ImageLoad|ImageDelete|ImagePrune|ContainerDelete|ContainerPrune|"
            "ContainerKill|ContainerStop|ContainerRename|ContainerPause|NetworkDelete|"
            "NetworkPrune|VolumeDelete|VolumePrune)")

if os.environ.get("PYDOCKER_SCHEMA_FUZZ") != "1":
    pytest.skip("schema fuzzing runs only with PYDOCKER_SCHEMA_FUZZ=1", allow_module_level=True)
SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
if SCHEMATHESIS is None or not SWAGGER.exists():
    pytest.skip("needs schemathesis in this venv and ../shared/data/moby-swagger-v1.50.yaml",
                allow_module_level=True)


@contextlib.contextmanager
def tcp_to_unix(path: Path) -> Iterator[int]:
    """A loopback TCP port forwarding to the daemon's socket (schemathesis speaks TCP)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(str(path))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield port
    finally:
        listener.close()


def test_no_operation_answers_5xx(fresh_daemon: Daemon, busybox_tar: bytes,
                                  tmp_path: Path) -> None:
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    client = d.client()
    loop = 'trap "exit 0" TERM; while :; do sleep 1; done'  # stops at once when asked
    target = client.containers.run("busybox", ["sh", "-c", loop], detach=True,
                                   name="st-target")
    client.networks.create("st-net")
    client.volumes.create("st-vol")
    exec_id = client.api.exec_create(target.id, ["true"])["Id"]
    client.close()
    ids = {"^/containers/": ("path.id", "st-target"), "^/exec/": ("path.id", exec_id),
           "^/networks/": ("path.id", "st-net"), "^/volumes/": ("path.name", "st-vol"),
           "^/images/": ("path.name", "busybox")}
    config = tmp_path / "schemathesis.toml"
    config.write_text("".join(
        f"[[operations]]\ninclude-path-regex = {json.dumps(rx)}\n"
        f"parameters = {{ {json.dumps(k)} = {json.dumps(v)} }}\n\n"
        for rx, (k, v) in ids.items()))
    with tcp_to_unix(d.socket) as port:
        assert SCHEMATHESIS is not None
        proc = subprocess.run(
            [SCHEMATHESIS, "--config-file", str(config), "run", str(SWAGGER),
             "--url", f"http://127.0.0.1:{port}/v1.50", "--phases", "examples,fuzzing",
             "--max-examples", str(EXAMPLES), "--checks", "not_a_server_error",
             "--request-timeout", "15", "--exclude-operation-id-regex", EXCLUDED,
             "--workers", "1", "--no-color", "--seed", "1"],
            capture_output=True, text=True, timeout=1800, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:]
