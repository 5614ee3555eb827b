"""A Go text/template subset for ``--format`` and ``inspect -f``.

Supported: field chains (``.State.Status``, ``$.Name``, ``$v.Key``), pipelines with ``|``,
parenthesised sub-pipelines, string/number/bool literals, ``if``/``else if``/``else``,
``range`` (with ``$i, $v :=``), ``with``, variables, ``{{-``/``-}}`` trimming, comments,
and docker's function map (json, join, split, lower, upper, title, pad, truncate,
println) plus Go's builtins (index, len, printf, print, eq, ne, lt, le, gt, ge, and,
or, not, slice). Dicts (decoded JSON) are Go maps; other objects are formatter contexts
whose attributes are the template's fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.output import go_print


class TemplateError(Exception):
    pass


class _NoValue:
    """A missing map key: Go prints ``<no value>``."""

    def __str__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


NO_VALUE = _NoValue()

_ACTION_RE = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<decl>:=)
  | (?P<punct>[()|,=])
  | (?P<field>(?:\$[A-Za-z0-9_]*)?(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<var>\$[A-Za-z0-9_]*)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)


def _tokenize(src: str, offset: int) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(src):
        m = _TOKEN_RE.match(src, pos)
        if not m:
            raise TemplateError(f"template: :1: unexpected {src[pos]!r} in command")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append((kind, m.group(), offset + pos))
        pos = m.end()
    return tokens


# --- parsing -----------------------------------------------------------------------
# Nodes: ("text", s) | ("action", pipeline) | ("if", [(pipe, body)...], else_body)
#        ("range", vars, pipe, body, else_body) | ("with", pipe, body, else_body)
#        ("assign", name, pipe)


def parse(text: str) -> list[Any]:
    pieces: list[tuple[str, Any, int]] = []
    pos = 0
    for m in _ACTION_RE.finditer(text):
        literal = text[pos: m.start()]
        if m.group(1):
            literal = literal.rstrip()
        pieces.append(("text", literal, pos))
        body = m.group(2).strip()
        if not body.startswith("/*"):
            pieces.append(("action", body, m.start(2)))
        pos = m.end()
        if m.group(3):
            rest = text[pos:]
            pos += len(rest) - len(rest.lstrip())
    if "{{" in text[pos:]:
        raise TemplateError("template: :1: unclosed action")
    pieces.append(("text", text[pos:], pos))
    nodes, _, end = _parse_list(pieces, 0)
    if end is not None:
        raise TemplateError(f"template: :1: unexpected {{{{{end}}}}}")
    return nodes


def _parse_list(pieces: list[tuple[str, Any, int]], i: int) -> tuple[list[Any], int, str | None]:
    nodes: list[Any] = []
    while i < len(pieces):
        kind, body, off = pieces[i]
        i += 1
        if kind == "text":
            if body:
                nodes.append(("text", body))
            continue
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word):].strip()
        if word in ("end", "else"):
            return nodes, i - 1, body
        if word in ("if", "with", "range"):
            node, i = _parse_block(word, rest, off, pieces, i)
            nodes.append(node)
        else:
            toks = _tokenize(body, off)
            if len(toks) > 2 and toks[0][0] == "var" and toks[1][0] in ("decl", "punct"):
                nodes.append(("assign", toks[0][1], toks[2:]))
            else:
                nodes.append(("action", toks))
    return nodes, i, None


def _parse_block(word: str, rest: str, off: int, pieces: list[tuple[str, Any, int]],
                 i: int) -> tuple[Any, int]:
    toks = _tokenize(rest, off)
    variables: list[str] = []
    if word == "range" and any(t[0] == "decl" for t in toks):
        while toks[0][0] != "decl":
            if toks[0][0] == "var":
                variables.append(toks[0][1])
            toks = toks[1:]
        toks = toks[1:]
    branches: list[tuple[list[tuple[str, str, int]], list[Any]]] = []
    else_body: list[Any] = []
    cond = toks
    while True:
        body, i, end = _parse_list(pieces, i)
        if end is None:
            raise TemplateError(f"template: :1: unexpected EOF in {word}")
        i += 1
        branches.append((cond, body))
        if end == "end":
            break
        rest_else = end[len("else"):].strip()
        if rest_else.startswith("if ") and word == "if":
            cond = _tokenize(rest_else[3:], off)
            continue
        if rest_else:
            raise TemplateError(f"template: :1: unexpected {rest_else!r} after else")
        else_body, i, end = _parse_list(pieces, i)
        if end != "end":
            raise TemplateError(f"template: :1: expected end after else in {word}")
        i += 1
        break
    if word == "if":
        return ("if", branches, else_body), i
    if word == "with":
        return ("with", branches[0][0], branches[0][1], else_body), i
    return ("range", variables, branches[0][0], branches[0][1], else_body), i


# --- evaluation --------------------------------------------------------------------


def _truth(v: Any) -> bool:
    if v is None or v is NO_VALUE:
        return False
    if isinstance(v, (bool, int, float, str, list, dict, tuple)):
        return bool(v)
    return True


def _json(v: Any) -> str:
    if hasattr(v, "to_json"):
        v = v.to_json()
    text = json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)
    # Go's json.Marshal escapes HTML characters.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _index(v: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(v, dict):
            v = v.get(k, NO_VALUE)
        elif isinstance(v, (list, tuple, str)):
            v = v[int(k)]
        elif v is None or v is NO_VALUE:
            return NO_VALUE
        else:
            raise TemplateError(f"can't index item of type {type(v).__name__}")
    return v


def _printf(fmt: str, *args: Any) -> str:
    conv = []
    for a in args:
        conv.append(a if isinstance(a, (int, float)) and not isinstance(a, bool) else go_print(a))
    fmt = re.sub(r"%(-?\d*)v", r"%\1s", fmt)
    fmt = re.sub(r"%(-?\d*)q", r'"%\1s"', fmt)
    try:
        return fmt % tuple(conv)
    except (TypeError, ValueError) as e:
        raise TemplateError(f"printf: {e}") from None


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def f(a: Any, *bs: Any) -> bool:
        return any(op(a, b) for b in bs) if op is _eq else all(op(a, b) for b in bs)
    return f


def _eq(a: Any, b: Any) -> bool:
    return bool(a == b)


FUNCS: dict[str, Callable[..., Any]] = {
    "json": _json,
    "join": lambda items, sep: sep.join(go_print(x) for x in (items or [])),
    "split": lambda s, sep: str(s).split(sep),
    "lower": lambda s: go_print(s).lower(),
    "upper": lambda s: go_print(s).upper(),
    "title": lambda s: go_print(s).title(),
    "pad": lambda s, left, right: " " * int(left) + go_print(s) + " " * int(right),
    "truncate": lambda s, n: go_print(s)[: int(n)],
    "println": lambda *a: " ".join(go_print(x) for x in a) + "\n",
    "print": lambda *a: "".join(go_print(x) for x in a),
    "printf": _printf,
    "index": _index,
    "len": lambda v: len(v) if v not in (None, NO_VALUE) else 0,
    "slice": lambda v, *ix: v[slice(*[int(i) for i in ix])],
    "not": lambda v: not _truth(v),
    "and": lambda *a: next((x for x in a if not _truth(x)), a[-1]),
    "or": lambda *a: next((x for x in a if _truth(x)), a[-1]),
    "eq": _cmp(_eq),
    "ne": _cmp(lambda a, b: a != b),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
}


class Template:
    def __init__(self, text: str, funcs: dict[str, Callable[..., Any]] | None = None) -> None:
        self.text = text
        self.funcs = {**FUNCS, **(funcs or {})}
        self.nodes = parse(text)

    def render(self, data: Any) -> str:
        out: list[str] = []
        try:
            self._run(self.nodes, data, {"$": data}, out)
        except TemplateError:
            raise
        except Exception as e:  # noqa: BLE001 - any evaluation failure is a template error
            raise TemplateError(f"template: :1: executing \"\": {e}") from None
        return "".join(out)

    def _run(self, nodes: list[Any], dot: Any, scope: dict[str, Any], out: list[str]) -> None:
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                out.append(go_print(self._pipe(node[1], dot, scope)))
            elif kind == "assign":
                scope[node[1]] = self._pipe(node[2], dot, scope)
            elif kind == "if":
                for cond, body in node[1]:
                    if _truth(self._pipe(cond, dot, scope)):
                        self._run(body, dot, dict(scope), out)
                        break
                else:
                    self._run(node[2], dot, dict(scope), out)
            elif kind == "with":
                v = self._pipe(node[1], dot, scope)
                self._run(node[2] if _truth(v) else node[3], v if _truth(v) else dot,
                          dict(scope), out)
            elif kind == "range":
                self._range(node, dot, scope, out)

    def _range(self, node: Any, dot: Any, scope: dict[str, Any], out: list[str]) -> None:
        _, names, pipe, body, else_body = node
        v = self._pipe(pipe, dot, scope)
        if isinstance(v, dict):
            items = [(k, v[k]) for k in sorted(v)]
        elif isinstance(v, (list, tuple)):
            items = list(enumerate(v))
        elif isinstance(v, int) and not isinstance(v, bool):
            items = [(i, i) for i in range(v)]
        else:
            items = []
        if not items:
            self._run(else_body, dot, dict(scope), out)
        for k, item in items:
            inner = dict(scope)
            if len(names) == 1:
                inner[names[0]] = item
            elif len(names) == 2:
                inner[names[0]], inner[names[1]] = k, item
            self._run(body, item, inner, out)

    def _pipe(self, toks: list[tuple[str, str, int]], dot: Any, scope: dict[str, Any]) -> Any:
        commands: list[list[tuple[str, str, int]]] = [[]]
        depth = 0
        for t in toks:
            if t[1] == "(" and t[0] == "punct":
                depth += 1
            elif t[1] == ")" and t[0] == "punct":
                depth -= 1
            if t[1] == "|" and t[0] == "punct" and depth == 0:
                commands.append([])
            else:
                commands[-1].append(t)
        result: Any = NO_VALUE
        for n, cmd in enumerate(commands):
            if not cmd:
                raise TemplateError("template: :1: missing command")
            extra = [result] if n else []
            result = self._command(cmd, dot, scope, extra)
        return result

    def _command(self, cmd: list[tuple[str, str, int]], dot: Any, scope: dict[str, Any],
                 extra: list[Any]) -> Any:
        operands: list[Any] = []
        i = 0
        while i < len(cmd):
            kind, text, off = cmd[i]
            if kind == "punct" and text == "(":
                depth, j = 1, i + 1
                while depth:
                    if j >= len(cmd):
                        raise TemplateError("template: :1: unclosed left paren")
                    depth += {"(": 1, ")": -1}.get(cmd[j][1], 0) if cmd[j][0] == "punct" else 0
                    j += 1
                value = self._pipe(cmd[i + 1: j - 1], dot, scope)
                # (pipeline).Field: a field chain written right after the parenthesis
                if j < len(cmd) and cmd[j][0] == "field" and cmd[j][2] == cmd[j - 1][2] + 1:
                    _, text, off = cmd[j]
                    value = self._field(value, [p for p in text.split(".") if p], off, text)
                    j += 1
                operands.append(value)
                i = j
                continue
            operands.append((kind, text, off))
            i += 1
        head = operands[0]
        if isinstance(head, tuple) and head[0] == "ident" and head[1] not in ("true", "false",
                                                                             "nil"):
            fn = self.funcs.get(head[1])
            if fn is None:
                raise TemplateError(f'template: :1: function "{head[1]}" not defined')
            args = [self._operand(o, dot, scope) for o in operands[1:]] + extra
            try:
                return fn(*args)
            except TemplateError:
                raise
            except Exception as e:  # noqa: BLE001 - Go reports any call failure the same way
                raise TemplateError(f"template: :1:{head[2]}: executing \"\" at <{head[1]}>: "
                                    f"error calling {head[1]}: {e}") from None
        value = self._operand(head, dot, scope)
        if len(operands) > 1 or extra:
            if callable(value):
                args = [self._operand(o, dot, scope) for o in operands[1:]] + extra
                return value(*args)
            name = head[1] if isinstance(head, tuple) else go_print(value)
            raise TemplateError(f"template: :1: can't give argument to non-function {name}")
        return value() if callable(value) and not isinstance(value, type) else value

    def _operand(self, op: Any, dot: Any, scope: dict[str, Any]) -> Any:
        if not isinstance(op, tuple):
            return op  # an evaluated sub-pipeline
        kind, text, off = op
        if kind == "str":
            return json.loads(text)
        if kind == "raw":
            return text[1:-1]
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "ident":
            return {"true": True, "false": False, "nil": None}.get(text, text)
        if kind == "var":
            if text not in scope:
                raise TemplateError(f'template: :1: undefined variable "{text}"')
            return scope[text]
        if kind == "field":
            base = dot
            path = text
            if text.startswith("$"):
                name, _, path = text.partition(".")
                path = "." + path
                if name not in scope:
                    raise TemplateError(f'template: :1: undefined variable "{name}"')
                base = scope[name]
            return self._field(base, [p for p in path.split(".") if p], off, text)
        raise TemplateError(f"template: :1: unexpected {text!r}")

    def _field(self, value: Any, names: list[str], off: int, text: str) -> Any:
        for k, name in enumerate(names):
            if callable(value) and not isinstance(value, type):
                value = value()
            if isinstance(value, dict):
                value = value.get(name, NO_VALUE)
            elif value is None or value is NO_VALUE:
                raise TemplateError(f'template: :1:{off}: executing "" at <{text}>: '
                                    f"nil pointer evaluating interface {{}}.{name}")
            elif hasattr(value, "fields") and name in value.fields():
                value = getattr(value, name)
                if callable(value) and k < len(names) - 1:
                    value = value()
            else:
                type_name = getattr(value, "go_type", type(value).__name__)
                raise TemplateError(f'template: :1:{off}: executing "" at <{text}>: '
                                    f"can't evaluate field {name} in type {type_name}")
        return value


def render(text: str, data: Any) -> str:
    return Template(text).render(data)
