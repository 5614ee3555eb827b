"""docker builder prune keeps what builds under way use, wherever the data root is."""

from __future__ import annotations

from pathlib import Path

from pydocker.engine.daemon import build


def test_a_running_build_keeps_its_context_under_a_dotted_data_root(tmp_path: Path) -> None:
    scratch = tmp_path / "pydocker.d" / "builder"
    for name in ("ctx1", "ctx1.from", "stale"):
        (scratch / name).mkdir(parents=True)
    build._ACTIVE.add("ctx1")
    try:
        answer = build.prune_scratch(scratch)
    finally:
        build._ACTIVE.discard("ctx1")
    assert answer["CachesDeleted"] == ["stale"]
    assert sorted(p.name for p in scratch.iterdir()) == ["ctx1", "ctx1.from"]
