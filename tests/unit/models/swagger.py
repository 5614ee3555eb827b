"""Property names of moby's swagger definitions and request bodies, read without a YAML library.

swagger.yaml is regular (two-space indents, one key per line), so a schema's own property names
are the keys one level under its least indented ``properties:``, plus those of the definitions
its ``allOf`` names by ``$ref``. That is all these tests need, and pydocker does not depend on a
YAML parser for it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = ROOT.parent / "shared" / "data"
SWAGGER = SHARED_DATA / "moby-swagger-v1.50.yaml"

needs_swagger = pytest.mark.skipif(
    not SWAGGER.exists(),
    reason=f"moby's swagger is not at {SWAGGER} (../shared/data beside the repository)",
)

_KEY = re.compile(r"^( *)(?:- )?([A-Za-z$/{}_.-][^:]*):")
_REF = re.compile(r'\$ref: "#/definitions/(\w+)"')


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], start: int) -> list[str]:
    """The lines nested under lines[start] (more indented than it; blank lines kept)."""
    own = _indent(lines[start])
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > own):
        end += 1
    return lines[start + 1 : end]


@cache
def _lines() -> list[str]:
    return SWAGGER.read_text().splitlines()


def _top_level(section: str) -> list[str]:
    lines = _lines()
    return _block(lines, lines.index(f"{section}:"))


def _child(block: list[str], key: str) -> list[str]:
    """The sub-block of the first ``key:`` at the block's outermost indent."""
    outer = min(_indent(line) for line in block if line.strip())
    for i, line in enumerate(block):
        if _indent(line) == outer and line.strip() == f"{key}:":
            return _block(block, i)
    raise KeyError(key)


def _schema_properties(block: list[str]) -> set[str]:
    starts = [i for i, line in enumerate(block) if line.strip() == "properties:"]
    names: set[str] = set()
    if starts:
        outer = min(_indent(block[i]) for i in starts)
        for i in starts:
            if _indent(block[i]) == outer:
                for line in _block(block, i):
                    match = _KEY.match(line)
                    if match and len(match.group(1)) == outer + 2:
                        names.add(match.group(2))
    for i, line in enumerate(block):
        if line.strip() == "allOf:":
            for item in _block(block, i):
                ref = _REF.search(item)
                if ref and _indent(item) == _indent(line) + 2 and item.lstrip().startswith("- "):
                    names |= definition_properties(ref.group(1))
    return names


@cache
def definition_properties(name: str) -> frozenset[str]:
    """The property names of ``definitions/<name>``, following allOf and a top-level $ref."""
    block = _child(_top_level("definitions"), name)
    ref = _REF.search(block[0]) if block else None
    if ref and len(block) == 1:
        return definition_properties(ref.group(1))
    return frozenset(_schema_properties(block))


def body_properties(method: str, path: str) -> frozenset[str]:
    """The property names of the ``in: body`` parameter of ``method path``."""
    operation = _child(_child(_top_level("paths"), path), method.lower())
    at = next(i for i, line in enumerate(operation) if line.strip() == 'in: "body"')
    schema_at = next(i for i in range(at, len(operation)) if operation[i].strip() == "schema:")
    schema = _block(operation, schema_at)
    ref = _REF.search(schema[0])
    if ref and _indent(schema[0]) == _indent(operation[schema_at]) + 2 and len(schema) == 1:
        return definition_properties(ref.group(1))
    return frozenset(_schema_properties(schema))
