"""``--change`` instructions (import and commit): Dockerfile lines applied to a config."""

from __future__ import annotations

import json
import shlex
from typing import Any

from pydocker.engine.errors import InvalidParameter

ALLOWED = {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
           "VOLUME", "WORKDIR"}


def _json_or_shell(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(v, str) for v in parsed):
            return parsed
    return ["/bin/sh", "-c", value]


def _pairs(value: str) -> list[tuple[str, str]]:
    words = shlex.split(value)
    if len(words) >= 1 and "=" not in words[0]:
        key, _, rest = value.strip().partition(" ")
        return [(key, rest.strip())]
    return [(w.partition("=")[0], w.partition("=")[2]) for w in words]


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    conf = dict(config)
    for line in changes:
        line = line.strip()
        if not line:
            continue
        word, _, value = line.partition(" ")
        instruction = word.upper()
        if instruction not in ALLOWED:
            raise InvalidParameter(f"{word} is not a valid change command")
        if instruction == "CMD":
            conf["Cmd"] = _json_or_shell(value)
        elif instruction == "ENTRYPOINT":
            conf["Entrypoint"] = _json_or_shell(value)
        elif instruction == "ENV":
            env = [e for e in conf.get("Env") or []]
            for key, val in _pairs(value):
                env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={val}"]
            conf["Env"] = env
        elif instruction == "LABEL":
            conf["Labels"] = {**(conf.get("Labels") or {}), **dict(_pairs(value))}
        elif instruction == "EXPOSE":
            ports = dict(conf.get("ExposedPorts") or {})
            for port in value.split():
                ports[port if "/" in port else f"{port}/tcp"] = {}
            conf["ExposedPorts"] = ports
        elif instruction == "VOLUME":
            vols = dict(conf.get("Volumes") or {})
            paths = json.loads(value) if value.strip().startswith("[") else value.split()
            for path in paths:
                vols[path] = {}
            conf["Volumes"] = vols
        elif instruction == "WORKDIR":
            conf["WorkingDir"] = value.strip()
        elif instruction == "USER":
            conf["User"] = value.strip()
        elif instruction == "STOPSIGNAL":
            conf["StopSignal"] = value.strip()
        elif instruction == "ONBUILD":
            conf["OnBuild"] = list(conf.get("OnBuild") or []) + [value.strip()]
    return conf
