"""The engine's Daemon is every backend the routes use, and the routes use nothing else."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from pydocker.api.server import backend
from pydocker.engine.daemon import Daemon

AREAS = [backend.ContainerBackend, backend.ExecBackend, backend.ImageBackend,
         backend.NetworkBackend, backend.VolumeBackend, backend.SystemBackend, backend.BuildBackend]
ROUTES = Path(backend.__file__).parent / "routes"


def _as_every_area(d: Daemon) -> None:
    """Never called: mypy checks each assignment (a Protocol mismatch is a type error)."""
    areas: tuple[backend.ContainerBackend, backend.ExecBackend, backend.ImageBackend,
                 backend.NetworkBackend, backend.VolumeBackend, backend.SystemBackend,
                 backend.Backend] = (d, d, d, d, d, d, d)
    assert areas


def _members(protocol: type) -> list[str]:
    return [name for name, value in vars(protocol).items()
            if callable(value) and not name.startswith("_")]


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.__name__)
def test_daemon_has_each_method_with_the_same_parameters(area: type) -> None:
    for name in _members(area):
        wanted = inspect.signature(getattr(area, name)).parameters
        got = inspect.signature(getattr(Daemon, name)).parameters
        assert list(got) == list(wanted), name
        assert [p.kind for p in got.values()] == [p.kind for p in wanted.values()], name


def test_routes_call_only_backend_methods() -> None:
    """``request.app[KEY].method(...)`` and ``backend.method(...)`` name Protocol methods."""
    declared = {name for area in AREAS for name in _members(area)}
    called = set()
    for path in ROUTES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, (ast.Subscript, ast.Name))):
                target = node.func.value
                if isinstance(target, ast.Subscript) and ast.unparse(target).startswith(
                        "request.app[") or (isinstance(target, ast.Name)
                                            and target.id == "backend"):
                    called.add(node.func.attr)
    assert called, "the routes call no backend at all?"
    assert called <= declared, called - declared


def test_daemon_keeps_its_collaborators_private(tmp_path: Path) -> None:
    from pydocker.engine.config import DaemonConfig
    d = Daemon(DaemonConfig(data_root=tmp_path / "data", exec_root=tmp_path / "exec",
                            iptables=False))
    public = {name for name in vars(d) if not name.startswith("_")}
    assert public == set()
