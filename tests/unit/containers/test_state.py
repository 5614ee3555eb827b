"""The state machine: the predicates the verbs check, and the record's plain strings."""

from __future__ import annotations

import json

import pytest
from pydocker.engine.containers.model import State
from pydocker.engine.containers.state import ContainerState as S


@pytest.mark.parametrize(("state", "running", "start", "pause", "unpause", "exec_", "update"), [
    (S.CREATED, False, True, False, False, False, True),
    (S.RUNNING, True, False, True, False, True, True),
    (S.PAUSED, True, False, False, True, False, True),
    (S.RESTARTING, True, False, False, False, True, True),
    (S.REMOVING, False, False, False, False, False, False),
    (S.EXITED, False, True, False, False, False, True),
    (S.DEAD, False, False, False, False, False, False),
])
def test_predicates(state: S, running: bool, start: bool, pause: bool, unpause: bool,
                    exec_: bool, update: bool) -> None:
    assert state.is_running is running
    assert state.can_stop() is running
    assert state.can_start() is start
    assert state.can_pause() is pause
    assert state.can_unpause() is unpause
    assert state.can_exec() is exec_
    assert state.can_update() is update
    assert state.can_remove(force=True)
    assert state.can_remove(force=False) is not running


def test_inspect_running_excludes_restarting() -> None:
    assert [s for s in S if s.shows_running] == [S.RUNNING, S.PAUSED]


def test_every_state_may_be_removed_and_dead_is_final() -> None:
    assert all(s.can_become(S.REMOVING) for s in S)
    assert not any(S.DEAD.can_become(s) for s in S if s is not S.REMOVING)
    assert S.EXITED.can_become(S.RESTARTING) and S.RESTARTING.can_become(S.RUNNING)
    assert not S.CREATED.can_become(S.PAUSED)


def test_record_keeps_plain_strings() -> None:
    state = State(status="paused")  # type: ignore[arg-type]  # as read back from JSON
    assert state.status is S.PAUSED
    assert str(state.status) == "paused" and isinstance(state.status, str)
    assert json.dumps(state.to_json()["Status"]) == '"paused"'
    assert json.dumps({"status": S.EXITED}) == '{"status": "exited"}'


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="sleeping"):
        State(status="sleeping")  # type: ignore[arg-type]


def test_unexpected_change_is_logged_not_refused(caplog: pytest.LogCaptureFixture) -> None:
    state = State(status=S.CREATED)
    state.become(S.PAUSED)
    assert state.status is S.PAUSED
    assert "created -> paused" in caplog.text
