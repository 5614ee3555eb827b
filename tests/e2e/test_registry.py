"""Registries end to end: the docker CLI and docker-py against pydockerd and Debian's
docker-registry on 127.0.0.1 (push, rmi, pull, run of a missing image, pull -a, by
digest, login with htpasswd, distribution inspect), and Docker Hub offline."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.e2e.harness import Daemon
from tests.registry.conftest import StartRegistry, start_registry  # noqa: F401 - fixture
from tests.registry.helpers import TokenService, write_htpasswd

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


def _untag(d: Daemon, *names: str) -> None:
    for name in names:
        d.cli("rmi", name, check=False)


def test_push_then_run_on_another_daemon(daemon: Daemon, fresh_daemon: Daemon, busybox: str,
                                         start_registry: StartRegistry) -> None:  # noqa: F811
    name = f"{start_registry().domain}/bb"
    daemon.cli("tag", "busybox", f"{name}:v1")
    try:
        pushed = daemon.cli("push", f"{name}:v1").stdout
        assert f"The push refers to repository [{name}]" in pushed
        assert ": Pushed" in pushed and "v1: digest: sha256:" in pushed
        assert ": Layer already exists" in daemon.cli("push", f"{name}:v1").stdout
        run = fresh_daemon.cli("run", "--rm", f"{name}:v1", "echo", "hi", timeout=120)
        assert run.stdout == "hi\n"
        assert f"Unable to find image '{name}:v1' locally" in run.stderr
        assert "Pull complete" in run.stderr
        assert f"Status: Downloaded newer image for {name}:v1" in run.stderr
        pulled = fresh_daemon.client()
        try:
            image = pulled.images.get(f"{name}:v1")
            assert image.id == busybox
            digest = pushed.split("v1: digest: ")[1].split()[0]
            assert image.attrs["RepoDigests"] == [f"{name}@{digest}"]
        finally:
            pulled.close()
        listing = fresh_daemon.cli("images", "--digests", "--format",
                                   "{{.Repository}} {{.Tag}} {{.Digest}}").stdout
        assert f"{name} v1 {digest}" in listing
        removed = fresh_daemon.cli("rmi", f"{name}:v1").stdout
        assert f"Untagged: {name}@{digest}" in removed and "Deleted: " in removed
    finally:
        _untag(daemon, f"{name}:v1")


def test_pull_with_docker_py(daemon: Daemon, busybox: str, client: docker.DockerClient,
                             start_registry: StartRegistry) -> None:  # noqa: F811
    name = f"{start_registry().domain}/py"
    digest = ""
    started = int(time.time()) - 1
    for tag in ("a", "b"):
        client.images.get("busybox").tag(name, tag)
    try:
        records = list(client.images.push(name, tag="a", stream=True, decode=True))
        aux = [r["aux"] for r in records if "aux" in r]
        assert aux and aux[0]["Tag"] == "a" and aux[0]["Digest"].startswith("sha256:")
        assert "error" not in str(records)
        everything = list(client.api.push(name, stream=True, decode=True))
        assert sorted(r["aux"]["Tag"] for r in everything if "aux" in r) == ["a", "b"]
        digest = aux[0]["Digest"]
        by_digest = client.images.pull(f"{name}@{digest}")
        assert by_digest.id == busybox
        pulled = client.images.pull(name, all_tags=True)
        assert {i.id for i in pulled} == {busybox}
        with pytest.raises(docker.errors.NotFound) as missing:
            client.images.pull(name, tag="nosuch")
        assert (f"manifest for {name}:nosuch not found: manifest unknown: manifest unknown"
                in str(missing.value))
        lines = list(client.api.pull(name, tag="a", stream=True, decode=True))
        assert lines == [{"status": "Pulling from py", "id": "a"},
                         {"status": f"Digest: {digest}"},
                         {"status": f"Status: Image is up to date for {name}:a"}]
        events = client.events(since=started, until=int(time.time()) + 1, decode=True,
                               filters={"type": "image"})
        seen = {(e["Action"], e["Actor"]["ID"], e["Actor"]["Attributes"]["name"])
                for e in events}
        assert {("push", f"{name}:a", name), ("pull", f"{name}:a", name)} <= seen
        info = client.api.inspect_distribution(f"{name}:a")
        assert info["Descriptor"]["digest"] == digest
        assert info["Platforms"][0]["os"] == "linux"
    finally:
        _untag(daemon, f"{name}:a", f"{name}:b", f"{name}@{digest}")


def test_login_with_htpasswd(daemon: Daemon, busybox: str, tmp_path: Path,
                             start_registry: StartRegistry) -> None:  # noqa: F811
    htpasswd = tmp_path / "htpasswd"
    reason = write_htpasswd(htpasswd, "alice", "s3cret")
    if reason:
        pytest.skip(reason)
    domain = start_registry(f"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n"
                            ).domain
    env = {"DOCKER_CONFIG": str(tmp_path / "cli")}
    bad = daemon.cli("login", "-u", "alice", "--password-stdin", domain, input=b"wrong",
                     check=False, env=env)
    assert bad.returncode == 1
    assert (f"login attempt to http://{domain}/v2/ failed with status: 401 Unauthorized"
            in bad.stderr)
    daemon.cli("tag", "busybox", f"{domain}/private:v1")
    try:
        anonymous = daemon.cli("push", f"{domain}/private:v1", check=False, env=env)
        assert "no basic auth credentials" in anonymous.stderr
        good = daemon.cli("login", "-u", "alice", "--password-stdin", domain,
                          input=b"s3cret", env=env)
        assert "Login Succeeded" in good.stdout
        assert "v1: digest:" in daemon.cli("push", f"{domain}/private:v1", env=env).stdout
        c = daemon.client()
        try:
            answer = c.login("alice", "s3cret", registry=domain, reauth=True)
            assert answer == {"IdentityToken": "", "Status": "Login Succeeded"}
        finally:
            c.close()
    finally:
        _untag(daemon, f"{domain}/private:v1")


@pytest.fixture
def token_registry(tmp_path: Path, start_registry: StartRegistry  # noqa: F811
                   ) -> Iterator[tuple[str, TokenService]]:
    """A registry trusting the test token service (run on a loop of its own)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    service = TokenService(tmp_path, "alice", "s3cret")
    asyncio.run_coroutine_threadsafe(service.start(), loop).result()
    try:
        yield start_registry(service.auth_yaml()).domain, service
    finally:
        asyncio.run_coroutine_threadsafe(service.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def test_login_with_tokens(daemon: Daemon, busybox: str, tmp_path: Path,
                           token_registry: tuple[str, TokenService]) -> None:
    domain, service = token_registry
    env = {"DOCKER_CONFIG": str(tmp_path / "cli")}
    bad = daemon.cli("login", "-u", "alice", "--password-stdin", domain, input=b"wrong",
                     check=False, env=env)
    assert bad.returncode == 1 and "incorrect username or password" in bad.stderr
    good = daemon.cli("login", "-u", "alice", "--password-stdin", domain, input=b"s3cret",
                      env=env)
    assert "Login Succeeded" in good.stdout
    # The refresh token the service gave is the IdentityToken the CLI keeps and sends.
    saved = json.loads((tmp_path / "cli" / "config.json").read_text())["auths"][domain]
    assert saved["identitytoken"] == service.refresh_token
    daemon.cli("tag", "busybox", f"{domain}/tokened:v1")
    try:
        assert "v1: digest:" in daemon.cli("push", f"{domain}/tokened:v1", env=env).stdout
        assert "POST refresh_token" in service.requests
    finally:
        _untag(daemon, f"{domain}/tokened:v1")


def test_docker_hub_offline(daemon: Daemon) -> None:
    if _resolves("registry-1.docker.io"):
        pytest.skip("Docker Hub resolves here: the test would reach the internet")
    started = time.monotonic()
    result = daemon.cli("pull", "busybox:nosuch", check=False)
    assert time.monotonic() - started < 10
    assert result.returncode == 1
    assert result.stderr.startswith('Error response from daemon: Get "https://registry-1.'
                                    'docker.io/v2/": dial tcp: lookup registry-1.docker.io on ')
    assert result.stderr.rstrip().endswith(": no such host")
    status, _, body = daemon.request("GET", "/images/search?term=busybox")
    assert status == 500
    assert json.loads(body)["message"].startswith(
        'Get "https://index.docker.io/v1/search?q=busybox&n=25": dial tcp: lookup '
        "index.docker.io on ")


def test_build_pulls_its_base_image(daemon: Daemon, busybox: str, tmp_path: Path,
                                    start_registry: StartRegistry) -> None:  # noqa: F811
    """The classic builder pulls a FROM image it lacks, as dockerd's does."""
    name = f"{start_registry().domain}/base"
    daemon.cli("tag", "busybox", f"{name}:v1")
    daemon.cli("push", f"{name}:v1")
    _untag(daemon, f"{name}:v1")
    (tmp_path / "Dockerfile").write_text(f"FROM {name}:v1\nRUN echo built > /built\n")
    try:
        out = daemon.cli("build", "-t", "pydt-pulled-base", str(tmp_path), timeout=120,
                         env={"DOCKER_BUILDKIT": "0"})
        assert "Successfully tagged pydt-pulled-base:latest" in out.stdout
        run = daemon.cli("run", "--rm", "pydt-pulled-base", "cat", "/built")
        assert run.stdout == "built\n"
        assert daemon.cli("image", "inspect", "-f", "{{.Id}}", f"{name}:v1").stdout.strip() \
            == busybox
    finally:
        _untag(daemon, "pydt-pulled-base", f"{name}:v1")
