"""Container lifecycle through the real docker CLI and docker-py, on real namespaces."""

from __future__ import annotations

import json
import subprocess
import time

import docker
import pytest

from tests.e2e.harness import Daemon, detached, leftovers

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_run_rm_echo(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "busybox", "echo", "hi")
    assert out.stdout == "hi\n"
    assert daemon.cli("ps", "-aq").stdout == ""


def test_run_exit_code_propagates(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False)
    assert out.returncode == 3


def test_stdin_is_piped_with_dash_i(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "-i", "busybox", "cat", input=b"hello\nworld\n")
    assert out.stdout == "hello\nworld\n"


def test_stdout_and_stderr_stay_apart(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2")
    assert out.stdout == "out\n"
    assert out.stderr == "err\n"


def test_user_process_is_pid_1_with_its_own_hostname(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "--hostname", "boxy", "busybox", "sh", "-c",
                     "hostname; ps -o pid,comm; true")
    lines = out.stdout.splitlines()
    assert lines[0] == "boxy"
    processes = [line.split() for line in lines[2:]]
    assert processes[0] == ["1", "sh"]
    assert [comm for _, comm in processes] == ["sh", "ps"]  # nothing of the host


def test_default_capabilities_are_dockers(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "busybox", "grep", "CapEff", "/proc/self/status")
    assert out.stdout.split()[1] == "00000000a80425fb"


def test_missing_executable_exits_127(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "busybox", "nosuchcommand", check=False)
    assert out.returncode == 127
    assert "executable file not found" in out.stderr
    assert daemon.cli("ps", "-aq").stdout == ""


def test_directory_as_command_exits_126(daemon: Daemon, busybox: str) -> None:
    out = daemon.cli("run", "--rm", "busybox", "/etc", check=False)
    assert out.returncode == 126
    assert "permission denied" in out.stderr.lower()


def test_unknown_image_is_404(client: docker.DockerClient) -> None:
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("nosuchimage:latest", "true")


def test_name_conflict_is_409_with_dockers_message(client: docker.DockerClient,
                                                   busybox: str) -> None:
    c = client.containers.create("busybox", "true", name="twice")
    try:
        with pytest.raises(docker.errors.APIError) as err:
            client.containers.create("busybox", "true", name="twice")
        assert err.value.status_code == 409
        assert 'The container name "/twice" is already in use' in str(err.value)
    finally:
        c.remove()


def test_invalid_name_and_capability_are_400_and_leave_nothing(
        daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    before = client.containers.list(all=True)
    with pytest.raises(docker.errors.APIError) as err:
        client.containers.create("busybox", "true", name="bad name!")
    assert err.value.status_code == 400
    with pytest.raises(docker.errors.APIError) as err:
        client.containers.create("busybox", "true", cap_add=["CAP_NOPE"])
    assert err.value.status_code == 400
    assert "unknown capability" in str(err.value)
    assert client.containers.list(all=True) == before


def test_detached_logs_stop_wait_rm(daemon: Daemon, client: docker.DockerClient,
                                    busybox: str) -> None:
    cid = daemon.cli("run", "-d", "--name", "ticker", "busybox", "sh", "-c",
                     "trap 'exit 0' TERM; i=0; while true; do echo line$i; i=$((i+1)); "
                     "sleep 0.1; done").stdout.strip()
    try:
        deadline = time.time() + 10
        while "line3" not in daemon.cli("logs", "ticker").stdout:
            assert time.time() < deadline
            time.sleep(0.1)
        tail = daemon.cli("logs", "--tail", "2", "ticker").stdout.splitlines()
        assert len(tail) == 2
        stamped = daemon.cli("logs", "-t", "--tail", "1", "ticker").stdout
        assert stamped[:4].isdigit() and stamped[10] == "T"
        c = client.containers.get("ticker")
        assert c.status == "running"
        assert c.attrs["State"]["Pid"] > 0
        assert c.attrs["Name"] == "/ticker"
        assert c.attrs["Image"].startswith("sha256:")
        daemon.cli("stop", "ticker")
        c.reload()
        assert c.status == "exited"
        assert c.attrs["State"]["ExitCode"] == 0
        assert daemon.cli("wait", "ticker").stdout.strip() == "0"
    finally:
        daemon.cli("rm", "-f", cid)
    assert all(c.name != "ticker" for c in client.containers.list(all=True))


def test_kill_with_signal_and_restart(daemon: Daemon, client: docker.DockerClient,
                                      busybox: str) -> None:
    # PID 1 gets only the signals it handles (as with Docker): the trap proves delivery.
    trap = "trap 'exit 42' USR1; while true; do sleep 0.1; done"
    with detached(client, ["sh", "-c", trap]) as c:
        time.sleep(0.3)
        daemon.cli("kill", "-s", "USR1", c.id)
        assert c.wait(timeout=10)["StatusCode"] == 42
        daemon.cli("restart", "-t", "0", c.id)
        c.reload()
        assert c.status == "running"


def test_exec_output_exit_code_and_pid_namespace(daemon: Daemon, client: docker.DockerClient,
                                                 busybox: str) -> None:
    with detached(client, ["sleep", "300"]) as c:
        out = daemon.cli("exec", c.id, "sh", "-c", "echo $$; exit 5", check=False)
        assert out.returncode == 5
        assert out.stdout.strip() != "1"
        result = c.exec_run(["cat", "/proc/1/cmdline"])
        assert result.exit_code == 0
        assert result.output.startswith(b"sleep")
        out = daemon.cli("exec", "-i", c.id, "cat", input=b"piped\n")
        assert out.stdout == "piped\n"
        out = daemon.cli("exec", c.id, "nosuch", check=False)
        assert out.returncode == 126  # dockerd's for any exec that could not start


def test_top_rename_and_ps_filters(daemon: Daemon, client: docker.DockerClient,
                                   busybox: str) -> None:
    with detached(client, ["sleep", "300"], name="topme", labels={"suite": "e2e"}) as c:
        top = c.top()
        assert any("sleep" in " ".join(p) for p in top["Processes"])
        daemon.cli("rename", "topme", "renamed")
        names = daemon.cli("ps", "--filter", "label=suite=e2e", "--format",
                           "{{.Names}}").stdout.split()
        assert names == ["renamed"]
        assert daemon.cli("ps", "-q", "--filter", "status=exited").stdout.strip() == ""
        assert client.containers.list(filters={"name": "renamed"})[0].id == c.id


def test_docker_py_run_returns_output(client: docker.DockerClient, busybox: str) -> None:
    assert client.containers.run("busybox", ["echo", "from-py"], remove=True) == b"from-py\n"


def test_wait_next_exit_and_removed_conditions(daemon: Daemon, busybox: str) -> None:
    status, _, body = daemon.request("POST", "/containers/create",
                                     {"Image": "busybox", "Cmd": ["sh", "-c", "exit 7"]})
    cid = json.loads(body)["Id"]
    status, _, body = daemon.request("POST", f"/containers/{cid}/wait?condition=bogus")
    assert status == 400
    daemon.request("POST", f"/containers/{cid}/start")
    status, _, body = daemon.request("POST", f"/containers/{cid}/wait")
    assert json.loads(body)["StatusCode"] == 7
    status, _, _ = daemon.request("DELETE", f"/containers/{cid}")
    assert status == 204
    status, _, body = daemon.request("GET", f"/containers/{cid}/json")
    assert status == 404
    assert json.loads(body)["message"] == f"No such container: {cid}"


def test_start_twice_is_304_and_rm_running_is_409(daemon: Daemon, client: docker.DockerClient,
                                                  busybox: str) -> None:
    with detached(client, ["sleep", "300"]) as c:
        status, _, _ = daemon.request("POST", f"/containers/{c.id}/start")
        assert status == 304
        status, _, body = daemon.request("DELETE", f"/containers/{c.id}")
        assert status == 409
        assert "container is running" in json.loads(body)["message"]
    status, _, _ = daemon.request("POST", f"/containers/{c.id}/stop")
    assert status == 404


def test_interactive_tty_shell(daemon: Daemon, busybox: str) -> None:
    """`docker run -it` in a real pseudo-terminal (script(1) gives the CLI one)."""
    cmd = (f"docker -H {daemon.url} run --rm -it busybox sh -c "
           "'tty; stty size; echo done'")
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True,
                          timeout=60, input=b"", check=False)
    out = proc.stdout.decode(errors="replace").replace("\r", "")
    assert "/dev/pts/0" in out
    assert "done" in out
    assert proc.returncode == 0


def test_failed_runs_leave_nothing_behind(daemon: Daemon, busybox: str) -> None:
    daemon.cli("run", "--rm", "busybox", "nosuchcommand", check=False)
    daemon.cli("run", "--rm", "busybox", "/etc", check=False)
    left = [x for x in leftovers(daemon) if not x.startswith(("interface", "iptables"))]
    assert left == []


def _in_pty(daemon: Daemon, command: str) -> str:
    """Run a docker CLI command in a 50x132 pseudo-terminal made by script(1)."""
    proc = subprocess.run(["script", "-qec", f"stty rows 50 cols 132; {command}",
                           "/dev/null"], capture_output=True, timeout=60, input=b"",
                          env={"DOCKER_HOST": daemon.url, "PATH": "/usr/local/bin:/usr/bin:/bin"},
                          check=False)
    return proc.stdout.decode(errors="replace").replace("\r", "")


def test_tty_gets_the_terminal_size_for_run_and_exec(daemon: Daemon, busybox: str) -> None:
    assert "50 132" in _in_pty(daemon, "docker run --rm -it busybox stty size")
    cid = daemon.cli("run", "-d", "busybox", "sleep", "300").stdout.strip()
    try:
        out = _in_pty(daemon, f"docker exec -it {cid} sh -c 'tty; stty size'")
        assert "/dev/pts/" in out and "50 132" in out
    finally:
        daemon.cli("rm", "-f", cid)


def test_logs_since_and_until(daemon: Daemon, busybox: str) -> None:
    cid = daemon.cli("run", "-d", "busybox", "sh", "-c",
                     "echo early; sleep 2; echo late; sleep 300").stdout.strip()
    try:
        time.sleep(1)
        middle = int(time.time())
        deadline = time.time() + 10
        while "late" not in daemon.cli("logs", cid).stdout:
            assert time.time() < deadline
            time.sleep(0.2)
        assert daemon.cli("logs", "--since", str(middle), cid).stdout == "late\n"
        assert daemon.cli("logs", "--until", str(middle), cid).stdout == "early\n"
    finally:
        daemon.cli("rm", "-f", cid)
