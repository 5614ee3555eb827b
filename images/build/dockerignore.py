"""``.dockerignore`` as moby reads and matches it (fileutils.PatternMatcher of dockerd 20.10).

Lines are trimmed, ``#`` lines dropped, patterns cleaned like Go's ``filepath.Clean`` with a
leading ``/`` removed; ``!`` re-includes. The last pattern that matches a path (or one of its
parent directories, up to the pattern's depth) decides. ``*`` and ``?`` stop at ``/``;
``**`` crosses directories; ``[...]`` classes as Go's regexp reads them (so ``[^a]`` negates,
as in Docker, where docker-py's own matcher differs).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from pydocker.engine.errors import InvalidParameter


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]

    @property
    def depth(self) -> int:
        return len(self.text.split("/"))


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file, cleaned, ``!`` kept in front."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = posixpath.normpath(line)
            if line.startswith("//"):
                line = "/" + line.lstrip("/")
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        out.append("!" + line if invert else line)
    return out


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            if pattern[i:i + 1] == "*":
                i += 1
                if pattern[i:i + 1] == "/":
                    i += 1
                out += ".*" if i >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[" and "]" in pattern[i + 1:]:
            end = pattern.index("]", i + 1)  # a class, ``^`` negating, as Go's regexp reads it
            out += "[" + pattern[i:end].replace("\\", "\\\\") + "]"
            i = end + 1
        elif ch in ".$+(){}|^":
            out += "\\" + ch
        elif ch == "\\":
            if i >= len(pattern):
                raise InvalidParameter(f"syntax error in pattern: {pattern}")
            out += re.escape(pattern[i])
            i += 1
        else:
            out += ch
    try:
        return re.compile(out + "$", re.DOTALL)
    except re.error as exc:
        raise InvalidParameter(f"syntax error in pattern: {pattern}") from exc


class Matcher:
    """Decides whether a context path (slash-separated, relative) is excluded."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [
            Pattern(p.removeprefix("!"), p.startswith("!"), _regex(p.removeprefix("!")))
            for p in patterns if p.removeprefix("!")]

    def excluded(self, path: str) -> bool:
        path = posixpath.normpath(path).lstrip("/")
        parent = posixpath.dirname(path) or "."
        parent_dirs = parent.split("/")
        matched = False
        for pattern in self.patterns:
            hit = bool(pattern.regex.match(path))
            if not hit and parent != "." and pattern.depth <= len(parent_dirs):
                hit = bool(pattern.regex.match("/".join(parent_dirs[:pattern.depth])))
            if hit:
                matched = not pattern.exclusion
        return matched
