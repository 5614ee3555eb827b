"""The build context as the docker CLI sends it: a tar of the directory minus .dockerignore.

The matching rules are those of moby's patternmatcher, which images/build/dockerignore.py
implements on the daemon side; the CLI may not import the engine, so this is a small stdlib
rendering of the same rules (clean each pattern, '!' re-includes, the last match wins, a
pattern matching a parent directory excludes what is below it; '*' and '?' stay within one
path element, '**' crosses them).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import tarfile

from pydocker.cli.errors import CliError


def _translate(pattern: str) -> re.Pattern[str]:
    """A cleaned pattern as an anchored regular expression (Go's filepath.Match syntax)."""
    pieces = re.split(r"(\*\*/?|\*|\?|\[[^\]]*\]|\\.)", pattern)
    regex = ""
    for n, piece in enumerate(pieces):
        if n % 2 == 0:
            regex += re.escape(piece)
        elif piece.startswith("**"):
            last = n == len(pieces) - 2 and not pieces[-1]
            regex += ".*" if last else "(.*/)?"
        elif piece == "*":
            regex += "[^/]*"
        elif piece == "?":
            regex += "[^/]"
        elif piece.startswith("\\"):
            regex += re.escape(piece[1:])
        else:
            regex += "[" + piece[1:-1].replace("\\", "\\\\") + "]"
    try:
        return re.compile(f"^{regex}$", re.DOTALL)
    except re.error:
        raise CliError(f"syntax error in pattern: {pattern}") from None


def ignore_patterns(text: str) -> list[str]:
    """The lines of a .dockerignore: trimmed, comments dropped, paths cleaned, '!' kept."""
    patterns = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line[0] == "#":
            continue
        keep = line[0] == "!"
        body = line[1:].strip() if keep else line
        if body:
            body = posixpath.normpath(body).lstrip("/") or "/"
        patterns.append(("!" if keep else "") + body)
    return patterns


class Excluder:
    def __init__(self, patterns: list[str]) -> None:
        self.rules = [(p[1:] if p[0] == "!" else p, p[0] == "!",
                       _translate(p[1:] if p[0] == "!" else p))
                      for p in patterns if p.lstrip("!")]
        self.has_exceptions = any(keep for _, keep, _ in self.rules)

    def excluded(self, path: str) -> bool:
        parts = path.split("/")
        result = False
        for text, keep, regex in self.rules:
            depth = text.count("/") + 1
            if regex.match(path) or (len(parts) > 1 and depth < len(parts)
                                     and regex.match("/".join(parts[:depth]))):
                result = not keep
        return result


def read_dockerignore(context: str) -> list[str]:
    try:
        with open(os.path.join(context, ".dockerignore"), encoding="utf-8") as f:
            return ignore_patterns(f.read())
    except FileNotFoundError:
        return []


def context_tar(context: str, dockerfile: str, extra: tuple[str, bytes] | None = None) -> bytes:
    """Tar ``context`` (owner 0:0), always keeping the Dockerfile and .dockerignore, as
    build.TrimBuildFilesFromExcludes does; ``extra`` is a Dockerfile read from stdin."""
    patterns = read_dockerignore(context)
    patterns += ["!.dockerignore"] + ([f"!{dockerfile}"] if dockerfile else [])
    excluder = Excluder(patterns)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(rel: str) -> None:
            info = tar.gettarinfo(os.path.join(context, rel), rel)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = int(info.mtime)  # whole seconds: no PAX record, as Go writes it
            if info.isreg():
                with open(os.path.join(context, rel), "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)

        for root, dirs, files in os.walk(context):
            base = os.path.relpath(root, context)
            base = "" if base == "." else base + "/"
            kept_dirs = []
            for name in sorted(dirs):
                rel = base + name
                if not excluder.excluded(rel):
                    add(rel)
                    kept_dirs.append(name)
                elif excluder.has_exceptions:
                    kept_dirs.append(name)  # a '!' pattern may bring something below back
            dirs[:] = kept_dirs
            for name in sorted(files):
                if not excluder.excluded(base + name):
                    add(base + name)
        if extra is not None:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(extra[1]))
        end = tar.offset + 2 * tarfile.BLOCKSIZE
    # Go's archive/tar ends with the two zero blocks; Python pads to a 10 KiB record
    return raw.getvalue()[:end]
