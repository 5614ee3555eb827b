"""``cp``: tar streams through GET/PUT /containers/{id}/archive, docker's naming rules.

Copying out: the archive's root entry is the source's basename; into an existing local
directory it keeps that name, otherwise it is renamed to the destination's basename.
Copying in: the same rule, decided by stat-ing the destination in the container.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import tarfile

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import Client, quote_ref
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options


def split_cp_arg(arg: str) -> tuple[str | None, str]:
    """'ctr:/path' -> ('ctr', '/path'); a local path (absolute, ./ or no colon) -> (None, p)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    container, _, path = arg.partition(":")
    return container, path


def _renamed(members: list[tarfile.TarInfo], new_root: str) -> None:
    if not members:
        return
    old_root = members[0].name.split("/", 1)[0]
    for m in members:
        first, sep, rest = m.name.partition("/")
        if first == old_root:
            m.name = new_root + (sep + rest if sep else "")


def copy_from(client: Client, container: str, src: str, dest: str, opts: Options) -> int:
    resp = client.request("GET", f"/containers/{quote_ref(container)}/archive", {"path": src})
    data = resp.read()
    if dest == "-":
        sys.stdout.buffer.write(data)
        return 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        if os.path.isdir(dest):
            target = dest
        else:
            parent = os.path.dirname(os.path.abspath(dest))
            if not os.path.isdir(parent):
                raise CliError(f"Error response from daemon: invalid output path: directory "
                               f"{parent!r} does not exist")
            _renamed(members, os.path.basename(os.path.abspath(dest)))
            target = parent
        tar.extractall(target, members=members, filter="tar")
    _report(len(data), dest, opts)
    return 0


def _stat(client: Client, container: str, path: str) -> dict[str, Any] | None:
    resp = client.request("HEAD", f"/containers/{quote_ref(container)}/archive",
                          {"path": path}, ok=(404,))
    resp.read()
    if resp.status == 404:
        return None
    raw = resp.headers.get("x-docker-container-path-stat")
    return json.loads(base64.b64decode(raw)) if raw else {}


def copy_to(client: Client, src: str, container: str, dest: str, opts: Options) -> int:
    if src == "-":
        body = sys.stdin.buffer.read()
        target_dir = dest
    else:
        if not os.path.lexists(src):
            raise CliError(f"lstat {os.path.abspath(src)}: no such file or directory")
        stat = _stat(client, container, dest)
        is_dir = stat is not None and bool(stat.get("mode", 0) & (1 << 31))
        if is_dir or dest.endswith("/"):
            target_dir, name = dest, os.path.basename(os.path.abspath(src))
        else:
            target_dir = os.path.dirname(dest.rstrip("/")) or "/"
            name = os.path.basename(dest.rstrip("/"))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(src, arcname=name, recursive=True)
        body = buf.getvalue()
    query = {"path": target_dir, "noOverwriteDirNonDir": True,
             "copyUIDGID": True if opts.archive else None}
    client.request("PUT", f"/containers/{quote_ref(container)}/archive", query, body,
                   {"Content-Type": "application/x-tar"}).read()
    _report(len(body), f"{container}:{dest}", opts)
    return 0


def _report(size: int, dest: str, opts: Options) -> None:
    if not opts.quiet and os.isatty(2):
        from pydocker.cli.output import human_size
        sys.stderr.write(f"Successfully copied {human_size(size)} to {dest}\n")


def cp(client: Client, opts: Options) -> int:
    (sc, sp), (dc, dp) = split_cp_arg(opts.args[0]), split_cp_arg(opts.args[1])
    if sc and dc:
        raise CliError("copying between containers is not supported")
    if not sc and not dc:
        raise CliError("must specify at least one container source")
    if sc:
        return copy_from(client, sc, sp, dp, opts)
    assert dc is not None
    return copy_to(client, sp, dc, dp, opts)


COMMANDS = {
    "cp": Command("cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tpydocker cp [OPTIONS] "
                  "SRC_PATH|- CONTAINER:DEST_PATH", "Copy files/folders between a container "
                  "and the local filesystem", cp, (
                      Flag("archive", "a", help="Archive mode (copy all uid/gid information)"),
                      Flag("follow-link", "L", help="Always follow symbol link in SRC_PATH"),
                      Flag("quiet", "q", help="Suppress progress output during copy"),
                  ), min_args=2, max_args=2, aliases=("container cp", "cp")),
}
