"""A small pflag-like parser: docker's flag syntax, messages and exit codes.

argparse is not used because docker's conventions differ in ways users notice: ``-it``
bundles, ``--rm=false``, ``run`` stops at the first positional (the container's command
keeps its own flags), and errors read ``unknown flag: --foo`` and exit 125.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing and dataclasses cost ~10 ms of start-up: not at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PROG = "pydocker"


class UsageError(Exception):
    """Bad flags or arguments: printed with the command's usage, exit 125 (1 for arg counts)."""

    def __init__(self, message: str, status: int = 125, hint: str = "Run") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


class Flag:
    """One flag: long name, optional one-letter short name, kind, default, help."""

    __slots__ = ("default", "help", "kind", "long", "metavar", "short")

    def __init__(self, long: str, short: str = "", kind: str = "bool", default: Any = None,
                 help: str = "", metavar: str = "") -> None:
        self.long, self.short, self.kind = long, short, kind
        self.default, self.help, self.metavar = default, help, metavar

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    def initial(self) -> Any:
        if self.default is not None:
            return list(self.default) if isinstance(self.default, list) else self.default
        return {"bool": False, "list": [], "int": 0, "float": 0.0}.get(self.kind, "")

    def label(self) -> str:
        return f"-{self.short}, --{self.long}" if self.short else f"--{self.long}"


class Command:
    """One (sub)command: its flags, positional-argument bounds and handler."""

    def __init__(self, path: str, usage: str, help: str,
                 run: Callable[..., int | None], flags: tuple[Flag, ...] = (),
                 min_args: int = 0, max_args: int | None = None, interspersed: bool = True,
                 aliases: tuple[str, ...] = ()) -> None:
        self.path = path  # "ps", "image ls": how it was invoked, for messages
        self.usage = usage  # "[OPTIONS] CONTAINER [CONTAINER...]"
        self.help = help
        self.run = run
        self.flags = flags
        self.min_args = min_args
        self.max_args = max_args  # None: unbounded
        self.interspersed = interspersed  # False: flags end at the first positional
        self.aliases = aliases

    def with_path(self, path: str) -> Command:
        return Command(path, self.usage, self.help, self.run, self.flags, self.min_args,
                       self.max_args, self.interspersed, self.aliases)


class Options:
    """Parsed flag values as attributes; ``args`` holds the positionals."""

    def __init__(self, values: dict[str, Any], args: list[str], changed: set[str]) -> None:
        self.__dict__.update(values)
        self.args = args
        self.changed = changed

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...  # flag values, set in __init__

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Options({self.__dict__!r})"


def _convert(flag: Flag, value: str) -> Any:
    try:
        if flag.kind == "int":
            return int(value, 0) if value.lower().startswith(("0x", "0o")) else int(value)
        if flag.kind == "float":
            return float(value)
    except ValueError:
        fn = "ParseInt" if flag.kind == "int" else "ParseFloat"
        raise UsageError(f'invalid argument "{value}" for "{flag.label()}" flag: '
                         f'strconv.{fn}: parsing "{value}": invalid syntax') from None
    if flag.kind == "bool":
        low = value.lower()
        if low in ("1", "t", "true"):
            return True
        if low in ("0", "f", "false"):
            return False
        raise UsageError(f'invalid argument "{value}" for "{flag.label()}" flag: '
                         f'strconv.ParseBool: parsing "{value}": invalid syntax')
    return value


def parse(cmd: Command, argv: list[str]) -> Options:
    """Parse ``argv`` (after the command name) for ``cmd``; raise UsageError on bad input."""
    flags = (*cmd.flags, Flag("help", "", "bool", help="Print usage"))
    by_long = {f.long: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values = {f.dest: f.initial() for f in flags}
    changed: set[str] = set()
    args: list[str] = []

    def store(flag: Flag, raw: str) -> None:
        value = _convert(flag, raw)
        if flag.kind == "list":
            values[flag.dest].append(value)
        else:
            values[flag.dest] = value
        changed.add(flag.dest)

    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            args.extend(argv[i:])
            break
        if arg.startswith("--") and len(arg) > 2:
            name, eq, inline = arg[2:].partition("=")
            flag = by_long.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
            if eq:
                store(flag, inline)
            elif flag.kind == "bool":
                store(flag, "true")
            elif i < len(argv):
                store(flag, argv[i])
                i += 1
            else:
                raise UsageError(f"flag needs an argument: --{name}")
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                flag = by_short.get(ch)
                if flag is None:
                    if ch == "h":
                        flag = by_long["help"]
                    else:
                        raise UsageError(f"unknown shorthand flag: '{ch}' in {arg}")
                rest = arg[j + 1:]
                if flag.kind == "bool":
                    if rest.startswith("="):
                        store(flag, rest[1:])
                        break
                    store(flag, "true")
                    j += 1
                    continue
                if rest:
                    store(flag, rest.removeprefix("="))
                elif i < len(argv):
                    store(flag, argv[i])
                    i += 1
                else:
                    raise UsageError(f"flag needs an argument: '{ch}' in -{ch}")
                break
        else:
            args.append(arg)
            if not cmd.interspersed:
                args.extend(argv[i:])
                break
    opts = Options(values, args, changed)
    if not values["help"]:
        check_args(cmd, args)
    return opts


def check_args(cmd: Command, args: list[str]) -> None:
    lo, hi, n = cmd.min_args, cmd.max_args, len(args)
    where = f"'{PROG} {cmd.path}'"
    if hi == 0 and n:
        raise UsageError(f"{PROG}: {where} accepts no arguments", status=1)
    if lo == hi and n != lo:
        noun = "argument" if lo == 1 else "arguments"
        word = "exactly " if lo == 1 else ""
        raise UsageError(f"{PROG}: {where} requires {word}{lo} {noun}", status=1)
    if n < lo:
        noun = "argument" if lo == 1 else "arguments"
        raise UsageError(f"{PROG}: {where} requires at least {lo} {noun}", status=1, hint="See")
    if hi is not None and n > hi:
        noun = "argument" if hi == 1 else "arguments"
        raise UsageError(f"{PROG}: {where} requires at most {hi} {noun}", status=1)


def usage_line(cmd: Command) -> str:
    return f"Usage:  {PROG} {cmd.path} {cmd.usage}".rstrip()


def print_usage_error(cmd: Command, err: UsageError) -> int:
    hint = "See" if err.hint == "See" else "Run"
    sys.stderr.write(f"{err}\n\n{usage_line(cmd)}\n\n"
                     f"{hint} '{PROG} {cmd.path} --help' for more information\n")
    return err.status


def help_text(cmd: Command) -> str:
    out = [usage_line(cmd), "", cmd.help, ""]
    if cmd.aliases:
        out += ["Aliases:", "  " + ", ".join(f"{PROG} {a}" for a in cmd.aliases), ""]
    if cmd.flags:
        out.append("Options:")
        rows = []
        for f in cmd.flags:
            left = (f"-{f.short}, " if f.short else "    ") + f"--{f.long}"
            if f.kind != "bool":
                left += " " + (f.metavar or {"list": "list", "int": "int",
                                             "float": "decimal"}.get(f.kind, "string"))
            text = f.help
            if f.default not in (None, "", [], False, 0):
                text += f' (default {f.default!r})'.replace("'", '"') if isinstance(
                    f.default, str) else f" (default {f.default})"
            rows.append((left, text))
        width = max(len(r[0]) for r in rows) + 3
        out += [f"  {left.ljust(width)}{text}".rstrip() for left, text in rows]
    return "\n".join(out) + "\n"
