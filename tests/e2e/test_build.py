"""docker build (classic builder) against pydockerd: the docker CLI, docker-py's
images.build() and low-level api.build(), the cache, multi-stage, .dockerignore, failures."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import docker
import pytest
from docker.errors import APIError, BuildError

from tests.e2e.harness import Daemon, UnixHTTPConnection

pytestmark = [pytest.mark.root, pytest.mark.e2e]

EVERYTHING = """\
# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS base
LABEL maintainer.team="build" version=1
ENV APP=/app \\
    GREETING="hello world"
WORKDIR $APP
COPY files/ ./files/
COPY --chown=1000:1000 top.txt /app/
ADD bundle.tar.gz /opt/
ARG LEVEL=3
RUN echo "level $LEVEL" > level.txt && echo built
EXPOSE 8080 53/udp
VOLUME ["/data"]
USER 1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-c"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/level.txt"]
"""


def _tar(files: dict[str, bytes], mode: Literal["w", "w:gz"] = "w",
         symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            tar.addfile(link)
    return buf.getvalue()


def _bundle() -> bytes:
    return _tar({"bundle/inside.txt": b"from the bundle\n"}, "w:gz")


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.txt").write_text("a\n")
    (tmp_path / "files" / "secret.key").write_text("no\n")
    (tmp_path / "top.txt").write_text("top\n")
    (tmp_path / "bundle.tar.gz").write_bytes(_bundle())
    (tmp_path / ".dockerignore").write_text("**/*.key\n")
    (tmp_path / "Dockerfile").write_text(EVERYTHING)
    return tmp_path


@pytest.fixture
def cleanup(client: docker.DockerClient) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        try:
            client.images.remove(name, force=True)
        except docker.errors.ImageNotFound:
            pass


def _cli_build(daemon: Daemon, *args: str, check: bool = True, input: bytes | None = None
               ) -> tuple[int, str, str]:
    proc = daemon.cli("build", *args, input=input, check=check, timeout=120,
                      env={"DOCKER_BUILDKIT": "0"})
    return proc.returncode, proc.stdout, proc.stderr


def test_cli_build_every_instruction_then_all_cached(daemon: Daemon, busybox: str,
                                                     client: docker.DockerClient,
                                                     context: Path, cleanup: list[str]) -> None:
    cleanup.append("every:latest")
    _, out, _ = _cli_build(daemon, "-t", "every", str(context))
    assert "Step 19/19 : CMD" in out and "level 3" not in out and "built\n" in out
    assert "Successfully tagged every:latest" in out
    image = client.images.get("every")
    cfg = image.attrs["Config"]
    assert cfg["Env"][-2:] == ["APP=/app", "GREETING=hello world"]
    assert cfg["WorkingDir"] == "/app" and cfg["User"] == "1000"
    assert cfg["Labels"] == {"maintainer.team": "build", "version": "1"}
    assert cfg["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert cfg["Volumes"] == {"/data": {}} and cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000,
                                  "Retries": 2}
    assert cfg["OnBuild"] == ["RUN echo child"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c"] and cfg["Cmd"] == ["cat /app/level.txt"]
    history = [h["CreatedBy"] for h in image.history()]
    assert history[0] == '/bin/sh -c #(nop)  CMD ["cat /app/level.txt"]'
    assert '|1 LEVEL=3 /bin/sh -c echo "level $LEVEL" > level.txt && echo built' in history
    listing = client.containers.run(
        "every", ["ls -ln /app /app/files /opt/bundle; cat /opt/bundle/inside.txt"],
        user="0", remove=True).decode()
    assert "level.txt" in listing and "a.txt" in listing and "secret.key" not in listing
    assert "1000     1000" in listing and "from the bundle" in listing
    assert client.containers.run("every", remove=True) == b"level 3\n"

    _, again, _ = _cli_build(daemon, "-t", "every", str(context))
    assert again.count(" ---> Using cache") == 17  # every step but the meta ARG and FROM
    assert f"Successfully built {image.short_id.removeprefix('sha256:')}" in again
    assert not client.containers.list(all=True)


def test_cli_dockerfile_from_stdin_and_failure(daemon: Daemon, busybox: str,
                                               client: docker.DockerClient, tmp_path: Path,
                                               cleanup: list[str]) -> None:
    cleanup.append("stdin:latest")
    rc, out, _ = _cli_build(daemon, "-t", "stdin", "--iidfile", str(tmp_path / "iid"),
                            "-f", "-", str(tmp_path), input=b"FROM busybox\nRUN echo piped\n")
    assert rc == 0 and "piped" in out
    assert (tmp_path / "iid").read_text() == client.images.get("stdin").id
    rc, out, err = _cli_build(daemon, "--force-rm", "-f", "-", str(tmp_path), check=False,
                              input=b"FROM busybox\nRUN exit 3\n")
    assert rc == 3  # the CLI exits with errorDetail.code, as against dockerd
    assert "The command '/bin/sh -c exit 3' returned a non-zero code: 3" in out + err
    assert not client.containers.list(all=True)


def test_dockerpy_build_multistage_target_and_errors(client: docker.DockerClient,
                                                     busybox: str, tmp_path: Path,
                                                     cleanup: list[str]) -> None:
    cleanup.extend(["multi:latest", "multi:first"])
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox AS first\nRUN echo one > /one\n"
        "FROM busybox\nCOPY --from=first /one /copied\nCMD [\"cat\", \"/copied\"]\n")
    image, logs = client.images.build(path=str(tmp_path), tag="multi")
    assert client.containers.run(image.id, remove=True) == b"one\n"
    assert any("Successfully built" in chunk.get("stream", "") for chunk in logs)
    first, _ = client.images.build(path=str(tmp_path), tag="multi:first", target="first")
    assert first.attrs["Config"]["Cmd"] == client.images.get("busybox").attrs["Config"]["Cmd"]
    with pytest.raises(BuildError, match="returned a non-zero code: 7"):
        client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 7\n"), forcerm=True)
    with pytest.raises(APIError, match="unknown instruction: FOO"):
        client.images.build(fileobj=io.BytesIO(b"FROM busybox\nFOO bar\n"))
    with pytest.raises(APIError, match="failed to reach build target nope"):
        client.images.build(path=str(tmp_path), target="nope")
    with pytest.raises(BuildError, match="file not found in build context"):
        client.images.build(fileobj=io.BytesIO(b"FROM busybox\nCOPY missing /x\n"))
    with pytest.raises(BuildError, match="the --mount option requires BuildKit"):
        client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN --mount=type=tmpfs,"
                                                b"target=/x true\n"))


def test_low_level_stream_quiet_labels_and_buildargs(client: docker.DockerClient,
                                                     busybox: str, tmp_path: Path,
                                                     cleanup: list[str]) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nARG WHO=nobody\nRUN echo hi $WHO\n")
    chunks = [json.loads(line) for line in client.api.build(
        path=str(tmp_path), buildargs={"WHO": "you", "UNUSED": "x"}, labels={"l": "v"},
        nocache=True, rm=True)]
    streamed = "".join(c.get("stream", "") for c in chunks)
    assert "hi you\n" in streamed
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in streamed
    image_id = next(c["aux"]["ID"] for c in chunks if "aux" in c)
    cleanup.append(image_id)
    assert client.images.get(image_id).labels == {"l": "v"}
    quiet = [json.loads(line) for line in client.api.build(path=str(tmp_path), quiet=True)]
    assert len(quiet) == 1 and quiet[0]["stream"].startswith("sha256:")
    cleanup.append(quiet[0]["stream"].strip())


def test_hostile_context_is_refused(daemon: Daemon, busybox: str,
                                    client: docker.DockerClient) -> None:
    escaping = _tar({"Dockerfile": b"FROM busybox\n", "../escape": b"x"})
    status, _, body = daemon.request("POST", "/build", escaping,
                                     {"Content-Type": "application/x-tar"})
    assert status == 400 and b"escapes" in body
    outside = _tar({"Dockerfile": b"FROM busybox\nCOPY link/passwd /x\n"},
                   symlinks={"link": "/etc"})
    with pytest.raises(BuildError, match="file not found in build context"):
        client.images.build(fileobj=io.BytesIO(outside), custom_context=True)
    assert not client.containers.list(all=True)


def test_client_hanging_up_mid_build_leaves_nothing(daemon: Daemon, busybox: str,
                                                    client: docker.DockerClient) -> None:
    conn = UnixHTTPConnection(str(daemon.socket))
    body = _tar({"Dockerfile": b"FROM busybox\nRUN echo $((6*7)); sleep 60\n"})
    conn.request("POST", "/build?rm=1", body=body, headers={"Content-Type": "application/x-tar"})
    resp = conn.getresponse()
    seen = b""
    while b'"42\\n"' not in seen:  # the RUN's own output: it is running
        seen += resp.read1(4096)
    assert client.containers.list(all=True)
    conn.close()  # mid-RUN: the build stops, its container and context go
    deadline = time.monotonic() + 30
    while client.containers.list(all=True) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not client.containers.list(all=True)
    builder = daemon.data_root / "builder"
    assert not builder.exists() or not any(builder.iterdir())


def test_builder_prune_removes_what_a_killed_build_left(daemon: Daemon) -> None:
    stale = daemon.data_root / "builder" / "build-stale"
    stale.mkdir(parents=True)
    (stale / "Dockerfile").write_bytes(b"x" * 1000)
    out = daemon.cli("builder", "prune", "-f").stdout
    assert "build-stale" in out and "Total reclaimed space: 1" in out
    assert not stale.exists()
    status, _, body = daemon.request("POST", "/build/prune")
    assert status == 200 and json.loads(body) == {"CachesDeleted": None, "SpaceReclaimed": 0}
    status, _, body = daemon.request("POST", "/build/prune?filters=bad")
    assert status == 400 and b"invalid filter" in body


def test_onbuild_triggers_run_in_the_child(client: docker.DockerClient, busybox: str,
                                           cleanup: list[str]) -> None:
    cleanup.extend(["obchild:latest", "obparent:latest"])
    client.images.build(fileobj=io.BytesIO(b"FROM busybox\nONBUILD RUN echo child\n"
                                           b"ONBUILD ENV X=1\n"), tag="obparent")
    chunks = list(client.api.build(fileobj=io.BytesIO(b"FROM obparent\nRUN echo $X\n"),
                                   tag="obchild", rm=True, decode=True))
    lines = [c["stream"] for c in chunks if "stream" in c]
    # dockerd 20.10's exact sequence: no image line until every trigger ran
    assert lines[:4] == ["Step 1/2 : FROM obparent", "\n", "# Executing 2 build trigger", "s"]
    assert lines[4] == "\n" and lines[5].startswith(" ---> Running in ") and lines[6] == "child\n"
    assert lines[7].startswith("Removing intermediate") and lines[8].startswith(" ---> Running")
    assert lines[10].startswith(" ---> ") and lines[11] == "Step 2/2 : RUN echo $X"
    assert "1\n" in lines
    assert client.images.get("obchild").attrs["Config"]["OnBuild"] is None
