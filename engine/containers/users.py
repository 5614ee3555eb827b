"""``-u user[:group]`` resolved in the image's /etc/passwd and /etc/group, as Docker does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydocker.engine.errors import InvalidParameter

from .model import Container


def for_container(c: Container, spec: str | None = None) -> dict[str, Any]:
    """The uid, gids of a process in ``c``: ``spec`` (an exec's ``-u``) or the container's
    User, looked up in the image's files. Blocking: it reads the layers."""
    user = (c.config.get("User") or "") if spec is None else spec
    group_add = c.host_config.get("GroupAdd") or []
    layers = [c.rootfs.get("upper", ""), *c.rootfs.get("lower", [])]
    return resolve(user, read_in_layers(layers, "etc/passwd"),
                   read_in_layers(layers, "etc/group"), group_add)


def read_in_layers(layers: list[str], relpath: str) -> str:
    """The file as the container would see it: the first layer (top first) that has it."""
    for layer in layers:
        path = Path(layer) / relpath
        if path.is_file():
            try:
                return path.read_text(errors="replace")
            except OSError:
                return ""
    return ""


def _table(text: str) -> list[list[str]]:
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def resolve(spec: str, passwd: str, group: str, group_add: list[str] | None = None
            ) -> dict[str, Any]:
    """The process's uid, gid, supplementary gids and home (runc's GetExecUser): HOME is
    the passwd entry's, "/" without one; the groups are the primary one, those of the
    image's /etc/group that list the user, and ``--group-add``."""
    user, _, grp = (spec or "").partition(":")
    user = user or "0"
    users = _table(passwd)
    groups = _table(group)
    if user.isdigit():
        match = [u for u in users if len(u) > 3 and u[2] == user]
        uid = int(user)
    else:
        match = [u for u in users if u[0] == user and len(u) > 3]
        if not match:
            raise InvalidParameter(
                f"unable to find user {user}: no matching entries in passwd file")
        uid = int(match[0][2])
    gid = int(match[0][3]) if match else 0
    name = match[0][0] if match else ""
    home = (match[0][5] if match and len(match[0]) > 5 else "") or "/"
    if grp:
        gid = _group_id(grp, groups)
    extra = [_group_id(g, groups) for g in group_add or []]
    if name and not grp:
        extra += [int(g[2]) for g in groups
                  if len(g) > 3 and name in g[3].split(",") and int(g[2]) != gid]
    # The primary group is among the supplementary ones too, as runc sets them up.
    return {"uid": uid, "gid": gid, "additional_gids": sorted(set(extra) | {gid}), "home": home}


def _group_id(ref: str, groups: list[list[str]]) -> int:
    if ref.isdigit():
        return int(ref)
    match = [g for g in groups if g[0] == ref and len(g) > 2]
    if not match:
        raise InvalidParameter(f"unable to find group {ref}: no matching entries in group file")
    return int(match[0][2])
