"""Instruction checks and stages: the parsed nodes as the classic builder accepts them.

Errors here carry dockerd's ``dockerfile parse error line N: ...`` prefix and are raised
before the build's stream starts (a 400), as moby's instructions.Parse does. Flags the
classic builder knows only under BuildKit (``RUN --mount``, ``--chmod``) pass here and are
refused at their step, in-band, with the builder's own message, as dockerd 20.10 does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydocker.engine.errors import InvalidParameter

from .parser import Node

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
_FLAGS: dict[str, tuple[str, ...]] = {
    "add": ("chown", "chmod"),
    "copy": ("chown", "chmod", "from"),
    "from": ("platform",),
    "run": ("mount",),
    "healthcheck": ("interval", "timeout", "start-period", "retries"),
}
_EXACTLY_ONE = ("maintainer", "workdir", "user", "stopsignal")
_AT_LEAST_ONE = ("expose", "volume", "label", "env", "arg", "shell", "run")
NEEDS_BUILDKIT = ("the --{} option requires BuildKit. Refer to https://docs.docker.com/go/"
                  "buildkit/ to learn how to build images with BuildKit enabled")


class DockerfileError(InvalidParameter):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(f"dockerfile parse error line {node.start_line}: {message}")


@dataclass
class Stage:
    base: str
    name: str
    node: Node
    platform: str = ""
    commands: list[Node] = field(default_factory=list)


@dataclass
class Plan:
    meta_args: list[Node]
    stages: list[Stage]

    def step_count(self) -> int:
        return len(self.meta_args) + sum(1 + len(s.commands) for s in self.stages)

    def target_index(self, target: str) -> int:
        if not target:
            return len(self.stages) - 1
        for i, stage in enumerate(self.stages):
            if stage.name == target.lower():
                return i
        raise InvalidParameter(f"failed to reach build target {target} in Dockerfile")


def parse_flags(node: Node) -> dict[str, str]:
    """``--name=value`` flags the instruction knows; a bare ``--name`` means "true"."""
    known = _FLAGS.get(node.cmd, ())
    out: dict[str, str] = {}
    for flag in node.flags:
        name, eq, value = flag[2:].partition("=")
        if name not in known:
            raise DockerfileError(node, f"Unknown flag: {name}")
        out[name] = value if eq else "true"
    return out


def check(node: Node) -> None:
    """The argument-count and form rules of one instruction."""
    cmd, n = node.cmd, len(node.args) + len(node.pairs)
    parse_flags(node)
    if cmd not in _KNOWN:
        raise DockerfileError(node, f"unknown instruction: {cmd.upper()}")
    if cmd in _EXACTLY_ONE and n != 1:
        raise DockerfileError(node, f"{cmd.upper()} requires exactly one argument")
    if cmd in _AT_LEAST_ONE and n == 0:
        raise DockerfileError(node, f"{cmd.upper()} requires at least one argument")
    if cmd == "shell" and not node.json:
        raise DockerfileError(node, "SHELL requires the arguments to be in JSON form")
    if cmd in ("copy", "add") and n < 2:
        raise DockerfileError(node, f"{cmd.upper()} requires at least two arguments, but only "
                              "one was provided. Destination could not be determined")
    if cmd == "volume" and any(not a.strip() for a in node.args):
        raise DockerfileError(node, "VOLUME specified can not be an empty string")
    if cmd == "healthcheck":
        _check_health(node)
    if cmd == "onbuild":
        _check_onbuild(node)


def _check_health(node: Node) -> None:
    kind = node.kind.upper()
    if kind == "NONE":
        if node.args:
            raise DockerfileError(node, "HEALTHCHECK NONE takes no arguments")
    elif kind != "CMD":
        raise DockerfileError(node, f'Unknown type "{node.kind}" in HEALTHCHECK (try CMD)')
    elif not node.args:
        raise DockerfileError(node, "Missing command after HEALTHCHECK CMD")


def _check_onbuild(node: Node) -> None:
    child = node.child
    if child is None:
        raise DockerfileError(node, "ONBUILD requires at least one argument")
    if child.cmd == "onbuild":
        raise DockerfileError(node, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if child.cmd in ("from", "maintainer"):
        raise DockerfileError(node, f"{child.cmd.upper()} isn't allowed as an ONBUILD trigger")
    child.start_line = node.start_line
    check(child)


def plan(nodes: list[Node]) -> Plan:
    """Meta ARGs, then one stage per FROM with its instructions, every node checked."""
    meta: list[Node] = []
    stages: list[Stage] = []
    for node in nodes:
        if node.cmd == "from":
            stages.append(_stage(node))
            continue
        check(node)
        if stages:
            stages[-1].commands.append(node)
        elif node.cmd == "arg":
            meta.append(node)
        else:
            raise InvalidParameter("no build stage in current context")
    if not stages:
        raise InvalidParameter("no build stage in current context")
    return Plan(meta, stages)


def _stage(node: Node) -> Stage:
    flags = parse_flags(node)
    args = node.args
    if not (len(args) == 1 or (len(args) == 3 and args[1].lower() == "as")):
        raise DockerfileError(node, "FROM requires either one or three arguments")
    name = args[2].lower() if len(args) == 3 else ""
    if name and not _STAGE_NAME.match(name):
        raise DockerfileError(node, f'invalid name for build stage: "{args[2]}", name can\'t '
                              "start with a number or contain symbols")
    return Stage(base=args[0], name=name, node=node, platform=flags.get("platform", ""))


_KNOWN = ("add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck",
          "label", "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume",
          "workdir")
