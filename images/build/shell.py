"""Shell-word expansion as the Dockerfile frontend does it (BuildKit's shell/lex behaviour).

Instructions that take words (ENV, LABEL, COPY, WORKDIR, ...) expand ``$v``, ``${v}``,
``${v:-x}``, ``${v:+x}``, ``${v:?msg}`` (and the unset-only forms without ``:``) and strip
quotes, exactly once, before the instruction acts; RUN/CMD/ENTRYPOINT are left to the shell.
Pure: no environment but the mapping given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydocker.engine.errors import InvalidParameter

_SPECIAL = set("@*#?-$!0")


@dataclass
class _Words:
    """Collects the current word; only unquoted, unescaped blanks split words."""

    words: list[str] = field(default_factory=list)
    word: str = ""
    in_word: bool = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            self.flush()
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def flush(self) -> None:
        if self.in_word:
            self.words.append(self.word)
        self.word, self.in_word = "", False


class _Scanner:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.text, self.pos, self.env, self.escape = text, 0, env, escape

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def process(self, stop: str) -> tuple[str, list[str]]:
        """Read up to ``stop`` (consumed; "" = end): the joined text and the split words."""
        words = _Words()
        text = ""
        while self.peek():
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                break
            if ch == "'":
                part = self._single_quoted()
                text += part
                words.add_raw(part)
            elif ch == '"':
                part = self._double_quoted()
                text += part
                words.add_raw(part)
            elif ch == "$":
                part = self._dollar()
                text += part
                for c in part:  # an unquoted value splits on its blanks
                    words.add_char(c)
            else:
                self.next()
                if ch == self.escape:
                    ch = self.next()
                    if not ch:
                        break  # a lone escape at the end disappears
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                text += ch
        else:
            if stop:
                raise InvalidParameter(f"syntax error: missing '{stop}'")
        words.flush()
        return text, words.words

    def _single_quoted(self) -> str:
        """Everything up to the next ``'``, literally (no escapes inside single quotes)."""
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise InvalidParameter(
                "unexpected end of statement while looking for matching single-quote")
        out, self.pos = self.text[self.pos + 1:end], end + 1
        return out

    def _double_quoted(self) -> str:
        self.next()
        out = ""
        while True:
            ch = self.peek()
            if not ch:
                raise InvalidParameter(
                    "unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.next()
                return out
            if ch == "$":
                out += self._dollar()
                continue
            self.next()
            if ch == self.escape:
                nxt = self.next()
                if not nxt:
                    raise InvalidParameter("unexpected end of statement while looking for "
                                           "matching double-quote")
                out += nxt if nxt in ('"', "$", self.escape) else ch + nxt
            else:
                out += ch

    def _name(self) -> str:
        ch = self.peek()
        if ch.isdigit():
            name = ""
            while self.peek().isdigit():
                name += self.next()
            return name
        if ch and ch in _SPECIAL:
            return self.next()
        name = ""
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            name += self.next()
        return name

    def _dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.next()
        name = self._name()
        if not name:
            raise InvalidParameter("bad substitution")
        ch = self.next()
        if ch == "}":
            return self.env.get(name, "")
        colon = ch == ":"
        modifier = self.next() if colon else ch
        if modifier not in ("-", "+", "?"):
            if not ch:
                raise InvalidParameter("syntax error: missing '}'")
            raise InvalidParameter(f"unsupported modifier ({modifier}) in substitution")
        word, _ = self.process("}")
        value = self.env.get(name)
        empty = value is None or (colon and value == "")
        if modifier == "-":
            return word if empty else (value or "")
        if modifier == "+":
            return "" if empty else word
        if empty:
            raise InvalidParameter(f"{name}: {word or 'parameter null or not set'}")
        return value or ""


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word, quotes removed and variables replaced (ProcessWord)."""
    return _Scanner(word, env, escape).process("")[0]


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Words split on unquoted blanks after expansion (ProcessWords)."""
    return _Scanner(text, env, escape).process("")[1]


def env_map(pairs: list[str]) -> dict[str, str]:
    """``KEY=value`` list to a mapping; the last definition wins, as in a container's env."""
    out: dict[str, str] = {}
    for item in pairs:
        key, _, value = item.partition("=")
        out[key] = value
    return out
