"""Fixtures for the pydocker CLI tests: the e2e daemon and busybox, plus a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import busybox, busybox_tar, client, daemon  # noqa: F401
from tests.e2e.harness import Daemon

PYDOCKER = str(Path(sys.executable).parent / "pydocker")

Runner = Callable[..., subprocess.CompletedProcess[str]]


def cli_env(d: Daemon) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["PYDOCKER_HOST"] = d.url
    return env


def runner(d: Daemon) -> Runner:
    """Run the real ``pydocker`` script against daemon ``d``."""

    def run(*args: str, input: str | bytes | None = None, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run([PYDOCKER, *args], input=data, capture_output=True,
                              timeout=timeout, env={**cli_env(d), **(env or {})},
                              check=False)
        return subprocess.CompletedProcess(proc.args, proc.returncode,
                                           proc.stdout.decode(errors="replace"),
                                           proc.stderr.decode(errors="replace"))

    return run


@pytest.fixture
def pd(daemon: Daemon) -> Runner:  # noqa: F811 - the fixture re-exported above
    """Run the real ``pydocker`` script against the test daemon."""
    return runner(daemon)


@pytest.fixture
def cleanup(daemon: Daemon) -> Iterator[list[str]]:  # noqa: F811
    """Names of containers to remove after the test (force)."""
    names: list[str] = []
    yield names
    for name in names:
        daemon.request("DELETE", f"/containers/{name}?force=1")
