"""A real registry for the client's tests: Debian's docker-registry (distribution 2.8).

Each test that asks gets its own registry on 127.0.0.1 with a free port, a temporary storage
directory and a config file, stopped and removed afterwards. Auth variants: htpasswd (basic)
and token (a small token service in the test issuing RS256 JWTs the registry verifies
against a throwaway certificate made with openssl).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REGISTRY_BIN = Path("/usr/bin/docker-registry")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited {proc.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not listen on {port}: {log.read_text()}")


@dataclass
class Registry:
    domain: str          # "127.0.0.1:<port>"
    root: Path
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


StartRegistry = Callable[..., Registry]


@pytest.fixture
def start_registry(tmp_path: Path) -> Iterator[StartRegistry]:
    """``start_registry(auth_yaml="")`` -> a running registry; all are stopped at the end."""
    if not REGISTRY_BIN.exists():
        pytest.skip("docker-registry (Debian's distribution 2.8) is not installed")
    started: list[Registry] = []

    def start(auth_yaml: str = "") -> Registry:
        port = free_port()
        root = tmp_path / f"registry-{port}"
        (root / "data").mkdir(parents=True)
        config = root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth_yaml}")
        log = root / "registry.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([str(REGISTRY_BIN), "serve", str(config)],
                                    stdout=out, stderr=subprocess.STDOUT)
        registry = Registry(f"127.0.0.1:{port}", root, proc)
        started.append(registry)
        wait_listening(port, proc, log)
        return registry

    yield start
    for registry in started:
        registry.stop()
