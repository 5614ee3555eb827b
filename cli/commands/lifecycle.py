"""Container state changes: start, stop, restart, kill, rm, pause, unpause, wait, rename,
attach. Multi-container verbs print each name that worked and each error, exit 1 if any
failed (docker's behaviour)."""

from __future__ import annotations

import sys
from collections.abc import Callable

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import APIError, Client, quote_ref
from pydocker.cli.errors import CliError
from pydocker.cli.flags import Command, Flag, Options


def for_each(names: list[str], action: Callable[[str], Any], echo: bool = True) -> list[str]:
    """Apply ``action`` to each name; print names (or results) and errors; return failures."""
    failed = []
    for name in names:
        try:
            result = action(name)
        except APIError as e:
            sys.stdout.flush()
            sys.stderr.write(f"{e}\n")
            failed.append(name)
            continue
        if echo:
            sys.stdout.write(f"{name if result is None else result}\n")
            sys.stdout.flush()
    return failed


def _post(client: Client, name: str, verb: str, query: dict[str, Any] | None = None) -> None:
    client.request("POST", f"/containers/{quote_ref(name)}/{verb}", query).read()


def _timeout_query(opts: Options) -> dict[str, Any]:
    return {"t": opts.time if "time" in opts.changed else None,
            "signal": opts.signal or None}


def stop(client: Client, opts: Options) -> int:
    q = _timeout_query(opts)
    return 1 if for_each(opts.args, lambda n: _post(client, n, "stop", q)) else 0


def restart(client: Client, opts: Options) -> int:
    q = _timeout_query(opts)
    return 1 if for_each(opts.args, lambda n: _post(client, n, "restart", q)) else 0


def kill(client: Client, opts: Options) -> int:
    q = {"signal": opts.signal or None}
    return 1 if for_each(opts.args, lambda n: _post(client, n, "kill", q)) else 0


def pause(client: Client, opts: Options) -> int:
    return 1 if for_each(opts.args, lambda n: _post(client, n, "pause")) else 0


def unpause(client: Client, opts: Options) -> int:
    return 1 if for_each(opts.args, lambda n: _post(client, n, "unpause")) else 0


def rm(client: Client, opts: Options) -> int:
    q = {"force": True if opts.force else None, "v": True if opts.volumes else None,
         "link": True if opts.link else None}

    def remove(name: str) -> None:
        client.request("DELETE", f"/containers/{quote_ref(name)}", q).read()
    return 1 if for_each(opts.args, remove) else 0


def wait(client: Client, opts: Options) -> int:
    def one(name: str) -> int:
        body = client.post(f"/containers/{quote_ref(name)}/wait") or {}
        return int(body.get("StatusCode", 0))
    return 1 if for_each(opts.args, one) else 0


def rename(client: Client, opts: Options) -> None:
    old, new = opts.args
    if not new.strip():
        raise CliError("Error: neither old nor new names may be empty")
    try:
        _post(client, old, "rename", {"name": new})
    except APIError as e:
        raise CliError(f"{e}\nError: failed to rename container named {old}") from None


def start(client: Client, opts: Options) -> int:
    if opts.attach or opts.interactive:
        if len(opts.args) > 1:
            raise CliError("Error: you cannot start and attach multiple containers at once")
        from pydocker.cli.commands.attaching import attach_session, check_tty_input
        info = client.get(f"/containers/{quote_ref(opts.args[0])}/json")
        cfg = info.get("Config") or {}
        tty = bool(cfg.get("Tty"))
        stdin = bool(opts.interactive and cfg.get("OpenStdin"))
        check_tty_input(tty, stdin)
        auto_remove = bool((info.get("HostConfig") or {}).get("AutoRemove"))
        status = attach_session(client, info["Id"], tty=tty, stdin=stdin, start=True,
                                wait="removed" if auto_remove else "next-exit",
                                detach_keys=opts.detach_keys)
        return 0 if status is None else status
    failed = for_each(opts.args, lambda n: _post(client, n, "start"))
    if failed:
        raise CliError(f"Error: failed to start containers: {', '.join(failed)}")
    return 0


def attach(client: Client, opts: Options) -> int:
    from pydocker.cli.commands.attaching import attach_session, check_tty_input
    info = client.get(f"/containers/{quote_ref(opts.args[0])}/json")
    state = info.get("State") or {}
    if not state.get("Running"):
        raise CliError("You cannot attach to a stopped container, start it first")
    if state.get("Paused"):
        raise CliError("You cannot attach to a paused container, unpause it first")
    cfg = info.get("Config") or {}
    tty = bool(cfg.get("Tty"))
    stdin = bool(cfg.get("OpenStdin")) and not opts.no_stdin
    check_tty_input(tty, stdin)
    status = attach_session(client, info["Id"], tty=tty, stdin=stdin, start=False,
                            wait="not-running", sig_proxy=opts.sig_proxy,
                            detach_keys=opts.detach_keys)
    if status is None:
        return 0
    return status


_TIME = Flag("time", "t", "int", help="Seconds to wait before killing the container")
_SIGNAL = Flag("signal", "s", "str", help="Signal to send to the container")
_DETACH_KEYS = Flag("detach-keys", "", "str", help="Override the key sequence for detaching a "
                    "container")


def _multi(path: str, help_text: str, fn: Callable[..., Any],
           flags: tuple[Flag, ...] = ()) -> Command:
    return Command(path, "[OPTIONS] CONTAINER [CONTAINER...]", help_text, fn, flags,
                   min_args=1, aliases=(f"container {path}", path))


COMMANDS = {
    "start": _multi("start", "Start one or more stopped containers", start, (
        Flag("attach", "a", help="Attach STDOUT/STDERR and forward signals"),
        _DETACH_KEYS,
        Flag("interactive", "i", help="Attach container's STDIN"),
    )),
    "stop": _multi("stop", "Stop one or more running containers", stop, (_SIGNAL, _TIME)),
    "restart": _multi("restart", "Restart one or more containers", restart, (_SIGNAL, _TIME)),
    "kill": _multi("kill", "Kill one or more running containers", kill, (_SIGNAL,)),
    "rm": _multi("rm", "Remove one or more containers", rm, (
        Flag("force", "f", help="Force the removal of a running container (uses SIGKILL)"),
        Flag("link", "l", help="Remove the specified link"),
        Flag("volumes", "v", help="Remove anonymous volumes associated with the container"),
    )),
    "pause": _multi("pause", "Pause all processes within one or more containers", pause),
    "unpause": _multi("unpause", "Unpause all processes within one or more containers",
                      unpause),
    "wait": _multi("wait", "Block until one or more containers stop, then print their exit "
                   "codes", wait),
    "rename": Command("rename", "CONTAINER NEW_NAME", "Rename a container", rename,
                      min_args=2, max_args=2),
    "attach": Command("attach", "[OPTIONS] CONTAINER", "Attach local standard input, output, "
                      "and error streams to a running container", attach, (
                          _DETACH_KEYS,
                          Flag("no-stdin", "", help="Do not attach STDIN"),
                          Flag("sig-proxy", "", "bool", True, help="Proxy all received signals "
                               "to the process"),
                      ), min_args=1, max_args=1),
}
