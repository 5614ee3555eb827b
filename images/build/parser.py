"""The Dockerfile reader: directives, comments, continuations, one node per instruction.

Follows BuildKit's frontend/dockerfile/parser as the classic builder of dockerd 20.10
vendors it: ``# escape=`` / ``# syntax=`` only at the top, comments dropped (also inside a
continuation), empty continuation lines skipped with the builder's warning, JSON exec form
tried before the shell form. Each node keeps ``original`` (the joined line the build
output echoes as ``Step N/M : ...``). Pure: text in, nodes out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydocker.engine.errors import InvalidParameter

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
# Go's bufio.Scanner limit: a longer line fails the whole parse.
MAX_LINE = 64 * 1024 - 1
EMPTY_CONTINUATION_END = "[WARNING]: Empty continuation lines will become errors in a future release."


class ParseError(InvalidParameter):
    """``failed to parse Dockerfile: ...`` (dockerd's wording for reader-level errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"failed to parse Dockerfile: {message}")


@dataclass
class Node:
    """One instruction: ``cmd`` lowercased, ``args`` as the line parser split them."""

    cmd: str
    original: str
    args: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    json: bool = False
    start_line: int = 0
    end_line: int = 0
    # ENV/LABEL/ARG: (key, value or None) pairs, quotes still in place.
    pairs: list[tuple[str, str | None]] = field(default_factory=list)
    # HEALTHCHECK: the type word (CMD/NONE); ONBUILD: the trigger, parsed.
    kind: str = ""
    child: Node | None = None


@dataclass
class Dockerfile:
    nodes: list[Node]
    escape: str
    syntax: str
    warnings: list[str]


class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self.syntax = ""
        self.done = False
        self.seen: set[str] = set()

    def feed(self, line: str) -> None:
        if self.done:
            return
        match = _DIRECTIVE.match(line)
        if not match:
            self.done = True
            return
        key, value = match.group(1).lower(), match.group(2)
        if key not in ("escape", "syntax"):
            return
        if key in self.seen:
            raise ParseError(f"only one {key} parser directive can be used")
        self.seen.add(key)
        if key == "syntax":
            self.syntax = value
        elif value not in ("`", "\\"):
            raise ParseError(f"invalid escape token '{value}' does not match ` or \\")
        else:
            self.escape = value


def _is_comment(line: str) -> bool:
    return line.lstrip(" \t").startswith("#")


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return stripped[:-1], False
    return line, True


def _line(lines: list[str], i: int) -> str:
    raw = lines[i].rstrip("\r")
    if len(raw) > MAX_LINE:
        raise ParseError(f"dockerfile line greater than max allowed size of {MAX_LINE}")
    return raw


def parse(text: str) -> Dockerfile:
    """The instructions of ``text`` with their line numbers (1-based, inclusive)."""
    lines = text.removeprefix("\ufeff").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    directives = _Directives()
    nodes: list[Node] = []
    warnings: list[str] = []
    i = 0
    while i < len(lines):
        raw = _line(lines, i)
        i += 1
        directives.feed(raw.lstrip(" \t"))
        start = i
        if _is_comment(raw):
            continue
        line, ended = _trim_continuation(raw.lstrip(" \t"), directives.escape)
        if ended and not line.strip():
            continue
        empty_continuation = False
        while not ended and i < len(lines):
            raw = _line(lines, i)
            i += 1
            if _is_comment(raw):
                continue
            if not raw.strip(" \t"):
                empty_continuation = True
                continue
            part, ended = _trim_continuation(raw, directives.escape)
            line += part
        if empty_continuation:
            warnings.append("[WARNING]: Empty continuation line found in:\n    " + line)
        node = node_from_line(line, directives.escape)
        node.start_line, node.end_line = start, i
        nodes.append(node)
    if warnings:
        warnings.append(EMPTY_CONTINUATION_END)
    if not nodes:
        raise ParseError("file with no instructions")
    return Dockerfile(nodes, directives.escape, directives.syntax, warnings)


def node_from_line(line: str, escape: str) -> Node:
    parts = _WHITESPACE.split(line.strip(), maxsplit=1)
    cmd = parts[0].lower()
    rest, flags = extract_flags(parts[1], escape) if len(parts) == 2 else ("", [])
    node = Node(cmd=cmd, original=line, flags=flags)
    _LINE_PARSERS.get(cmd, _parse_ignore)(node, rest, escape)
    return node


def extract_flags(text: str, escape: str) -> tuple[str, list[str]]:
    """Leading ``--name[=value]`` words (quotes removed); the rest of the line unchanged."""
    flags: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if not text.startswith("--", pos):
            return text[pos:], flags
        word, quote = "", ""
        while pos < len(text) and (quote or not text[pos].isspace()):
            ch = text[pos]
            pos += 1
            if quote and ch == quote:
                quote = ""
            elif not quote and ch in "'\"":
                quote = ch
            elif ch == escape and pos < len(text):
                word += text[pos]
                pos += 1
            else:
                word += ch
        if quote:
            raise ParseError("unmatched quote in flag")
        if word == "--":
            return text[pos:].lstrip(), flags
        flags.append(word)


def split_words(text: str, escape: str) -> list[str]:
    """Blank-separated words keeping quotes and escapes (the line parser's parseWords)."""
    words: list[str] = []
    word, quote, in_word, blank_ok = "", "", False, False
    pos = 0
    while pos < len(text):
        ch = text[pos]
        pos += 1
        if not in_word:
            if ch.isspace():
                continue
            in_word = True
        if quote and ch == quote:
            quote = ""
        elif not quote and ch.isspace():
            if blank_ok or word:
                words.append(word)
            word, in_word, blank_ok = "", False, False
            continue
        elif not quote and ch in "'\"":
            quote, blank_ok = ch, True
        elif ch == escape and quote != "'":
            if pos == len(text):
                continue  # an escape at the very end is dropped
            word += ch  # kept with the next character, even a quote
            ch = text[pos]
            pos += 1
        word += ch
    if in_word and (blank_ok or word):
        words.append(word)
    return words


class NotStringArray(ParseError):
    def __init__(self) -> None:
        super().__init__("when using JSON array syntax, arrays must be comprised of strings only")


def _json_array(text: str) -> list[str] | None:
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise NotStringArray()
    return value


def _parse_ignore(node: Node, rest: str, escape: str) -> None:
    node.args = []


def _parse_whitespace(node: Node, rest: str, escape: str) -> None:
    node.args = [w for w in _WHITESPACE.split(rest.strip()) if w]


def _parse_string(node: Node, rest: str, escape: str) -> None:
    node.args = [rest.strip()] if rest.strip() else []


def _parse_maybe_json(node: Node, rest: str, escape: str) -> None:
    """The exec form when the text is a JSON array of strings, else the text as one arg."""
    _json_or(node, rest, lambda text: [text] if text else [])


def _parse_maybe_json_list(node: Node, rest: str, escape: str) -> None:
    """The exec form, else blank-separated words (COPY, ADD, VOLUME)."""
    _json_or(node, rest, lambda text: [w for w in _WHITESPACE.split(text) if w])


def _json_or(node: Node, rest: str, fallback: Callable[[str], list[str]]) -> None:
    rest = rest.strip()
    array = _json_array(rest)
    node.json = array is not None
    node.args = array if array is not None else fallback(rest)


def _parse_name_val(key: str) -> Callable[[Node, str, str], None]:
    def parse_pairs(node: Node, rest: str, escape: str) -> None:
        words = split_words(rest, escape)
        if not words:
            return
        if "=" not in words[0]:  # the legacy ``KEY name value`` form
            parts = _WHITESPACE.split(rest.strip(), maxsplit=1)
            if len(parts) < 2:
                raise ParseError(f"{key} must have two arguments")
            node.pairs = [(parts[0], parts[1])]
            return
        for word in words:
            if "=" not in word:
                raise ParseError(f"Syntax error - can't find = in {json.dumps(word)}. "
                                 "Must be of the form: name=value")
            name, _, value = word.partition("=")
            node.pairs.append((name, value))
    return parse_pairs


def _parse_name_or_name_val(node: Node, rest: str, escape: str) -> None:
    for word in split_words(rest, escape):
        name, eq, value = word.partition("=")
        node.pairs.append((name, value if eq else None))


def _parse_health(node: Node, rest: str, escape: str) -> None:
    rest = rest.strip()
    if not rest:
        return
    parts = re.split(r"\s+", rest, maxsplit=1)
    node.kind = parts[0]
    _parse_maybe_json(node, parts[1] if len(parts) == 2 else "", escape)


def _parse_sub_command(node: Node, rest: str, escape: str) -> None:
    if rest.strip():
        node.child = node_from_line(rest, escape)


_LINE_PARSERS: dict[str, Callable[[Node, str, str], None]] = {
    "add": _parse_maybe_json_list,
    "arg": _parse_name_or_name_val,
    "cmd": _parse_maybe_json,
    "copy": _parse_maybe_json_list,
    "entrypoint": _parse_maybe_json,
    "env": _parse_name_val("ENV"),
    "expose": _parse_whitespace,
    "from": _parse_whitespace,
    "healthcheck": _parse_health,
    "label": _parse_name_val("LABEL"),
    "maintainer": _parse_string,
    "onbuild": _parse_sub_command,
    "run": _parse_maybe_json,
    "shell": _parse_maybe_json,
    "stopsignal": _parse_string,
    "user": _parse_string,
    "volume": _parse_maybe_json_list,
    "workdir": _parse_string,
}
