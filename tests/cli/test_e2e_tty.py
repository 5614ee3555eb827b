"""``run -it`` / ``exec -it`` / ``attach`` in a real pseudo-terminal (the pty module)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from tests.cli.conftest import PYDOCKER, Runner, cli_env
from tests.e2e.harness import Daemon

pytestmark = pytest.mark.root


class Terminal:
    """A child process on the slave side of a new pty; we play the user on the master."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 30,
                 cols: int = 100) -> None:
        self.master, slave = pty.openpty()
        self.resize(rows, cols, slave)
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.seen = b""

    def resize(self, rows: int, cols: int, fd: int | None = None) -> None:
        fcntl.ioctl(self.master if fd is None else fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def expect(self, needle: bytes, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen in {self.seen!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:  # the child closed the pty
                    raise AssertionError(f"{needle!r} not seen in {self.seen!r}") from None

    def wait(self, timeout: float = 15) -> int:
        code = self.proc.wait(timeout)
        os.close(self.master)
        return code


def test_run_it_shell_with_resize(daemon: Daemon, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-tty")
    t = Terminal([PYDOCKER, "run", "-it", "--name", "cli-tty", "busybox", "sh"],
                 cli_env(daemon))
    t.expect(b"# ")
    t.send(b"echo $((6*7)); stty size\r")
    t.expect(b"42\r\n30 100\r\n")
    t.resize(40, 120)
    t.proc.send_signal(signal.SIGWINCH)
    time.sleep(0.3)
    t.send(b"stty size\r")
    t.expect(b"40 120\r\n")
    t.send(b"exit 7\r")
    assert t.wait() == 7


def test_detach_keys_leave_the_container_running_and_attach_comes_back(
        daemon: Daemon, busybox: str, pd: Runner, cleanup: list[str]) -> None:
    cleanup.append("cli-detach")
    t = Terminal([PYDOCKER, "run", "-it", "--name", "cli-detach", "busybox", "sh"],
                 cli_env(daemon))
    t.expect(b"# ")
    t.send(b"\x10\x11")  # ctrl-p ctrl-q
    assert t.wait() == 0
    assert pd("inspect", "-f", "{{.State.Running}}", "cli-detach").stdout == "true\n"
    t = Terminal([PYDOCKER, "attach", "cli-detach"], cli_env(daemon))
    time.sleep(0.5)
    t.send(b"echo back-$((1+1))\r")
    t.expect(b"back-2")
    t.send(b"exit 5\r")
    assert t.wait() == 5


def test_exec_it(daemon: Daemon, busybox: str, pd: Runner, cleanup: list[str]) -> None:
    cleanup.append("cli-exec-tty")
    pd("run", "-d", "--name", "cli-exec-tty", "busybox", "sleep", "100")
    t = Terminal([PYDOCKER, "exec", "-it", "cli-exec-tty", "sh"], cli_env(daemon), 25, 90)
    t.expect(b"# ")
    t.send(b"tty; stty size; exit 9\r")
    t.expect(b"/dev/pts/")
    t.expect(b"25 90")
    assert t.wait() == 9


def test_it_without_a_terminal_is_refused(pd: Runner, busybox: str) -> None:
    r = pd("run", "-it", "--rm", "busybox", "true", input="")
    assert (r.returncode, r.stderr) == (1, "the input device is not a TTY\n")


def test_signals_are_proxied_to_the_container(daemon: Daemon, busybox: str,
                                              cleanup: list[str]) -> None:
    """Without -t, SIGINT/SIGTERM to the CLI reach the container (docker's --sig-proxy)."""
    cleanup.append("cli-sig")
    proc = subprocess.Popen([PYDOCKER, "run", "--name", "cli-sig", "busybox", "sh", "-c",
                             ('trap "echo got-int; exit 4" INT; echo ready; '
                             "while true; do sleep 0.1; done")],
                            stdout=subprocess.PIPE, env=cli_env(daemon))
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert (proc.returncode, out) == (4, b"got-int\n")
