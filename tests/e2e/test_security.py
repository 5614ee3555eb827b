"""What the runtime promises inside the container: init, users, capabilities, seccomp,
read-only root, masked paths, working directory, attach and logs -f."""

from __future__ import annotations

import subprocess
import time

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def run(daemon: Daemon, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return daemon.cli("run", "--rm", *args, check=check)


def test_init_reaps_zombies(daemon: Daemon, client: docker.DockerClient, busybox: str) -> None:
    # The orphan is re-parented to PID 1; `sleep` as PID 1 never reaps it, tini does.
    cmd = ["sh", "-c", "(sleep 0.1 &); exec sleep 300"]
    for init, zombies in ((False, "1"), (True, "0")):
        c = client.containers.run("busybox", cmd, detach=True, init=init)
        try:
            time.sleep(0.6)
            out = c.exec_run(["sh", "-c", "ps -o stat | grep -c '^Z' || true"]).output
            assert out.decode().strip() == zombies, (init, out)
        finally:
            c.remove(force=True)
    assert run(daemon, "--init", "busybox", "cat", "/proc/1/cmdline").stdout.startswith(
        "/dev/init")


def test_user_and_group(daemon: Daemon, busybox: str) -> None:
    assert run(daemon, "-u", "www-data", "busybox", "id").stdout.strip() == \
        "uid=33(www-data) gid=33(www-data) groups=33(www-data)"
    assert run(daemon, "-u", "1000:100", "busybox", "id", "-u").stdout.strip() == "1000"
    caps = run(daemon, "-u", "1000", "busybox", "grep", "CapEff", "/proc/self/status").stdout
    assert caps.split()[1] == "0000000000000000"


def test_cap_add_drop_and_privileged(daemon: Daemon, busybox: str) -> None:
    out = run(daemon, "--cap-add", "NET_ADMIN", "busybox", "ip", "addr", "add", "10.9.9.9/32",
              "dev", "lo", check=False)
    assert out.returncode == 0, out.stderr
    out = run(daemon, "busybox", "ip", "addr", "add", "10.9.9.9/32", "dev", "lo", check=False)
    assert out.returncode != 0
    out = run(daemon, "--cap-drop", "CHOWN", "busybox", "chown", "1:1", "/tmp", check=False)
    assert out.returncode != 0
    bnd = run(daemon, "--privileged", "busybox", "grep", "CapEff", "/proc/self/status").stdout
    assert int(bnd.split()[1], 16) > 0xa80425fb


def test_seccomp_blocks_namespace_and_mount_syscalls(daemon: Daemon, busybox: str) -> None:
    out = run(daemon, "busybox", "unshare", "-n", "true", check=False)
    assert out.returncode != 0
    out = run(daemon, "--security-opt", "seccomp=unconfined", "--cap-add", "SYS_ADMIN",
              "busybox", "unshare", "-n", "true", check=False)
    assert out.returncode == 0, out.stderr
    status = run(daemon, "busybox", "grep", "Seccomp:", "/proc/self/status").stdout
    assert status.split()[1] == "2"


def test_no_new_privileges(daemon: Daemon, busybox: str) -> None:
    out = run(daemon, "--security-opt", "no-new-privileges", "busybox", "grep", "NoNewPrivs",
              "/proc/self/status").stdout
    assert out.split()[1] == "1"


def test_read_only_root_and_masked_paths(daemon: Daemon, busybox: str) -> None:
    out = run(daemon, "--read-only", "busybox", "touch", "/x", check=False)
    assert out.returncode != 0 and "Read-only file system" in out.stderr
    assert run(daemon, "busybox", "cat", "/proc/kcore", check=False).stdout == ""
    out = run(daemon, "busybox", "sh", "-c", "echo 1 > /proc/sys/kernel/domainname",
              check=False)
    assert out.returncode != 0


def test_working_dir_is_created_and_env_set(daemon: Daemon, busybox: str) -> None:
    out = run(daemon, "-w", "/made/for/me", "-e", "GREETING=hi", "busybox", "sh", "-c",
              "pwd; echo $GREETING; echo $HOSTNAME")
    cwd, greeting, hostname = out.stdout.split()
    assert (cwd, greeting) == ("/made/for/me", "hi")
    assert len(hostname) == 12


def test_attach_and_logs_follow(daemon: Daemon, client: docker.DockerClient,
                                busybox: str) -> None:
    c = client.containers.run("busybox", ["sh", "-c", "sleep 1; echo one; sleep 0.5; echo two"],
                              detach=True)
    try:
        attached = subprocess.run(["docker", "-H", daemon.url, "attach", c.id],
                                  capture_output=True, text=True, timeout=30, check=False)
        assert "two" in attached.stdout
        follow = daemon.cli("logs", "-f", c.id)
        assert follow.stdout == "one\ntwo\n"
    finally:
        c.remove(force=True)


def test_prune_removes_stopped_containers(daemon: Daemon, client: docker.DockerClient,
                                          busybox: str) -> None:
    stopped = client.containers.create("busybox", "true", labels={"prune": "me"})
    running = client.containers.run("busybox", ["sleep", "300"], detach=True)
    try:
        result = client.containers.prune(filters={"label": "prune=me"})
        assert stopped.id in result["ContainersDeleted"]
        running.reload()
        assert running.status == "running"
    finally:
        running.remove(force=True)
    time.sleep(0)
