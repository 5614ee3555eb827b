"""``exec``: create an exec instance, start it hijacked (or detached), return its exit code."""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import Client, quote_ref
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options


def build_exec_body(opts: Options) -> dict[str, Any]:
    from pydocker.cli.commands.runconfig import parse_env
    cmd = opts.args[1:]
    body: dict[str, Any] = {
        "User": opts.user, "Privileged": opts.privileged, "Tty": opts.tty,
        "AttachStdin": opts.interactive and not opts.detach,
        "AttachStdout": not opts.detach, "AttachStderr": not opts.detach,
        "DetachKeys": opts.detach_keys, "Env": parse_env(opts.env, opts.env_file) or None,
        "WorkingDir": opts.workdir, "Cmd": cmd,
    }
    if opts.tty and not opts.detach:
        from pydocker.cli.streams import terminal_size
        size = terminal_size()
        if size:
            body["ConsoleSize"] = list(size)
    return body


def exec_(client: Client, opts: Options) -> int:
    from pydocker.cli.commands.attaching import check_tty_input, detach_bytes
    from pydocker.cli.streams import RawTerminal, Session, terminal_size, watch_resize
    name = opts.args[0]
    if not opts.detach:
        check_tty_input(opts.tty, opts.interactive)
    body = build_exec_body(opts)
    keys = detach_bytes(opts.detach_keys)
    exec_id = client.post(f"/containers/{quote_ref(name)}/exec", None, body)["Id"]
    if opts.detach:
        client.request("POST", f"/exec/{exec_id}/start", None,
                       {"Detach": True, "Tty": opts.tty}).read()
        return 0
    start: dict[str, Any] = {"Detach": False, "Tty": opts.tty}
    if "ConsoleSize" in body:
        start["ConsoleSize"] = body["ConsoleSize"]
    sock, initial, _ = client.hijack(f"/exec/{exec_id}/start", None, start)
    if opts.tty and terminal_size():
        def resize(h: int, w: int) -> None:
            client.request("POST", f"/exec/{exec_id}/resize", {"h": h, "w": w}).read()
        watch_resize(resize)
    raw = RawTerminal(0) if (opts.tty and opts.interactive and os.isatty(0)) \
        else contextlib.nullcontext()
    session = Session(sock, initial, opts.tty, opts.interactive, keys)
    with raw:
        error = session.run()
    if error:
        sys.stderr.write(error.rstrip("\n") + "\n")
    if session.detached:
        return 0
    info = client.get(f"/exec/{exec_id}/json")
    code = info.get("ExitCode")
    if code is None:
        raise CliError("", status=126 if info.get("Running") is False else 0)
    return int(code)


COMMANDS = {
    "exec": Command("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",
                    "Execute a command in a running container", exec_, (
                        Flag("detach", "d", help="Detached mode: run command in the background"),
                        Flag("detach-keys", "", "str", help="Override the key sequence for "
                             "detaching a container"),
                        Flag("env", "e", "list", help="Set environment variables"),
                        Flag("env-file", "", "list", help="Read in a file of environment "
                             "variables"),
                        Flag("interactive", "i", help="Keep STDIN open even if not attached"),
                        Flag("privileged", "", help="Give extended privileges to the command"),
                        Flag("tty", "t", help="Allocate a pseudo-TTY"),
                        Flag("user", "u", "str", help="Username or UID (format: "
                             "\"<name|uid>[:<group|gid>]\")"),
                        Flag("workdir", "w", "str", help="Working directory inside the "
                             "container"),
                    ), min_args=2, interspersed=False, aliases=("container exec", "exec")),
}
