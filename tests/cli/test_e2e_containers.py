"""``pydocker`` against a real pydockerd: run, ps, exec, lifecycle, logs, errors."""

from __future__ import annotations

import json
import time

import pytest

from tests.cli.conftest import Runner
from tests.e2e.harness import Daemon

pytestmark = pytest.mark.root


def test_run_rm_prints_output(pd: Runner, busybox: str) -> None:
    r = pd("run", "--rm", "busybox", "echo", "hi")
    assert (r.returncode, r.stdout, r.stderr) == (0, "hi\n", "")


def test_run_separates_stdout_and_stderr_and_returns_the_exit_code(
        pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-exit3")
    r = pd("run", "--name", "cli-exit3", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")


def test_run_interactive_forwards_stdin_and_half_closes(pd: Runner, busybox: str) -> None:
    r = pd("run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo eof-seen", input="line\n")
    assert (r.returncode, r.stdout) == (0, "line\neof-seen\n")


def test_run_options_reach_the_container(pd: Runner, busybox: str) -> None:
    r = pd("run", "--rm", "-e", "GREETING=hello", "-w", "/tmp", "-u", "65534",
           "--hostname", "box1", "busybox", "sh", "-c",
           'echo "$GREETING $(pwd) $(id -u) $(hostname)"')
    assert (r.returncode, r.stdout) == (0, "hello /tmp 65534 box1\n")


def test_run_failures_exit_like_docker(pd: Runner, busybox: str) -> None:
    r = pd("run", "--rm", "busybox", "nosuchcmd")
    assert r.returncode == 127
    assert r.stderr.startswith("pydocker: Error response from daemon: ")
    assert "executable file not found" in r.stderr
    assert r.stderr.endswith("\n\nRun 'pydocker run --help' for more information\n")
    r = pd("run", "--rm", "busybox", "/etc/passwd")
    assert r.returncode == 126, r.stderr
    r = pd("run", "--rm", "no-such-image-here")
    assert r.returncode == 125
    assert r.stderr.startswith("Unable to find image 'no-such-image-here:latest' locally\n"
                               "pydocker: Error response from daemon: ")


def test_run_detached_then_ps_shows_docker_columns(pd: Runner, busybox: str,
                                                   cleanup: list[str]) -> None:
    cleanup.append("cli-web")
    r = pd("run", "-d", "--name", "cli-web", "-p", "18080:80", "busybox", "sleep", "100")
    assert r.returncode == 0 and len(r.stdout.strip()) == 64
    ps = pd("ps")
    header, *rows = ps.stdout.splitlines()
    assert header.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                              "PORTS", "NAMES"]
    row = next(line for line in rows if line.endswith("cli-web"))
    assert row.startswith(r.stdout[:12] + "   busybox   \"sleep 100\"")
    assert "Up " in row and "0.0.0.0:18080->80/tcp" in row
    assert pd("ps", "-q").stdout.split()[0:1] and r.stdout[:12] in pd("ps", "-q").stdout
    names = pd("ps", "--format", "{{.Names}}:{{.Image}}:{{.State}}").stdout.splitlines()
    assert "cli-web:busybox:running" in names
    js = [json.loads(line) for line in pd("ps", "--format", "json").stdout.splitlines()]
    assert any(j["Names"] == "cli-web" and j["ID"] == r.stdout[:12] for j in js)
    assert r.stdout.strip() in pd("ps", "--no-trunc", "-q").stdout
    filtered = pd("ps", "-a", "-f", "name=cli-web", "--format", "{{.Names}}").stdout
    assert filtered == "cli-web\n"


def test_exec_exit_code_stdin_env_and_user(pd: Runner, busybox: str,
                                           cleanup: list[str]) -> None:
    cleanup.append("cli-ex")
    assert pd("run", "-d", "--name", "cli-ex", "busybox", "sleep", "100").returncode == 0
    assert pd("exec", "cli-ex", "sh", "-c", "exit 3").returncode == 3
    r = pd("exec", "-e", "X=1", "-w", "/tmp", "-u", "65534", "cli-ex", "sh", "-c",
           'echo "$X $(pwd) $(id -u)"')
    assert (r.returncode, r.stdout) == (0, "1 /tmp 65534\n")
    r = pd("exec", "-i", "cli-ex", "sh", "-c", "cat; echo done", input="abc\n")
    assert r.stdout == "abc\ndone\n"
    r = pd("exec", "cli-ex", "nosuchcmd")
    # like docker: the daemon reports this in-band, on the exec's stdout, and the exec's
    # exit code is dockerd's 126 for any exec that could not start
    assert r.returncode == 126 and "executable file not found" in r.stdout
    assert pd("exec", "-d", "cli-ex", "touch", "/tmp/bg").returncode == 0
    time.sleep(0.3)
    assert pd("exec", "cli-ex", "ls", "/tmp/bg").returncode == 0


def test_lifecycle_verbs(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-life2")
    assert pd("create", "--name", "cli-life", "busybox", "sleep", "100").returncode == 0
    cleanup.append("cli-life")

    def state() -> str:
        return pd("inspect", "-f", "{{.State.Status}}", "cli-life2").stdout.strip()

    assert pd("rename", "cli-life", "cli-life2").returncode == 0
    assert pd("start", "cli-life2").stdout == "cli-life2\n"
    assert state() == "running"
    assert pd("pause", "cli-life2").stdout == "cli-life2\n" and state() == "paused"
    assert pd("unpause", "cli-life2").stdout == "cli-life2\n" and state() == "running"
    top = pd("top", "cli-life2").stdout.splitlines()
    assert top[0].startswith("UID                 PID") and "sleep 100" in top[1]
    assert pd("restart", "-t", "1", "cli-life2").returncode == 0 and state() == "running"
    assert pd("kill", "-s", "KILL", "cli-life2").stdout == "cli-life2\n"
    assert pd("wait", "cli-life2").stdout == "137\n"
    assert state() == "exited"
    r = pd("rm", "cli-life2")
    assert (r.returncode, r.stdout) == (0, "cli-life2\n")


def test_missing_containers(pd: Runner, daemon: Daemon) -> None:
    for verb in ("stop", "start", "rm", "kill", "restart", "pause", "logs", "top", "port",
                 "wait", "inspect"):
        r = pd(verb, "cli-nope")
        assert r.returncode == 1, verb
        assert ("No such container: cli-nope" in r.stderr or
                "No such object: cli-nope" in r.stderr), (verb, r.stderr)
    r = pd("stop", "cli-nope")
    assert r.stderr == "Error response from daemon: No such container: cli-nope\n"
    r = pd("rename", "cli-nope", "cli-x")
    assert r.stderr.endswith("Error: failed to rename container named cli-nope\n")


def test_logs(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-logs")
    pd("run", "--name", "cli-logs", "busybox", "sh", "-c",
       "for i in 1 2 3; do echo out$i; echo err$i >&2; done")
    r = pd("logs", "cli-logs")
    assert r.stdout == "out1\nout2\nout3\n" and r.stderr == "err1\nerr2\nerr3\n"
    tail = pd("logs", "--tail", "1", "cli-logs")  # one line, whichever stream ends the log
    assert (tail.stdout + tail.stderr).count("\n") == 1
    stamped = pd("logs", "-t", "cli-logs").stdout.splitlines()
    assert stamped[0].endswith("Z out1") and stamped[0][:4].isdigit()
    assert pd("logs", "--since", "1h", "cli-logs").stdout == "out1\nout2\nout3\n"


def test_logs_follow_ends_with_the_container(pd: Runner, busybox: str,
                                             cleanup: list[str]) -> None:
    cleanup.append("cli-follow")
    pd("run", "-d", "--name", "cli-follow", "busybox", "sh", "-c",
       "echo a; sleep 1; echo b")
    r = pd("logs", "-f", "cli-follow", timeout=20)
    assert r.stdout == "a\nb\n"


def test_port_and_container_inspect(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-port")
    pd("run", "-d", "--name", "cli-port", "-p", "18081:80", "-p", "18082:53/udp", "busybox",
       "sleep", "100")
    # Each port on 0.0.0.0 and [::], as dockerd 20.10 publishes it.
    assert pd("port", "cli-port").stdout == ("53/udp -> 0.0.0.0:18082\n53/udp -> [::]:18082\n"
                                             "80/tcp -> 0.0.0.0:18081\n80/tcp -> [::]:18081\n")
    assert pd("port", "cli-port", "80").stdout == "0.0.0.0:18081\n[::]:18081\n"
    r = pd("port", "cli-port", "81")
    assert (r.returncode, r.stderr) == (1, "Error: No public port '81' published for cli-port\n")
    r = pd("container", "inspect", "cli-port", "cli-nope")
    assert r.returncode == 1
    assert json.loads(r.stdout)[0]["Name"] == "/cli-port"
    assert r.stderr == "Error response from daemon: No such container: cli-nope\n"
    r = pd("inspect", "-f", "{{.Name}} {{.State.Running}} {{json .Config.Cmd}}", "cli-port")
    assert r.stdout == '/cli-port true ["sleep","100"]\n'


def test_stats_no_stream(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-stats")
    pd("run", "-d", "--name", "cli-stats", "busybox", "sleep", "100")
    lines = pd("stats", "--no-stream", "cli-stats").stdout.splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/",
                                "LIMIT", "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert lines[1].split()[1] == "cli-stats" and lines[1].split()[-1] == "1"
    fmt = pd("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "cli-stats").stdout
    assert fmt == "cli-stats 1\n"


def test_cp_both_ways(pd: Runner, busybox: str, cleanup: list[str], tmp_path: object) -> None:
    from pathlib import Path
    base = Path(str(tmp_path))
    cleanup.append("cli-cp")
    pd("run", "-d", "--name", "cli-cp", "busybox", "sleep", "100")
    (base / "in.txt").write_text("payload\n")
    assert pd("cp", str(base / "in.txt"), "cli-cp:/tmp/").returncode == 0
    assert pd("cp", str(base / "in.txt"), "cli-cp:/tmp/renamed.txt").returncode == 0
    assert pd("exec", "cli-cp", "cat", "/tmp/in.txt", "/tmp/renamed.txt").stdout == (
        "payload\npayload\n")
    assert pd("cp", "cli-cp:/tmp/renamed.txt", str(base / "out.txt")).returncode == 0
    assert (base / "out.txt").read_text() == "payload\n"
    assert pd("cp", "cli-cp:/etc", str(base)).returncode == 0
    assert (base / "etc" / "passwd").exists()


def test_events_since(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-ev")
    since = str(int(time.time()) - 1)
    pd("create", "--name", "cli-ev", "busybox", "true")
    r = pd("events", "--since", since, "--until", str(int(time.time()) + 1),
           "-f", "container=cli-ev", timeout=20)
    assert " container create " in r.stdout and "name=cli-ev" in r.stdout
    r = pd("events", "--since", since, "--until", str(int(time.time()) + 1),
           "-f", "container=cli-ev", "--format", "{{.Action}}", timeout=20)
    assert r.stdout.splitlines()[0] == "create"


def test_daemon_errors_and_usage(pd: Runner, daemon: Daemon) -> None:
    r = pd("ps", "--bogus")
    assert r.returncode == 125 and r.stderr.startswith("unknown flag: --bogus\n")
    r = pd("ps", env={"PYDOCKER_HOST": "unix:///nonexistent.sock"})
    assert (r.returncode, r.stderr) == (1, ("Cannot connect to the Docker daemon at "
                                           "unix:///nonexistent.sock. Is the docker daemon "
                                           "running?\n"))
    r = pd("-H", daemon.url, "version", "-f", "{{.Server.ApiVersion}}",
           env={"PYDOCKER_HOST": "unix:///nonexistent.sock"})
    assert r.returncode == 0 and r.stdout.strip().startswith("1.")
