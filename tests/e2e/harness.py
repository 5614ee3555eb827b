"""A real pydockerd on a temporary socket, data root, exec root, bridge and chain prefix.

Tests drive it with the real clients (docker-py, the docker CLI, raw HTTP) and check
afterwards that it left nothing behind on the host.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import docker
from docker.models.containers import Container

DOCKER_CLI = "docker"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Daemon:
    """One pydockerd process and everything needed to talk to it."""

    def __init__(self, base: Path, choose_subnet: bool = False) -> None:
        tag = secrets.token_hex(3)
        self.base = base
        self.tag = tag
        self.socket = base / "pydocker.sock"
        self.data_root = base / "data"
        self.exec_root = base / "exec"
        self.bridge = f"pydt{tag}"
        self.chain_prefix = f"PYDT{tag.upper()}"
        self.cgroup_parent = f"pydocker-test-{tag}"
        # A /24 of its own per daemon so suites running side by side never collide.
        self.bip: str | None = f"10.{200 + int(tag[0], 16) % 50}.{int(tag[1:3], 16)}.1/24"
        if choose_subnet:
            self.bip = None  # let the daemon pick from Docker's pools, as it does by default
        self.log_path = base / "pydockerd.log"
        # A daemon.json of its own, so a machine's /etc/pydocker/daemon.json never applies.
        self.config_file = base / "daemon.json"
        self.config_file.write_text("{}\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "pydocker.engine.main", "-H", self.url,
                "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
                "--bridge", self.bridge, *(["--bip", self.bip] if self.bip else []),
                "--iptables-chain-prefix", self.chain_prefix,
                "--cgroup-parent", self.cgroup_parent, "--config-file", str(self.config_file),
                "--debug"]

    def launch(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        """The pydockerd process; a subclass may start it differently (socket activation)."""
        return subprocess.Popen(self.argv(), stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def start(self, timeout: float = 20) -> None:
        with open(self.log_path, "ab") as log:  # the daemon keeps its own copy
            self.proc = self.launch(log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pydockerd exited {self.proc.returncode}:\n{self.log()}")
            try:
                if self.request("GET", "/_ping")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"pydockerd did not answer within {timeout}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"pydockerd ignored {sig}:\n{self.log()}") from None
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    # --- clients -------------------------------------------------------------------

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=120)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = UnixHTTPConnection(str(self.socket))
        try:
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            hdrs = dict(headers or {})
            if isinstance(body, (dict, list)):
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def cli(self, *args: str, input: bytes | None = None, check: bool = True,
            timeout: float = 30, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "DOCKER_HOST": self.url, "DOCKER_CONFIG": str(self.base / "cli"),
                    **(env or {})}
        full_env.pop("DOCKER_CONTEXT", None)
        proc = subprocess.run([DOCKER_CLI, *args], input=input, capture_output=True,
                              timeout=timeout, env=full_env, check=False)
        result = subprocess.CompletedProcess(proc.args, proc.returncode,
                                             proc.stdout.decode(errors="replace"),
                                             proc.stderr.decode(errors="replace"))
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result


# --- containers ----------------------------------------------------------------------

BUSY_LOOP = ["sh", "-c", "while true; do :; done"]  # one CPU, for as long as it is let


@contextlib.contextmanager
def detached(client: docker.DockerClient, command: list[str], **kwargs: Any
             ) -> Iterator[Container]:
    """``docker run -d busybox COMMAND``, removed by force however the test ends."""
    c = client.containers.run("busybox", command, detach=True, **kwargs)
    try:
        yield c
    finally:
        c.remove(force=True)


# --- leak checks -------------------------------------------------------------------


def leftovers(d: Daemon) -> list[str]:
    """Kernel state this daemon created and did not remove."""
    found = []
    mounts = Path("/proc/mounts").read_text()
    for line in mounts.splitlines():
        if str(d.base) in line:
            found.append(f"mount: {line}")
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    if f" {d.bridge}:" in links or f" {d.bridge}@" in links:
        found.append(f"interface {d.bridge}")
    for tool, family in (("iptables-save", ""), ("ip6tables-save", " (ip6tables)")):
        rules = subprocess.run([tool], capture_output=True, text=True, check=False).stdout
        if d.chain_prefix in rules:
            found.append(f"iptables rules naming {d.chain_prefix}{family}")
    for controller in Path("/sys/fs/cgroup").iterdir():
        if (controller / d.cgroup_parent).exists():
            found.append(f"cgroup {controller / d.cgroup_parent}")
    return found
