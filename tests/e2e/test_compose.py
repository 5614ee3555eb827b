"""docker-compose 1.29 (the Python one, classic builder: COMPOSE_DOCKER_CLI_BUILD=0) against
pydockerd: build twice (the second all from cache), up --build, ps, logs, exec, down -v.

The compose binary comes from $PYDOCKER_COMPOSE, a venv at /opt/pydocker/compose-venv or
/tmp/compose-venv, or PATH; the test is skipped, with the reason, where no 1.29 is found.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

VENVS = ["/opt/pydocker/compose-venv/bin/docker-compose", "/tmp/compose-venv/bin/docker-compose"]
INSTALL_HINT = ("set PYDOCKER_COMPOSE to a docker-compose 1.29 binary, e.g. from Debian's "
                "docker-compose 1.29.2-3 package or a venv with docker-compose==1.29.2")


def _version(path: str) -> str:
    try:
        out = subprocess.run([path, "version", "--short"], capture_output=True, text=True,
                             timeout=60, check=False)
    except OSError:
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _compose_binary() -> str:
    candidates = [os.environ.get("PYDOCKER_COMPOSE", ""), *VENVS,
                  shutil.which("docker-compose") or ""]
    seen = []
    for path in filter(None, candidates):
        version = _version(path)
        if version.startswith("1.29."):
            return path
        seen.append(f"{path}: {version or 'not runnable'}")
    pytest.skip(f"no docker-compose 1.29 ({'; '.join(seen) or 'none found'}); {INSTALL_HINT}")


WEB_DOCKERFILE = """\
FROM busybox AS builder
ARG GREETING=default
RUN mkdir -p /out && echo "$GREETING" > /out/greeting.txt
COPY . /src/
RUN ls -a /src > /out/files.txt

FROM busybox AS runtime
COPY --from=builder /out /www
RUN echo built-runtime
EXPOSE 8080
CMD ["sh", "-c", "cat /www/greeting.txt; echo web > /data/marker; exec httpd -f -p 8080 -h /www"]

FROM runtime AS extra
RUN echo never-built
"""

WORKER_DOCKERFILE = """\
FROM busybox
ARG LEVEL=1
LABEL tier=worker
RUN echo "level $LEVEL" > /level.txt
"""

COMPOSE_FILE = """\
version: "3.8"
services:
  web:
    build:
      context: ./web
      target: runtime
      args:
        GREETING: hello-compose
      labels:
        com.example.role: web
    ports:
      - "127.0.0.1:{port}:8080"
    volumes:
      - data:/data
    networks:
      - backend
    depends_on:
      - worker
  worker:
    build:
      context: ./worker
      dockerfile: Dockerfile.worker
      args:
        - LEVEL=7
    command: ["sh", "-c", "trap 'exit 0' TERM; echo worker up; cat /level.txt; sleep 3600 & wait"]
    networks:
      - backend
volumes:
  data:
networks:
  backend:
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _project(root: Path, port: int) -> Path:
    (root / "web" / "tmpdir").mkdir(parents=True)
    (root / "worker").mkdir()
    (root / "web" / "Dockerfile").write_text(WEB_DOCKERFILE)
    (root / "web" / "index.html").write_text("hello\n")
    (root / "web" / "secret.txt").write_text("never sent\n")
    (root / "web" / "tmpdir" / "x").write_text("x\n")
    (root / "web" / ".dockerignore").write_text("secret.txt\ntmpdir\n")
    (root / "worker" / "Dockerfile.worker").write_text(WORKER_DOCKERFILE)
    (root / "docker-compose.yml").write_text(COMPOSE_FILE.format(port=port))
    return root


class Compose:
    def __init__(self, binary: str, daemon: Daemon, root: Path, project: str) -> None:
        self.argv = [binary, "-p", project, "-f", str(root / "docker-compose.yml")]
        self.root = root
        self.env = {**os.environ, "DOCKER_HOST": daemon.url, "COMPOSE_DOCKER_CLI_BUILD": "0",
                    "DOCKER_BUILDKIT": "0", "DOCKER_CONFIG": str(root / ".docker"),
                    "COMPOSE_HTTP_TIMEOUT": "120"}
        self.env.pop("DOCKER_CONTEXT", None)

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*self.argv, *args], capture_output=True, text=True,
                              cwd=self.root, env={**self.env, **(env or {})},
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def run_tty(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """A command whose stdin, stdout and stderr are a terminal (``exec`` without -T)."""
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([*self.argv, *args], cwd=self.root,
                                    env={**self.env, **(env or {})},
                                    stdin=slave, stdout=slave, stderr=slave)
            os.close(slave)
            slave = -1
            chunks = []
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every holder of the terminal's other side is gone
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            code = proc.wait(60)
        finally:
            os.close(master)
            if slave != -1:
                os.close(slave)
        return code, b"".join(chunks).decode(errors="replace")


def _steps(output: str) -> list[list[str]]:
    """The build output cut into steps: each ``Step N/M :`` line with the lines after it."""
    steps: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("Step "):
            steps.append([line])
        elif steps:
            steps[-1].append(line)
    return steps


def _get(url: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                body: bytes = resp.read()
                return body.decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_compose_build_up_exec_down(fresh_daemon: Daemon, busybox_tar: bytes,
                                    tmp_path: Path) -> None:
    binary = _compose_binary()
    # A daemon of its own: the hundreds of events a compose run makes stay out of the
    # shared daemon's 256-event history, which other tests read.
    daemon = fresh_daemon
    import_busybox(daemon, busybox_tar)
    port = _free_port()
    project = f"pyc{os.getpid()}"
    compose = Compose(binary, daemon, _project(tmp_path / "proj", port), project)
    client = docker.DockerClient(base_url=daemon.url, timeout=120)
    before = set(daemon.cli("images", "-aq", "--no-trunc").stdout.split())
    try:
        first = compose.run("build")
        out = first.stdout + first.stderr
        for service in ("web", "worker"):
            assert f"Successfully tagged {project}_{service}:latest" in out, out
        assert "never-built" not in out  # the stage after the target is not built
        web = client.images.get(f"{project}_web")
        assert web.labels == {"com.example.role": "web"}
        assert web.attrs["Config"]["ExposedPorts"] == {"8080/tcp": {}}
        assert client.images.get(f"{project}_worker").labels == {"tier": "worker"}

        again = compose.run("build")
        steps = _steps(again.stdout)
        assert len(steps) == 4 + 11, again.stdout
        for step in steps:
            if " : FROM " not in step[0]:
                assert " ---> Using cache" in step, step
        assert "Running in" not in again.stdout

        up = compose.run("up", "-d", "--build")
        created = [line for line in (up.stdout + up.stderr).splitlines() if "done" in line]
        assert [line.split()[1] for line in created if line.startswith("Creating")] == [
            f"{project}_worker_1", f"{project}_web_1"], up.stderr  # depends_on's order
        ps = compose.run("ps").stdout
        assert re.search(rf"{project}_web_1 .* Up .*127\.0\.0\.1:{port}->8080/tcp", ps), ps
        assert re.search(rf"{project}_worker_1 .* Up", ps), ps

        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/greeting.txt") == "hello-compose\n"
        sent = _get(f"{base}/files.txt").split()
        assert "index.html" in sent and "Dockerfile" in sent
        assert "secret.txt" not in sent and "tmpdir" not in sent

        logs = compose.run("logs", "--no-color").stdout
        assert re.search(r"worker_1 +\| level 7", logs), logs
        assert re.search(r"web_1 +\| hello-compose", logs), logs

        assert compose.run("exec", "-T", "web", "cat", "/data/marker").stdout == "web\n"
        ping = compose.run("exec", "-T", "web", "ping", "-c1", "-W5", "worker").stdout
        assert "1 packets received" in ping  # the service name resolves on the user network
        failed = compose.run("exec", "-T", "worker", "sh", "-c", "exit 3", check=False)
        assert failed.returncode == 3
        # exec with a terminal: through the docker CLI (compose's default) and through
        # docker-py's own exec and attach (COMPOSE_INTERACTIVE_NO_CLI).
        for env in ({}, {"COMPOSE_INTERACTIVE_NO_CLI": "1"}):
            code, text = compose.run_tty("exec", "web", "sh", "-c", "tty; exit 4", env=env)
            assert code == 4 and "/dev/pts/" in text, (env, text)
        code, text = compose.run_tty("exec", "-T", "worker", "cat", "/level.txt",
                                     env={"COMPOSE_INTERACTIVE_NO_CLI": "1"})
        assert code == 0 and "level 7" in text, text
    finally:
        down = compose.run("down", "-v", "--rmi", "all", "-t", "2", check=False)
        client.close()
    assert down.returncode == 0, down.stderr
    label = f"label=com.docker.compose.project={project}"
    assert daemon.cli("ps", "-aq", "--filter", label).stdout == ""
    assert daemon.cli("network", "ls", "-q", "--filter", label).stdout == ""
    assert daemon.cli("volume", "ls", "-q", "--filter", label).stdout == ""
    # --rmi all took each image with the step images under it; what stays is the builder
    # stage's own chain, as with dockerd: one dangling image showing, its 4 steps with -a.
    left = set(daemon.cli("images", "-aq", "--no-trunc").stdout.split()) - before
    shown = set(daemon.cli("images", "-q", "--no-trunc").stdout.split()) - before
    assert len(left) == 4 and len(shown) == 1, (left, shown)
    gone = daemon.cli("rmi", shown.pop()).stdout
    assert gone.count("Deleted: sha256:") >= 4, gone  # the parents go with it
    assert set(daemon.cli("images", "-aq", "--no-trunc").stdout.split()) <= before


def test_compose_run_rm_passes_the_exit_code(daemon: Daemon, busybox: str,
                                             tmp_path: Path) -> None:
    """compose 1.29's one-off container (`run --rm -T`) exits with its command's code and
    leaves nothing behind."""
    binary = _compose_binary()
    (tmp_path / "docker-compose.yml").write_text(
        'version: "3.8"\nservices:\n  svc:\n    image: busybox\n    command: ["true"]\n')
    project = f"pydtrun{os.getpid()}"
    compose = Compose(binary, daemon, tmp_path, project)
    try:
        ran = compose.run("run", "--rm", "-T", "svc", "sh", "-c", "echo one-off; exit 5",
                          check=False)
        assert ran.returncode == 5, ran.stderr
        assert "one-off" in ran.stdout
        label = f"label=com.docker.compose.project={project}"
        assert daemon.cli("ps", "-aq", "--filter", label).stdout == ""
    finally:
        compose.run("down", check=False)
