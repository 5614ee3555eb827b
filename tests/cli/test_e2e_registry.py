"""pull, push, login, logout and build with the pydocker CLI against pydockerd and Debian's
docker-registry on 127.0.0.1 (htpasswd auth), checked against what the docker CLI 28 prints
for the same steps on the same daemon."""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import re
import select
import struct
import subprocess
import tarfile
import termios
from pathlib import Path

import pytest

from tests.cli.conftest import PYDOCKER, Runner, cli_env, pd, runner  # noqa: F401 - fixture
from tests.e2e.conftest import busybox_tar, fresh_daemon, import_busybox  # noqa: F401
from tests.e2e.harness import DOCKER_CLI, Daemon
from tests.registry.conftest import Registry, StartRegistry, start_registry  # noqa: F401 - fixture
from tests.registry.helpers import write_htpasswd

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def _untag(d: Daemon, *names: str) -> None:
    for name in names:
        d.cli("rmi", name, check=False)


def _htpasswd_registry(start: StartRegistry, tmp_path: Path, user: str,
                       password: str) -> tuple[Registry, dict[str, str]]:
    """A registry asking for ``user``/``password``, and the env of a fresh DOCKER_CONFIG."""
    htpasswd = tmp_path / "htpasswd"
    if reason := write_htpasswd(htpasswd, user, password):
        pytest.skip(reason)
    registry = start(f"auth:\n  htpasswd:\n    realm: t\n    path: {htpasswd}\n")
    return registry, {"DOCKER_CONFIG": str(tmp_path / "cfg")}


def test_login_push_rmi_pull_logout(daemon: Daemon, pd: Runner, busybox: str,  # noqa: F811
                                    start_registry: StartRegistry,  # noqa: F811
                                    tmp_path: Path) -> None:
    registry, env = _htpasswd_registry(start_registry, tmp_path, "alice", "s3cret")
    name = f"{registry.domain}/bb"
    config = tmp_path / "cfg" / "config.json"
    digest = ""
    assert pd("tag", "busybox", f"{name}:v1").returncode == 0
    try:
        refused = pd("push", f"{name}:v1", env=env)
        assert refused.returncode == 1 and "no basic auth credentials" in refused.stderr
        bad = pd("login", "-u", "alice", "-p", "wrong", registry.domain, env=env)
        assert bad.returncode == 1 and bad.stdout == ""
        assert bad.stderr.startswith("WARNING! Using --password via the CLI is insecure.")
        assert "Error response from daemon: login attempt to" in bad.stderr
        assert not config.exists()
        ok = pd("login", "-u", "alice", "--password-stdin", f"http://{registry.domain}",
                input="s3cret\n", env=env)
        assert (ok.returncode, ok.stdout) == (0, "Login Succeeded\n"), ok.stderr
        assert f"stored unencrypted in '{config}'" in ok.stderr
        entry = json.loads(config.read_text())["auths"][registry.domain]
        assert base64.b64decode(entry["auth"]) == b"alice:s3cret"
        assert config.stat().st_mode & 0o777 == 0o600
        again = pd("login", registry.domain, env=env)
        assert (again.returncode, again.stdout) == (0, "Login Succeeded\n")
        assert "Authenticating with existing credentials... [Username: alice]" in again.stderr

        pushed = pd("push", f"{name}:v1", env=env)
        assert pushed.returncode == 0, pushed.stderr
        lines = pushed.stdout.splitlines()
        assert lines[0] == f"The push refers to repository [{name}]"
        assert lines[1].endswith(": Preparing") and lines[2].endswith(": Pushed")
        digest = lines[-1].split("v1: digest: ")[1].split()[0]
        assert pd("push", "-q", f"{name}:v1", env=env).stdout == f"{name}:v1\n"
        missing = pd("push", name, env=env)
        assert missing.returncode == 1
        assert missing.stdout.startswith("Using default tag: latest\n")
        assert f"An image does not exist locally with the tag: {name}" in missing.stderr

        assert pd("rmi", f"{name}:v1").returncode == 0
        pulled = pd("pull", f"{name}:v1", env=env)
        assert pulled.returncode == 0, pulled.stderr
        out = pulled.stdout.splitlines()
        assert out[0] == "v1: Pulling from bb"
        # busybox's layer is still here (rmi only untagged): nothing to download
        assert not any("Downloading" in line for line in out)  # no bars off a terminal
        assert out[-3:] == [f"Digest: {digest}",
                            f"Status: Downloaded newer image for {name}:v1", f"{name}:v1"]
        # docker's own CLI prints the same up-to-date answer
        docker = daemon.cli("pull", f"{name}:v1", env=env, timeout=60).stdout
        assert pd("pull", f"{name}:v1", env=env).stdout == docker
        by_digest = pd("pull", "-q", f"{name}@{digest}", env=env)
        assert (by_digest.returncode, by_digest.stdout) == (0, f"{name}@{digest}\n")
        nope = pd("pull", f"{name}:nope", env=env)
        assert nope.returncode == 1 and nope.stdout == ""
        assert nope.stderr == daemon.cli("pull", f"{name}:nope", env=env,
                                         check=False).stderr
        tagged = pd("pull", "-a", f"{name}:v1", env=env)
        assert (tagged.returncode, tagged.stderr) == (
            1, "tag can't be used with --all-tags/-a\n")
        bad_name = pd("pull", "Bad/Name")
        assert (bad_name.returncode, bad_name.stderr) == (
            1, "invalid reference format: repository name (Name) must be lowercase\n")

        out_ = pd("logout", registry.domain, env=env)
        assert out_.stdout == f"Removing login credentials for {registry.domain}\n"
        assert json.loads(config.read_text())["auths"] == {}
    finally:
        _untag(daemon, f"{name}:v1", *([f"{name}@{digest}"] if digest else []))


def test_run_pulls_missing_image_with_stored_credentials(
        daemon: Daemon, fresh_daemon: Daemon, pd: Runner, busybox: str,  # noqa: F811
        start_registry: StartRegistry, tmp_path: Path) -> None:  # noqa: F811
    registry, env = _htpasswd_registry(start_registry, tmp_path, "bob", "pw")
    name = f"{registry.domain}/runme:1"
    pd("tag", "busybox", name)
    try:
        assert pd("login", "-u", "bob", "--password-stdin", registry.domain, input="pw",
                  env=env).returncode == 0
        assert pd("push", "-q", name, env=env).returncode == 0
        # a daemon without busybox's layer, so the pull downloads and extracts it
        run = subprocess.run([PYDOCKER, "run", "--rm", name, "echo", "hi"], capture_output=True,
                             text=True, timeout=120, check=False,
                             env={**cli_env(fresh_daemon), **env})
        assert run.returncode == 0 and run.stdout == "hi\n", run.stderr
        assert run.stderr.startswith(f"Unable to find image '{name}' locally\n")
        assert ": Pulling fs layer\n" in run.stderr and ": Pull complete\n" in run.stderr
        assert f"Status: Downloaded newer image for {name}" in run.stderr
        # build --pull fetches FROM with the X-Registry-Config credentials
        built = subprocess.run([PYDOCKER, "build", "--pull", "-q", "-"], capture_output=True,
                               text=True, timeout=120, check=False,
                               input=f"FROM {name}\nLABEL x=1\n",
                               env={**cli_env(fresh_daemon), **env})
        assert built.returncode == 0 and built.stdout.startswith("sha256:"), built.stderr
        logged_out = subprocess.run([PYDOCKER, "build", "--pull", "-q", "-"],
                                    capture_output=True, text=True, timeout=120, check=False,
                                    input=f"FROM {name}\nLABEL x=2\n",
                                    env={**cli_env(fresh_daemon), "DOCKER_CONFIG": "/nonexistent"})
        assert logged_out.returncode == 1 and "no basic auth credentials" in logged_out.stderr
    finally:
        _untag(daemon, name)


def test_build_dockerignore_cache_quiet_and_failure(
        fresh_daemon: Daemon, busybox_tar: bytes, tmp_path: Path) -> None:  # noqa: F811
    # a daemon of its own: the builds' many events would crowd the shared daemon's history
    daemon = fresh_daemon
    import_busybox(daemon, busybox_tar)

    pd_ = runner(daemon)
    ctx = tmp_path / "ctx"
    (ctx / "logs").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM busybox\nARG WHO=nobody\nCOPY . /c\n"
                                    "RUN ls -a /c /c/logs && echo \"hello $WHO\"\n")
    (ctx / "a.txt").write_text("a")
    (ctx / "b.log").write_text("b")
    (ctx / "logs" / "x.log").write_text("x")
    (ctx / "logs" / "keep.log").write_text("k")
    (ctx / ".dockerignore").write_text("# comment\n**/*.log\n!logs/keep.log\nDockerfile\n")
    try:
        first = pd_("build", "-t", "pd-build:1", "--build-arg", "WHO=you", "--label", "l=v",
                   str(ctx), timeout=120)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("Sending build context to Docker daemon  ")
        out = first.stdout
        assert "Step 1/5 : FROM busybox" in out and "hello you" in out
        listing = out.split("RUN ls -a")[1]
        assert "a.txt" in listing and "keep.log" in listing and ".dockerignore" in listing
        assert "b.log" not in listing and "x.log" not in listing
        # the CLI sends the ignored Dockerfile (the build found it); the daemon then drops
        # it from the context, as dockerd's removeDockerfile does
        assert "Dockerfile" not in listing
        assert out.endswith("Successfully tagged pd-build:1\n")
        image_id = daemon.cli("inspect", "-f", "{{.Id}}", "pd-build:1").stdout.strip()
        assert daemon.cli("inspect", "-f", "{{.Config.Labels.l}}",
                          "pd-build:1").stdout == "v\n"
        cached = pd_("build", "-t", "pd-build:1", "--build-arg", "WHO=you", "--label", "l=v",
                    str(ctx))
        assert cached.stdout.count(" ---> Using cache") == 4, cached.stdout
        quiet = pd_("build", "-q", "--build-arg", "WHO=you", "--label", "l=v", str(ctx))
        assert (quiet.returncode, quiet.stdout) == (0, image_id + "\n")
        stdin_file = pd_("build", "-q", "-f", "-", str(ctx),
                        input="FROM busybox\nRUN test -f /etc/passwd\n", timeout=120)
        assert stdin_file.returncode == 0 and stdin_file.stdout.startswith("sha256:")
        pd_("rmi", stdin_file.stdout.strip())
        # stdin as the whole context: a Dockerfile alone, or a tar
        only = pd_("build", "-t", "pd-build:stdin", "-", input="FROM busybox\nLABEL s=1\n")
        assert only.returncode == 0 and "Successfully tagged pd-build:stdin" in only.stdout
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo("df")
            data = b"FROM busybox\nLABEL t=1\n"
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        from_tar = pd_("build", "-q", "-f", "df", "-", input=raw.getvalue())
        assert from_tar.returncode == 0 and from_tar.stdout.startswith("sha256:")
        pd_("rmi", "pd-build:stdin", from_tar.stdout.strip())
        outside = tmp_path / "Other.dockerfile"
        outside.write_text("FROM busybox\nCOPY a.txt /\n")
        elsewhere = pd_("build", "-q", "-f", str(outside), str(ctx))
        assert elsewhere.returncode == 0, elsewhere.stderr
        pd_("rmi", elsewhere.stdout.strip())
        (ctx / "Dockerfile").write_text("FROM busybox\nRUN false\n")
        failed = pd_("build", str(ctx), timeout=120)
        assert failed.returncode == 1
        assert failed.stderr == "The command '/bin/sh -c false' returned a non-zero code: 1\n"
        assert failed.stdout.endswith("Step 2/2 : RUN false\n" + failed.stdout.split(
            "Step 2/2 : RUN false\n")[1])
        missing = pd_("build", str(tmp_path / "nope"))
        assert (missing.returncode, missing.stderr) == (
            1, f'unable to prepare context: path "{tmp_path / "nope"}" not found\n')
    finally:
        _untag(daemon, "pd-build:1")


def _on_terminal(argv: list[str], env: dict[str, str]) -> bytes:
    """Run with stdout and stderr on a 150-column pseudo-terminal; everything it wrote."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 150, 0, 0))
    proc = subprocess.Popen(argv, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL,
                            env=env)
    os.close(slave)
    out = b""
    try:
        while select.select([master], [], [], 60)[0]:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
    finally:
        os.close(master)
        proc.wait(timeout=60)
    return out


def test_pull_on_a_terminal_draws_as_docker(daemon: Daemon, fresh_daemon: Daemon,  # noqa: F811
                                            busybox: str, start_registry: StartRegistry,  # noqa: F811
                                            tmp_path: Path) -> None:
    name = f"{start_registry().domain}/tty:1"
    daemon.cli("tag", "busybox", name)
    try:
        daemon.cli("push", name)
        env = {**cli_env(fresh_daemon), "DOCKER_HOST": fresh_daemon.url,
               "DOCKER_CONFIG": str(tmp_path)}
        theirs = _on_terminal([DOCKER_CLI, "pull", name], env)
        fresh_daemon.cli("rmi", name)
        fresh_daemon.cli("image", "prune", "-af")  # the layer too, so it is fetched again
        ours = _on_terminal([PYDOCKER, "pull", name], env)
        assert b"Pull complete \r\x1b[1B" in ours and b"\x1b[2K\r" in ours
        # how far each Downloading update got depends on the daemon's chunks: compare the rest
        downloading = re.compile(rb"\x1b\[1A\x1b\[2K\r\w+: Downloading [^\r]*\r\x1b\[1B")
        assert downloading.sub(b"", ours) == downloading.sub(b"", theirs)
    finally:
        _untag(daemon, name)
