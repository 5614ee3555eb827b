"""Our ``ps``, ``images``, ``inspect`` print exactly what docker CLI 28 prints for the same
daemon (retried a few times: a relative time can tick over between the two runs)."""

from __future__ import annotations

import time

import pytest

from tests.cli.conftest import Runner
from tests.e2e.harness import Daemon

pytestmark = pytest.mark.root


def same_as_docker(pd: Runner, daemon: Daemon, *args: str) -> str:
    last = ("", "")
    for _ in range(4):
        ours = pd(*args)
        theirs = daemon.cli(*args, check=False)
        assert ours.returncode == theirs.returncode, (ours.stderr, theirs.stderr)
        if ours.stdout == theirs.stdout:
            return ours.stdout
        last = (ours.stdout, theirs.stdout)
        time.sleep(0.3)
    assert last[0] == last[1]
    return last[0]


@pytest.fixture
def containers(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup += ["cli-lay-up", "cli-lay-exit", "cli-lay-created"]
    pd("run", "-d", "--name", "cli-lay-up", "-p", "18090:80", "-p", "18091-18092:91-92/udp",
       "-l", "tier=web", "busybox", "sleep", "100")
    pd("run", "--name", "cli-lay-exit", "busybox", "sh", "-c", "echo a long command; exit 2")
    pd("create", "--name", "cli-lay-created", "busybox", "echo", "\"quoted\"")


@pytest.mark.parametrize("args", [
    ("ps",), ("ps", "-a"), ("ps", "-a", "--no-trunc"), ("ps", "-a", "-q"), ("ps", "-a", "-s"),
    ("ps", "-a", "--format", "json"),
    ("ps", "-a", "--format", "table {{.ID}}\t{{.Names}}\t{{.Label \"tier\"}}\t{{.Networks}}"),
    ("ps", "-a", "--format", "{{.Names}}: {{.Status}} {{.Ports}}"),
    ("ps", "-a", "-f", "status=exited"), ("ps", "-n", "2"), ("ps", "-l"),
])
def test_ps(pd: Runner, daemon: Daemon, containers: None, args: tuple[str, ...]) -> None:
    same_as_docker(pd, daemon, *args)


def test_images_history_and_inspect(pd: Runner, daemon: Daemon, busybox: str,
                                    containers: None) -> None:
    daemon.cli("tag", "busybox", "cli-layout/tagged:v1")
    try:
        for args in (("images",), ("images", "--no-trunc"), ("images", "-q"),
                     ("images", "busybox"), ("images", "--format", "{{.Repository}}:{{.Tag}}"),
                     ("images", "--format", "json"), ("images", "--digests"),
                     ("history", "busybox"), ("history", "--no-trunc", "busybox"),
                     ("image", "inspect", "busybox"),
                     ("inspect", "-f", "{{.Id}} {{json .Config.Cmd}}", "busybox")):
            same_as_docker(pd, daemon, *args)
    finally:
        daemon.cli("rmi", "cli-layout/tagged:v1")


def test_container_inspect(pd: Runner, daemon: Daemon, containers: None) -> None:
    for args in (("inspect", "cli-lay-up"), ("container", "inspect", "cli-lay-exit"),
                 ("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}",
                  "cli-lay-exit", "cli-lay-up"),
                 ("inspect", "-f", "{{json .Config.Labels}} {{index .Config.Labels \"tier\"}}",
                  "cli-lay-up"),
                 ("inspect", "-f", ("{{range $p, $b := .NetworkSettings.Ports}}{{$p}} "
                  "{{end}}"), "cli-lay-up"),
                 ("inspect", "--type", "container", "-f", "{{.Config.Cmd}}",
                  "cli-lay-created")):
        same_as_docker(pd, daemon, *args)


def test_networks_volumes_and_df(pd: Runner, daemon: Daemon, busybox: str) -> None:
    daemon.cli("network", "create", "cli-lay-net")
    daemon.cli("volume", "create", "cli-lay-vol")
    try:
        for args in (("network", "ls"), ("network", "ls", "--no-trunc"), ("network", "ls", "-q"),
                     ("network", "ls", "--format", "json"), ("network", "inspect",
                                                              "cli-lay-net"),
                     ("volume", "ls"), ("volume", "ls", "--format", "json"),
                     ("volume", "inspect", "cli-lay-vol"), ("system", "df")):
            same_as_docker(pd, daemon, *args)
    finally:
        daemon.cli("network", "rm", "cli-lay-net")
        daemon.cli("volume", "rm", "cli-lay-vol")
