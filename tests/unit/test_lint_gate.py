"""The lint gate: ruff, mypy --strict and import-linter, configured in pyproject.toml.

Each tool runs from the repository root exactly as a developer would run it by hand; a
failure shows the tool's own report. mypy and import-linter read the package through
.namespace/pydocker/ (one symlink per source folder), so they check this checkout even
when the editable install points elsewhere.
"""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's scripts, next to the interpreter
NAMESPACE = ROOT / ".namespace"
# One mypy cache per checkout: warm runs take about a second instead of several.
MYPY_CACHE = Path("/tmp") / f"pydocker-mypy-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]}"


def run(argv: list[str], env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(argv)}` exited {proc.returncode}:\n{proc.stdout}{proc.stderr}",
                    pytrace=False)


def test_ruff() -> None:
    run([sys.executable, "-m", "ruff", "check", "--no-fix", "."])


def test_mypy_strict() -> None:
    run([sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE)])


def test_import_contracts() -> None:
    path = os.pathsep.join(p for p in (str(NAMESPACE), os.environ.get("PYTHONPATH")) if p)
    run([str(BIN / "lint-imports"), "--no-cache"], env={"PYTHONPATH": path})


def test_namespace_links_every_source_folder() -> None:
    """.namespace/pydocker/ must mirror setup.py's TOP_LEVEL, or the tools miss a package."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    top_level = next(ast.literal_eval(node.value) for node in tree.body
                     if isinstance(node, ast.Assign)
                     and any(getattr(t, "id", None) == "TOP_LEVEL" for t in node.targets))
    links = {p.name: p for p in (NAMESPACE / "pydocker").iterdir()}
    assert sorted(links) == sorted(top_level)
    for name, link in links.items():
        assert link.is_symlink() and link.resolve() == ROOT / name, link
