"""Operating pydockerd as one operates dockerd: daemon.json, SIGHUP, socket activation."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from tests.e2e.harness import Daemon, leftovers

pytestmark = [pytest.mark.root, pytest.mark.e2e]


class ConfiguredDaemon(Daemon):
    """A test daemon started with a daemon.json of the test's."""

    def __init__(self, base: Path, config: dict[str, Any]) -> None:
        super().__init__(base)
        self.write_config(config)

    def write_config(self, config: dict[str, Any] | str) -> None:
        self.config_file.write_text(config if isinstance(config, str) else json.dumps(config))


# argv: the listening fd, then the command: it becomes fd 3 in the command's process.
ACTIVATE = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.set_inheritable(3, True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


class ActivatedDaemon(Daemon):
    """A test daemon given its listening socket the way systemd gives it: fd 3,
    ``LISTEN_FDS=1`` and ``LISTEN_PID`` = the daemon's own pid, and ``-H fd://``."""

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.socket))
        self.listener.listen(16)
        # Where Type=notify's messages go (systemd's NOTIFY_SOCKET).
        self.notify_path = base / "notify.sock"
        self.notifications = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notifications.bind(str(self.notify_path))
        self.notifications.settimeout(60)

    def notification(self) -> str:
        return self.notifications.recv(4096).decode()

    def argv(self) -> list[str]:
        argv = super().argv()
        at = argv.index("-H")
        return [*argv[:at], "-H", "fd://", *argv[at + 2:]]

    def launch(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        # The wrapper knows its pid before exec'ing the daemon into it, as systemd does.
        fd = self.listener.fileno()
        return subprocess.Popen([sys.executable, "-c", ACTIVATE, str(fd), *self.argv()],
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                pass_fds=(fd,), env={**os.environ, "LISTEN_FDS": "1",
                                                     "NOTIFY_SOCKET": str(self.notify_path)})

    def close(self) -> None:
        self.listener.close()
        self.notifications.close()
        self.socket.unlink(missing_ok=True)


def stopped_clean(d: Daemon) -> None:
    assert d.stop() == 0, d.log()
    assert not leftovers(d), d.log()


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[ConfiguredDaemon]:
    d = ConfiguredDaemon(tmp_path, {"labels": ["pydt.site=one"],
                                    "max-concurrent-downloads": 2,
                                    "registry-mirrors": ["https://pydt-mirror.invalid"],
                                    "insecure-registries": ["10.66.0.0/16"]})
    d.start()
    yield d
    stopped_clean(d)


def info(d: Daemon) -> dict[str, Any]:
    status, _, body = d.request("GET", "/info")
    assert status == 200
    result: dict[str, Any] = json.loads(body)
    return result


def daemon_events(d: Daemon, since: float) -> list[dict[str, Any]]:
    client = d.client()
    try:
        return [e for e in client.events(decode=True, since=since, until=time.time() + 0.5,
                                         filters={"type": "daemon"})]
    finally:
        client.close()


def wait_for(predicate: Any, what: str, d: Daemon) -> None:
    """Polls (SIGHUP is handled asynchronously); gives up after a generous while."""
    for _ in range(200):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} never happened:\n{d.log()}")


def test_daemon_json_values_are_applied(configured: ConfiguredDaemon) -> None:
    got = info(configured)
    assert got["Labels"] == ["pydt.site=one"]
    assert got["RegistryConfig"]["Mirrors"] == ["https://pydt-mirror.invalid/"]
    assert "10.66.0.0/16" in got["RegistryConfig"]["InsecureRegistryCIDRs"]


def run_refused(tmp_path: Path, config: dict[str, Any]) -> str:
    """pydockerd started with ``config`` and the harness's flags: it must refuse, before touching
    anything. Returns what it printed."""
    d = ConfiguredDaemon(tmp_path, config)
    proc = subprocess.run(d.argv(), capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 1, proc.stderr
    assert not d.socket.exists() and not leftovers(d)
    return proc.stderr


def test_a_key_given_as_a_flag_too_is_refused_at_start(tmp_path: Path) -> None:
    # The harness passes --debug and --bridge, so the file must not.
    err = run_refused(tmp_path, {"debug": True, "bridge": "pydtother"})
    assert (f"unable to configure the Docker daemon with file {tmp_path / 'daemon.json'}: "
            "the following directives are specified both as a flag and in the configuration "
            "file: ") in err
    assert "debug: (from flag: true, from file: true)" in err
    assert "bridge: (from flag: pydt" in err and ", from file: pydtother)" in err


def test_an_unknown_key_is_refused_at_start(tmp_path: Path) -> None:
    err = run_refused(tmp_path, {"storage-driver": "vfs"})
    assert "the following directives don't match any configuration option: storage-driver" \
        in err


def test_a_missing_config_file_given_explicitly_is_refused(tmp_path: Path) -> None:
    d = ConfiguredDaemon(tmp_path, {})
    d.config_file.unlink()
    proc = subprocess.run(d.argv(), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert f"open {d.config_file}: no such file or directory" in proc.stderr


def test_sighup_reloads_what_dockerd_reloads(configured: ConfiguredDaemon) -> None:
    since = time.time()
    configured.write_config({"labels": ["pydt.site=two", "pydt.rack=3"],
                             "max-concurrent-uploads": 1,
                             "registry-mirrors": ["https://pydt-mirror2.invalid"],
                             "insecure-registries": ["10.67.0.0/16"]})
    assert configured.proc is not None
    configured.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: info(configured)["Labels"] == ["pydt.site=two", "pydt.rack=3"],
             "the new labels", configured)
    registry = info(configured)["RegistryConfig"]
    assert registry["Mirrors"] == ["https://pydt-mirror2.invalid/"]
    assert "10.67.0.0/16" in registry["InsecureRegistryCIDRs"]
    reloads = [e for e in daemon_events(configured, since) if e["Action"] == "reload"]
    assert len(reloads) == 1
    assert reloads[0]["Actor"]["ID"] == info(configured)["ID"]  # the daemon's, as dockerd's
    attributes = reloads[0]["Actor"]["Attributes"]
    assert attributes["labels"] == '["pydt.site=two","pydt.rack=3"]'
    assert attributes["max-concurrent-uploads"] == "1"
    # Not in the file any more: back to the default (no flag set it), as dockerd resets it.
    assert attributes["max-concurrent-downloads"] == "3"
    assert attributes["registry-mirrors"] == '["https://pydt-mirror2.invalid"]'
    assert attributes["debug"] == "true"  # kept from the --debug flag
    assert "Reloaded configuration:" in configured.log()


@pytest.mark.parametrize("bad", ['{"labels": ["pydt.site=broken"]',  # not JSON
                                 {"labels": ["pydt.site=x"], "no-such-key": 1},
                                 {"labels": ["pydt.site=x"], "debug": False}])  # a flag too
def test_a_bad_file_on_sighup_keeps_the_running_configuration(
        configured: ConfiguredDaemon, bad: Any) -> None:
    since = time.time()
    configured.write_config(bad)
    assert configured.proc is not None
    configured.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "Error reconfiguring the daemon" in configured.log(), "the error log",
             configured)
    assert info(configured)["Labels"] == ["pydt.site=one"]
    assert [e for e in daemon_events(configured, since) if e["Action"] == "reload"] == []
    assert configured.proc.poll() is None


def test_socket_activation_serves_on_the_passed_socket(tmp_path: Path) -> None:
    d = ActivatedDaemon(tmp_path)
    try:
        d.start()
        assert "fd://" in d.argv()
        version = d.client().version()
        assert version["ApiVersion"]
        out = d.cli("info", "--format", "{{.DockerRootDir}}").stdout.strip()
        assert out == str(d.data_root)
        assert d.notification() == "READY=1"
        assert d.proc is not None
        d.proc.send_signal(signal.SIGHUP)  # an empty daemon.json: a reload that changes nothing
        assert (d.notification(), d.notification()) == ("RELOADING=1", "READY=1")
        stopped_clean(d)
        assert d.notification() == "STOPPING=1"
        # The socket is systemd's: the daemon leaves it where it was.
        assert d.socket.exists()
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.stop()
        d.close()


def test_fd_host_without_activation_is_refused(tmp_path: Path) -> None:
    d = ActivatedDaemon(tmp_path)
    d.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    proc = subprocess.run(d.argv(), capture_output=True, text=True, timeout=60, check=False,
                          env=env)
    assert proc.returncode != 0
    assert "no sockets found via socket activation" in proc.stderr
    assert not leftovers(d)

