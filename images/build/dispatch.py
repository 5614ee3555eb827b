"""What each metadata instruction does to the image config, and the ``#(nop)`` text it
leaves in history, as dockerd 20.10's dispatchers write them. Pure."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from pydocker.engine.errors import InvalidParameter

from .instructions import DockerfileError, parse_flags
from .parser import Node
from .shell import expand_word

JSON = dict[str, Any]
DEFAULT_SHELL = ["/bin/sh", "-c"]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}


def go_quote_list(items: list[str]) -> str:
    """Go's ``%q`` of a []string: ``["a" "b"]``."""
    return "[" + " ".join(json.dumps(s, ensure_ascii=False) for s in items) + "]"


def shell_of(config: JSON) -> list[str]:
    return list(config.get("Shell") or DEFAULT_SHELL)


def command_of(node: Node, config: JSON) -> list[str]:
    """RUN/CMD/ENTRYPOINT's argv: the exec form as written, the shell form through SHELL."""
    if node.json:
        return list(node.args)
    return shell_of(config) + [" ".join(node.args)] if node.args else []


def set_env(config: JSON, key: str, value: str) -> None:
    env = [e for e in config.get("Env") or [] if e.partition("=")[0] != key]
    config["Env"] = env + [f"{key}={value}"]


def env_pairs(node: Node, env: Mapping[str, str], escape: str) -> list[tuple[str, str]]:
    return [(expand_word(k, env, escape), expand_word(v or "", env, escape))
            for k, v in node.pairs]


def apply_metadata(node: Node, config: JSON, env: Mapping[str, str], escape: str,
                   cmd_set: bool) -> str:
    """Change ``config`` for ENV ... SHELL; the history comment (after ``#(nop) ``)."""
    cmd = node.cmd

    def word(text: str) -> str:
        return expand_word(text, env, escape)

    if cmd == "env":
        pairs = env_pairs(node, env, escape)
        for k, v in pairs:
            set_env(config, k, v)
        return "ENV " + " ".join(f"{k}={v}" for k, v in pairs)
    if cmd == "label":
        pairs = env_pairs(node, env, escape)
        config["Labels"] = {**(config.get("Labels") or {}), **dict(pairs)}
        return "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)
    if cmd in ("cmd", "entrypoint"):
        argv = command_of(node, config)
        config["Cmd" if cmd == "cmd" else "Entrypoint"] = argv or None
        if cmd == "entrypoint" and not cmd_set:
            config["Cmd"] = None
        return f"{cmd.upper()} {go_quote_list(argv)}"
    if cmd == "expose":
        ports = [word(a) for a in node.args]
        exposed = dict(config.get("ExposedPorts") or {})
        for p in ports:
            exposed[_port(p)] = {}
        config["ExposedPorts"] = exposed
        return "EXPOSE " + " ".join(sorted(ports))
    if cmd == "volume":
        paths = [word(a) for a in node.args]
        if any(not p.strip() for p in paths):
            raise InvalidParameter("VOLUME specified can not be an empty string")
        config["Volumes"] = {**(config.get("Volumes") or {}), **{p: {} for p in paths}}
        return f"VOLUME [{' '.join(paths)}]"  # %v
    if cmd == "user":
        user = config["User"] = word(node.args[0])
        return "USER " + user
    if cmd == "workdir":
        path = word(node.args[0])
        workdir = config["WorkingDir"] = posixpath.normpath(posixpath.join(
            config.get("WorkingDir") or "/", path))
        return "WORKDIR " + workdir
    if cmd == "stopsignal":
        signal = config["StopSignal"] = word(node.args[0])
        return "STOPSIGNAL " + signal
    if cmd == "shell":
        config["Shell"] = list(node.args)
        return f"SHELL [{' '.join(node.args)}]"  # Go's %v here, not %q
    if cmd == "onbuild":
        trigger = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original)
        config["OnBuild"] = list(config.get("OnBuild") or []) + [trigger]
        return "ONBUILD " + trigger
    if cmd == "healthcheck":
        check = config["Healthcheck"] = healthcheck(node, config)
        return "HEALTHCHECK " + _health_text(check)
    raise InvalidParameter(f"unknown instruction: {cmd.upper()}")


def _port(spec: str) -> str:
    port, _, proto = spec.partition("/")
    if not re.fullmatch(r"\d+(-\d+)?", port):
        raise InvalidParameter(f"Invalid containerPort: {port}")
    return f"{port}/{(proto or 'tcp').lower()}"


def parse_duration(node: Node, name: str, text: str) -> int:
    if text in ("", "0"):
        return 0
    total, pos = 0.0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise DockerfileError(node, f'time: invalid duration "{text}"')
    if 0 < total < 1_000_000:
        raise DockerfileError(node, f"Interval \"{name}\" cannot be less than 1ms")
    return int(total)


def healthcheck(node: Node, config: JSON) -> JSON:
    if node.kind.upper() == "NONE":
        return {"Test": ["NONE"]}
    flags = parse_flags(node)
    test = ["CMD", *node.args] if node.json else ["CMD-SHELL", " ".join(node.args)]
    retries = int(flags.get("retries") or 0)
    if retries < 0:
        raise DockerfileError(node, f"--retries cannot be negative ({retries})")
    out: JSON = {"Test": test}
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start-period", "StartPeriod")):
        value = parse_duration(node, flag, flags.get(flag, ""))
        if value:
            out[key] = value
    if retries:
        out["Retries"] = retries
    return out


def go_duration(ns: int) -> str:
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:g}ms"
    h, rest = divmod(ns, 3_600_000_000_000)
    m, rest = divmod(rest, 60_000_000_000)
    s = f"{rest / 1_000_000_000:g}s"
    return (f"{h}h{m}m" if h else (f"{m}m" if m else "")) + s


def _health_text(h: JSON) -> str:
    """Go's ``%q`` of the *HealthConfig: ``&{["CMD-SHELL" "x"] "5s" "3s" "0s" '\\x03'}``."""
    durations = " ".join(f'"{go_duration(int(h.get(k) or 0))}"'
                         for k in ("Interval", "Timeout", "StartPeriod"))
    retries = int(h.get("Retries") or 0)
    return f"&{{{go_quote_list(h['Test'])} {durations} '\\x{retries:02x}'}}"
