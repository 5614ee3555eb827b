"""Run host commands (iptables, sysctl tools, ...) and fail with the full argv.

The only place the network subsystem spawns processes. ``subprocess`` uses vfork() as long
as no ``preexec_fn`` is given, which keeps it safe inside the multi-threaded daemon.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence


class HostCommandError(Exception):
    """A host command exited non-zero; names what was run (moby: "iptables failed: ...")."""

    def __init__(self, argv: Sequence[str], rc: int, stderr: str) -> None:
        self.argv = list(argv)
        self.rc = rc
        self.stderr = stderr
        super().__init__(f"{' '.join(self.argv)} failed (exit {rc}): {stderr.strip()}")


def run(argv: Sequence[str], *, input: str | None = None) -> str:
    """Run ``argv`` to completion and return its stdout; raise HostCommandError on rc != 0."""
    proc = subprocess.run(
        list(argv), input=input, capture_output=True, text=True, check=False,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode, proc.stderr)
    return proc.stdout


def succeeds(argv: Sequence[str]) -> bool:
    """True if ``argv`` exits 0 (for probes such as ``iptables -C``); never raises on rc."""
    proc = subprocess.run(list(argv), capture_output=True, check=False, stdin=subprocess.DEVNULL)
    return proc.returncode == 0


async def arun(argv: Sequence[str], *, input: str | None = None) -> str:
    """Async ``run``: same contract, does not block the event loop."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(input.encode() if input is not None else None)
    if proc.returncode != 0:
        raise HostCommandError(argv, proc.returncode or 0, err.decode(errors="replace"))
    return out.decode(errors="replace")
