"""Replays docker.sock.example against a live daemon: the documented answers stay true."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

EXAMPLE = Path(__file__).parents[2] / "docker.sock.example"
DEFAULT_SOCKET = "/var/run/pydocker.sock"


def exchanges() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each `$ ` line of the example file."""
    out: list[tuple[str, list[str]]] = []
    for line in EXAMPLE.read_text().splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out and not line.startswith("#"):
            out[-1][1].append(line)
    return [(cmd, _strip_trailing_blank(lines)) for cmd, lines in out]


def _strip_trailing_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _pattern(expected: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in expected.split("<...>")) + "$")


@pytest.mark.parametrize("command,expected", exchanges(), ids=lambda v: str(v)[:60])
def test_example_exchange(daemon: Daemon, busybox: str, command: str,
                          expected: list[str]) -> None:
    run = command.replace(DEFAULT_SOCKET, str(daemon.socket))
    proc = subprocess.run(["bash", "-c", run], capture_output=True, text=True, timeout=30,
                          check=False)
    got = _strip_trailing_blank(proc.stdout.replace("\r\n", "\n").split("\n"))
    assert len(got) == len(expected), f"{command}\n--- got:\n" + "\n".join(got)
    for want, line in zip(expected, got):
        assert _pattern(want).match(line), f"{command}\nwant: {want!r}\ngot:  {line!r}"
