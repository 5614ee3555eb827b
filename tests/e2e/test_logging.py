"""Container logs kept like dockerd keeps them (issue 15): json-file rotated by max-size and
max-file, compressed rotations, the local driver, the daemon's default driver, and bad
option values refused with dockerd's messages. Driven with the docker CLI and docker-py."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon, leftovers

pytestmark = [pytest.mark.root, pytest.mark.e2e]

PAD = "x" * 60
# Numbered lines without end (or up to $N): "line <n> xxx...".
ENDLESS = f'i=0; while :; do echo "line $i {PAD}"; i=$((i+1)); done'
NUMBERED = f'i=0; while [ $i -lt $N ]; do echo "line $i {PAD}"; i=$((i+1)); done'


def numbers(output: str) -> list[int]:
    lines = output.splitlines()
    assert all(line.startswith("line ") and line.endswith(PAD) for line in lines), lines[:3]
    return [int(line.split()[1]) for line in lines]


def assert_contiguous_to(output: str, last: int) -> list[int]:
    got = numbers(output)
    assert got == list(range(got[0], last + 1))
    return got


def log_dir_bytes(directory: Path, prefix: str) -> int:
    """What the log files hold now (one renamed while counted may count twice: an upper
    bound, as the test wants)."""
    total = 0
    for entry in os.scandir(directory):
        if entry.name.startswith(prefix):
            with contextlib.suppress(FileNotFoundError):  # rotated away meanwhile
                total += entry.stat().st_size
    return total


def state_dir(daemon: Daemon, container_id: str) -> Path:
    return daemon.data_root / "containers" / container_id


def test_a_chatty_container_stays_within_max_size_times_max_file(
        daemon: Daemon, busybox: str) -> None:
    cid = daemon.cli("run", "-d", "--log-opt", "max-size=1m", "--log-opt", "max-file=3",
                     "busybox", "sh", "-c", ENDLESS).stdout.strip()
    log = state_dir(daemon, cid) / f"{cid}-json.log"
    try:
        samples = []
        oldest: set[int] = set()  # the files seen as <name>.2: a second one means the
        while len(oldest) < 2:    # first was deleted, so rotation has gone full circle
            samples.append(log_dir_bytes(log.parent, log.name))
            with contextlib.suppress(FileNotFoundError):
                oldest.add(os.stat(f"{log}.2").st_ino)
        for _ in range(50):  # and on while it goes on printing
            samples.append(log_dir_bytes(log.parent, log.name))
        assert max(samples) <= 3 * 1024 * 1024, max(samples)
        assert not Path(f"{log}.3").exists()
        daemon.cli("kill", cid)
        last_entry = json.loads(log.read_bytes().splitlines()[-1])["log"]
        got = assert_contiguous_to(daemon.cli("logs", cid, timeout=120).stdout,
                                   int(last_entry.split()[1]))
        assert got[0] > 0  # the first lines are gone with the deleted file
        tail = daemon.cli("logs", "--tail", "3", cid).stdout
        assert numbers(tail) == got[-3:]
    finally:
        daemon.cli("rm", "-f", cid, check=False)


def test_compressed_rotations_are_read_back_in_order(daemon: Daemon, busybox: str) -> None:
    cid = daemon.cli("run", "-d", "-e", "N=6000", "--log-opt", "max-size=100k",
                     "--log-opt", "max-file=3", "--log-opt", "compress=true",
                     "busybox", "sh", "-c", NUMBERED).stdout.strip()
    try:
        assert daemon.cli("wait", cid).stdout.strip() == "0"
        directory = state_dir(daemon, cid)
        name = f"{cid}-json.log"
        assert sorted(p.name for p in directory.iterdir() if p.name.startswith(name)) == [
            name, f"{name}.1.gz", f"{name}.2.gz"]
        newest_rotated = gzip.decompress((directory / f"{name}.1.gz").read_bytes())
        assert json.loads(newest_rotated.splitlines()[-1])["stream"] == "stdout"
        got = assert_contiguous_to(daemon.cli("logs", cid).stdout, 5999)
        assert got[0] > 0  # older lines were rotated out
        reaching_into_the_gz = str(len(got) - 100)
        assert numbers(daemon.cli("logs", "--tail", reaching_into_the_gz, cid).stdout) == \
            got[100:]
    finally:
        daemon.cli("rm", "-f", cid, check=False)


def test_the_local_driver(daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", NUMBERED], environment={"N": "5000"},
                              detach=True, log_config={"type": "local", "config": {
                                  "max-size": "100k", "max-file": "3"}})
    try:
        assert c.wait()["StatusCode"] == 0
        inspect = client.api.inspect_container(c.id)
        assert inspect["HostConfig"]["LogConfig"] == {
            "Type": "local", "Config": {"max-size": "100k", "max-file": "3"}}
        assert inspect["LogPath"] == ""  # as dockerd: only json-file shows its file
        directory = state_dir(daemon, c.id) / "local-logs"
        # compress is local's default
        assert sorted(p.name for p in directory.iterdir()) == [
            "container.log", "container.log.1.gz", "container.log.2.gz"]
        assert_contiguous_to(c.logs().decode(), 4999)
        assert c.logs(tail=3) == b"".join(b"line %d %s\n" % (n, PAD.encode())
                                          for n in (4997, 4998, 4999))
        assert_contiguous_to(daemon.cli("logs", c.id).stdout, 4999)
    finally:
        c.remove(force=True)


def test_following_goes_on_across_rotations(client: docker.DockerClient, busybox: str) -> None:
    paced = (f'i=0; while [ $i -lt 3000 ]; do echo "line $i {PAD}"; i=$((i+1)); '
             "[ $((i % 50)) = 0 ] && usleep 20000; done; true")
    c = client.containers.run("busybox", ["sh", "-c", paced], detach=True,
                              log_config={"type": "json-file", "config": {
                                  "max-size": "10k", "max-file": "20"}})
    try:
        followed = b"".join(c.logs(stream=True, follow=True)).decode()
        got = assert_contiguous_to(followed, 2999)
        assert len(got) > 300  # more than what one 10k file holds
    finally:
        c.remove(force=True)


@pytest.mark.parametrize(("options", "message"), [
    (["max-file=x"], 'strconv.Atoi: parsing "x": invalid syntax'),
    (["max-file=0"], "max-file cannot be less than 1"),
    (["max-size=x"], "invalid size: 'x'"),
    (["max-size=0"], "max-size must be a positive number"),
    (["compress=true"],
     "compress cannot be true when max-file is less than 2 or max-size is not set"),
])
def test_bad_values_fail_the_start_with_dockerds_message(
        daemon: Daemon, busybox: str, options: list[str], message: str) -> None:
    """As dockerd 20.10: created, then the start fails (500) and the container stays
    created with the error and exit code 128."""
    args = [arg for option in options for arg in ("--log-opt", option)]
    cid = daemon.cli("create", *args, "busybox", "true").stdout.strip()
    try:
        status, _, body = daemon.request("POST", f"/containers/{cid}/start")
        wanted = f"failed to initialize logging driver: {message}"
        assert (status, json.loads(body)["message"]) == (500, wanted)
        state = json.loads(daemon.request("GET", f"/containers/{cid}/json")[2])["State"]
        assert (state["Status"], state["ExitCode"], state["Error"]) == ("created", 128, wanted)
        run = daemon.cli("run", "--rm", *args, "busybox", "true", check=False)
        assert run.returncode == 125
        assert f"Error response from daemon: {wanted}" in run.stderr
    finally:
        daemon.cli("rm", "-f", cid, check=False)


def test_an_unknown_option_of_local_is_refused_at_create(daemon: Daemon, busybox: str) -> None:
    run = daemon.cli("create", "--log-driver", "local", "--log-opt", "tag=x", "busybox",
                     check=False)
    assert run.returncode != 0
    assert "unknown log opt 'tag' for log driver local" in run.stderr


class LocalByDefault(Daemon):
    def argv(self) -> list[str]:
        return [*super().argv(), "--log-driver", "local", "--log-opt", "max-file=2",
                "--log-opt", "compress=false"]


@pytest.fixture
def local_daemon(tmp_path: Path, busybox_tar: bytes) -> Iterator[Daemon]:
    d = LocalByDefault(tmp_path)
    d.start()
    try:
        import_busybox(d, busybox_tar)
        yield d
    finally:
        for cid in d.cli("ps", "-aq", check=False).stdout.split():
            d.cli("rm", "-f", cid, check=False)
        assert d.stop() == 0, d.log()
        assert not leftovers(d)


def test_the_daemons_default_driver_and_options(local_daemon: Daemon) -> None:
    d = local_daemon
    assert d.cli("info", "--format", "{{.LoggingDriver}}").stdout.strip() == "local"
    cid = d.cli("run", "-d", "busybox", "echo", "hello").stdout.strip()
    d.cli("wait", cid)
    log_config = json.loads(d.cli("inspect", "--format", "{{json .HostConfig.LogConfig}}",
                                  cid).stdout)
    assert log_config == {"Type": "local", "Config": {"max-file": "2", "compress": "false"}}
    assert (state_dir(d, cid) / "local-logs" / "container.log").exists()
    assert d.cli("logs", cid).stdout == "hello\n"
    # A container naming another driver gets none of the daemon's options.
    other = d.cli("create", "--log-driver", "json-file", "busybox").stdout.strip()
    log_config = json.loads(d.cli("inspect", "--format", "{{json .HostConfig.LogConfig}}",
                                  other).stdout)
    assert log_config == {"Type": "json-file", "Config": {}}


def test_rotation_goes_on_while_the_daemon_is_down(fresh_daemon: Daemon,
                                                   busybox_tar: bytes) -> None:
    """The shim writes, and rotates, with no daemon; the next daemon reads it all."""
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    cid = d.cli("run", "-d", "--log-opt", "max-size=100k", "--log-opt", "max-file=2",
                "busybox", "sh", "-c", ENDLESS).stdout.strip()
    log = state_dir(d, cid) / f"{cid}-json.log"
    d.stop(signal.SIGKILL)
    rotated: set[int] = set()
    samples = []
    while len(rotated) < 3:  # <name>.1 replaced twice over while no daemon runs
        samples.append(log_dir_bytes(log.parent, log.name))
        with contextlib.suppress(FileNotFoundError):
            rotated.add(os.stat(f"{log}.1").st_ino)
    assert max(samples) <= 2 * 100_000 + 1000, max(samples)
    d.start()
    d.cli("kill", cid)
    last_entry = json.loads(log.read_bytes().splitlines()[-1])["log"]
    assert_contiguous_to(d.cli("logs", cid).stdout, int(last_entry.split()[1]))


def test_labels_and_env_options_write_attrs_shown_by_details(daemon: Daemon,
                                                              busybox: str) -> None:
    """As dockerd 20.10: the labels and variables the options pick go into each json-file
    line's ``attrs`` (a variable over a label of the same name), and ``--details`` prints
    them query-escaped and sorted before the line; without any, a lone space."""
    cid = daemon.cli(
        "run", "-d", "--label", "a=1", "--label", "b=x&y", "--label", "other=o",
        "--label", "FOO=label", "-e", "FOO=foo", "-e", "BAR=b ar", "-e", "BAZ=z",
        "--log-opt", "labels=a,b,missing", "--log-opt", "labels-regex=^oth",
        "--log-opt", "env=FOO,NOPE", "--log-opt", "env-regex=^BA",
        "busybox", "echo", "hello").stdout.strip()
    plain = daemon.cli("run", "-d", "busybox", "echo", "plain").stdout.strip()
    try:
        for c in (cid, plain):
            assert daemon.cli("wait", c).stdout.strip() == "0"
        line = (state_dir(daemon, cid) / f"{cid}-json.log").read_text()
        assert ',"stream":"stdout","attrs":{"BAR":"b ar","BAZ":"z","FOO":"foo","a":"1",' \
               '"b":"x\\u0026y","other":"o"},"time":"' in line
        prefix = "BAR=b+ar,BAZ=z,FOO=foo,a=1,b=x%26y,other=o"
        assert daemon.cli("logs", "--details", cid).stdout == f"{prefix} hello\n"
        assert daemon.cli("logs", cid).stdout == "hello\n"
        stamped = daemon.cli("logs", "--details", "-t", cid).stdout
        assert stamped.endswith(f"Z {prefix} hello\n")  # the time first, as dockerd
        status, _, body = daemon.request("GET", f"/containers/{cid}/logs?stdout=1&details=1")
        assert (status, body) == (200, b"\x01\0\0\0" + len(f"{prefix} hello\n").to_bytes(
            4, "big") + f"{prefix} hello\n".encode())
        assert daemon.cli("logs", "--details", plain).stdout == " plain\n"
    finally:
        daemon.cli("rm", "-f", cid, plain, check=False)


def test_a_bad_labels_regex_fails_the_start(daemon: Daemon, busybox: str) -> None:
    run = daemon.cli("run", "--rm", "--log-opt", "labels-regex=(", "busybox", "true",
                     check=False)
    assert run.returncode == 125
    assert "failed to initialize logging driver: error parsing regexp: " in run.stderr
    assert "`(`" in run.stderr
