"""The runtime's own failures.

The runtime runs in a ``python -I -S`` zygote and cannot import ``engine.errors``; the
engine side maps these onto its taxonomy (a start that fails is recorded with
``exit_code``, as dockerd records runc's). They cross the shim's wire as
``{"error": message, "exit_code": code}``.
"""

from __future__ import annotations


class RuntimeFailure(Exception):
    """Base of every failure the runtime reports to the daemon."""


class SpawnerGone(RuntimeFailure):
    """The zygote closed its socket: it exited or was killed."""

    def __init__(self) -> None:
        super().__init__("the runtime's spawner exited")


class SpawnerError(RuntimeFailure):
    """The zygote could not do what it was asked (mount a rootfs, make a netns, ...)."""


class StartError(RuntimeFailure):
    """A container or exec process did not reach its program. ``exit_code`` is Docker's:
    126 not executable, 127 not found, 128 the runtime itself failed."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code: int = exit_code

    def to_json(self) -> dict[str, str | int]:
        return {"error": str(self), "exit_code": self.exit_code}
