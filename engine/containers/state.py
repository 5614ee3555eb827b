"""A container's status: Docker's seven states, and which verb each one allows.

A ``StrEnum`` so that the persisted record keeps the plain strings it always had
("running", "exited" ...) and the API shows them unchanged; every check of the state
machine lives here, not as string comparisons scattered through the verbs.
"""

from __future__ import annotations

from enum import StrEnum


class ContainerState(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"

    @property
    def is_running(self) -> bool:
        """Owns a process (or is about to get one again): what Docker calls "running" in
        filters and counts, and what must be stopped before removal."""
        return self in _LIVE

    @property
    def shows_running(self) -> bool:
        """``State.Running`` in inspect: a restarting container has no process to show."""
        return self in (ContainerState.RUNNING, ContainerState.PAUSED)

    def can_start(self) -> bool:
        """Dead is final, as in Docker: such a container can only be removed."""
        return self in (ContainerState.CREATED, ContainerState.EXITED)

    def can_stop(self) -> bool:
        return self.is_running

    def can_pause(self) -> bool:
        return self is ContainerState.RUNNING

    def can_unpause(self) -> bool:
        return self is ContainerState.PAUSED

    def can_exec(self) -> bool:
        """Exec joins a live process, which must not be frozen."""
        return self in (ContainerState.RUNNING, ContainerState.RESTARTING)

    def can_update(self) -> bool:
        """dockerd refuses ``docker update`` (and commit) once removal has begun."""
        return self not in (ContainerState.REMOVING, ContainerState.DEAD)

    def can_remove(self, *, force: bool) -> bool:
        """Without force only a container that holds no process may go."""
        return force or not self.is_running

    def can_become(self, target: ContainerState) -> bool:
        """The transitions the lifecycle makes (removal is allowed from every state)."""
        return target in _TRANSITIONS[self]


_LIVE = frozenset({ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING})

_TRANSITIONS: dict[ContainerState, frozenset[ContainerState]] = {
    ContainerState.CREATED: frozenset({ContainerState.RUNNING, ContainerState.EXITED}),
    ContainerState.RUNNING: frozenset({ContainerState.PAUSED, ContainerState.EXITED}),
    ContainerState.PAUSED: frozenset({ContainerState.RUNNING, ContainerState.EXITED}),
    ContainerState.RESTARTING: frozenset({ContainerState.RUNNING, ContainerState.EXITED}),
    ContainerState.EXITED: frozenset({ContainerState.RUNNING, ContainerState.RESTARTING}),
    ContainerState.REMOVING: frozenset(),
    ContainerState.DEAD: frozenset(),
}
for _state in ContainerState:
    _TRANSITIONS[_state] |= {ContainerState.REMOVING}
