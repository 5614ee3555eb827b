"""``pydocker``: parse the global flags, find the command, import only its module, run it.

Start-up time is the product here (``pydocker ps`` must stay within 3x ``docker ps``), so
this module imports nothing beyond sys/os: the command table is plain data, and the
module holding a command is imported only when that command runs.
"""

from __future__ import annotations

import os
import sys

PROG = "pydocker"

# name -> (module under pydocker.cli.commands, command key in its COMMANDS, description)
TOP: dict[str, tuple[str, str, str]] = {
    "run": ("run", "run", "Create and run a new container from an image"),
    "exec": ("execute", "exec", "Execute a command in a running container"),
    "ps": ("containers", "ps", "List containers"),
    "images": ("images", "images", "List images"),
    "create": ("run", "create", "Create a new container"),
    "start": ("lifecycle", "start", "Start one or more stopped containers"),
    "stop": ("lifecycle", "stop", "Stop one or more running containers"),
    "restart": ("lifecycle", "restart", "Restart one or more containers"),
    "kill": ("lifecycle", "kill", "Kill one or more running containers"),
    "rm": ("lifecycle", "rm", "Remove one or more containers"),
    "pause": ("lifecycle", "pause", "Pause all processes within one or more containers"),
    "unpause": ("lifecycle", "unpause", "Unpause all processes within one or more containers"),
    "wait": ("lifecycle", "wait", ("Block until one or more containers stop, then print their "
             "exit codes")),
    "rename": ("lifecycle", "rename", "Rename a container"),
    "attach": ("lifecycle", "attach", ("Attach local standard input, output, and error streams "
               "to a running container")),
    "logs": ("containers", "logs", "Fetch the logs of a container"),
    "top": ("containers", "top", "Display the running processes of a container"),
    "port": ("containers", "port", ("List port mappings or a specific mapping for the "
             "container")),
    "stats": ("stats", "stats", ("Display a live stream of container(s) resource usage "
              "statistics")),
    "cp": ("copy", "cp", "Copy files/folders between a container and the local filesystem"),
    "inspect": ("system", "inspect", "Return low-level information on Docker objects"),
    "rmi": ("images", "rmi", "Remove one or more images"),
    "tag": ("images", "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "load": ("images", "load", "Load an image from a tar archive or STDIN"),
    "save": ("images", "save", ("Save one or more images to a tar archive (streamed to STDOUT "
             "by default)")),
    "import": ("images", "import", ("Import the contents from a tarball to create a "
               "filesystem image")),
    "history": ("images", "history", "Show the history of an image"),
    "pull": ("registry", "pull", "Download an image from a registry"),
    "push": ("registry", "push", "Upload an image to a registry"),
    "login": ("registry", "login", "Authenticate to a registry"),
    "logout": ("registry", "logout", "Log out from a registry"),
    "build": ("build", "build", "Build an image from a Dockerfile"),
    "events": ("system", "events", "Get real time events from the server"),
    "version": ("system", "version", "Show the Docker version information"),
    "info": ("system", "info", "Display system-wide information"),
}

_CONTAINER_MODULES = ("run", "execute", "lifecycle", "stats", "copy")

# group -> (description, subcommand -> (module, key, description)); "" hides an alias in help
GROUPS: dict[str, tuple[str, dict[str, tuple[str, str, str]]]] = {
    "container": ("Manage containers", {
        "ls": ("containers", "ps", "List containers"),
        "ps": ("containers", "ps", ""), "list": ("containers", "ps", ""),
        **{k: v for k, v in TOP.items()
           if v[0] in _CONTAINER_MODULES or k in ("logs", "top", "port")},
        "inspect": ("containers", "inspect", ("Display detailed information on one or more "
                    "containers")),
        "prune": ("containers", "prune", "Remove all stopped containers"),
        "remove": ("lifecycle", "rm", ""),
    }),
    "image": ("Manage images", {
        "ls": ("images", "images", "List images"),
        "list": ("images", "images", ""),
        "inspect": ("images", "inspect", "Display detailed information on one or more images"),
        "rm": ("images", "rmi", "Remove one or more images"),
        "remove": ("images", "rmi", ""),
        "prune": ("images", "prune", "Remove unused images"),
        "history": ("images", "history", "Show the history of an image"),
        "tag": ("images", "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
        "load": ("images", "load", "Load an image from a tar archive or STDIN"),
        "save": ("images", "save", "Save one or more images to a tar archive"),
        "import": ("images", "import", ("Import the contents from a tarball to create a "
                   "filesystem image")),
        "pull": ("registry", "pull", "Download an image from a registry"),
        "push": ("registry", "push", "Upload an image to a registry"),
        "build": ("build", "build", "Build an image from a Dockerfile"),
    }),
    "network": ("Manage networks", {
        **{k: ("networks", k, d) for k, d in (
            ("connect", "Connect a container to a network"),
            ("create", "Create a network"),
            ("disconnect", "Disconnect a container from a network"),
            ("inspect", "Display detailed information on one or more networks"),
            ("ls", "List networks"), ("prune", "Remove all unused networks"),
            ("rm", "Remove one or more networks"))},
        "list": ("networks", "ls", ""), "remove": ("networks", "rm", ""),
    }),
    "volume": ("Manage volumes", {
        **{k: ("volumes", k, d) for k, d in (
            ("create", "Create a volume"),
            ("inspect", "Display detailed information on one or more volumes"),
            ("ls", "List volumes"), ("prune", "Remove unused local volumes"),
            ("rm", "Remove one or more volumes"))},
        "list": ("volumes", "ls", ""), "remove": ("volumes", "rm", ""),
    }),
    "system": ("Manage Docker", {
        "df": ("system", "df", "Show docker disk usage"),
        "events": ("system", "events", "Get real time events from the server"),
        "info": ("system", "info", "Display system-wide information"),
        "prune": ("system", "prune", "Remove unused data"),
    }),
}

GLOBAL_USAGE = f"Usage:  {PROG} [OPTIONS] COMMAND"
_COMMON = ("run", "exec", "ps", "build", "pull", "push", "images", "login", "logout",
           "info", "version")


def _global_help() -> str:
    lines = [GLOBAL_USAGE, "", "A self-sufficient runtime for containers", "",
             "Common Commands:"]
    lines += [f"  {name:<11} {TOP[name][2]}" for name in _COMMON]
    lines += ["", "Management Commands:"]
    lines += [f"  {name:<11} {desc}" for name, (desc, _) in GROUPS.items()]
    lines += ["", "Commands:"]
    lines += [f"  {name:<11} {TOP[name][2]}" for name in sorted(TOP) if name not in _COMMON]
    lines += ["", "Global Options:",
              "  -D, --debug              Enable debug mode",
              ("  -H, --host string        Daemon socket to connect to (env PYDOCKER_HOST, "
              "DOCKER_HOST)"),
              "  -l, --log-level string   Set the logging level (default \"info\")",
              "  -v, --version            Print version information and quit", "",
              f"Run '{PROG} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


def _group_help(group: str) -> str:
    desc, subs = GROUPS[group]
    lines = [f"Usage:  {PROG} {group} COMMAND", "", desc, "", "Commands:"]
    lines += [f"  {name:<11} {d}" for name, (_, _, d) in sorted(subs.items()) if d]
    lines += ["", f"Run '{PROG} {group} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


class _GlobalError(Exception):
    pass


_TAKES_VALUE = {"-H": "host", "--host": "host", "-l": "log-level", "--log-level": "log-level",
                "--config": "config", "-c": "context", "--context": "context",
                "--tlscacert": "tls", "--tlscert": "tls", "--tlskey": "tls"}
_SWITCHES = {"-D": "debug", "--debug": "debug", "-v": "version", "--version": "version",
             "-h": "help", "--help": "help", "--tls": "tls", "--tlsverify": "tls"}


def _parse_globals(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """Global flags come before the command, as with docker."""
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-") or arg == "-":
            break
        i += 1
        name, eq, value = arg.partition("=")
        if name in _TAKES_VALUE:
            if not eq:
                if i >= len(argv):
                    raise _GlobalError(f"flag needs an argument: {name}")
                value = argv[i]
                i += 1
            opts[_TAKES_VALUE[name]] = value
        elif arg in _SWITCHES:
            opts[_SWITCHES[arg]] = "1"
        elif not arg.startswith("--") and arg[:2] in _TAKES_VALUE:
            opts[_TAKES_VALUE[arg[:2]]] = arg[2:]  # -Hunix:///x
        elif arg.startswith("--"):
            raise _GlobalError(f"unknown flag: {name}")
        else:
            raise _GlobalError(f"unknown shorthand flag: '{arg[1]}' in {arg}")
    return opts, argv[i:]


def _resolve(rest: list[str]) -> tuple[str, str, str, list[str]] | int:
    """(module, key, invoked path, remaining argv) or an exit status."""
    name = rest[0]
    if name in TOP:
        module, key, _ = TOP[name]
        return module, key, name, rest[1:]
    if name in GROUPS:
        subs = GROUPS[name][1]
        if len(rest) == 1 or rest[1] in ("-h", "--help"):
            sys.stdout.write(_group_help(name))
            return 0
        sub = rest[1]
        if sub not in subs:
            sys.stderr.write(f"{PROG}: unknown command: {PROG} {name} {sub}\n\n"
                             f"Usage:  {PROG} {name} COMMAND\n\n"
                             f"Run '{PROG} {name} --help' for more information\n")
            return 125
        module, key, _ = subs[sub]
        return module, key, f"{name} {sub}", rest[2:]
    sys.stderr.write(f"{PROG}: unknown command: {PROG} {name}\n\n"
                     f"Run '{PROG} --help' for more information\n")
    return 125


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        gopts, rest = _parse_globals(argv)
    except _GlobalError as e:
        sys.stderr.write(f"{e}\n\n{GLOBAL_USAGE}\n\nRun '{PROG} --help' for more information\n")
        return 125
    if "version" in gopts:
        sys.stdout.write(f"{PROG} version 0.1.0, build python\n")
        return 0
    if not rest or "help" in gopts:
        sys.stdout.write(_global_help())
        return 0
    resolved = _resolve(rest)
    if isinstance(resolved, int):
        return resolved
    module, key, path, args = resolved
    return _run(module, key, path, args, gopts.get("host"))


def _run(module: str, key: str, path: str, args: list[str], host: str | None) -> int:
    import importlib

    from pydocker.cli import flags
    from pydocker.cli.client import APIError, Client, DaemonUnavailable
    from pydocker.cli.errors import CliError

    cmd = importlib.import_module(f"pydocker.cli.commands.{module}").COMMANDS[key]
    if cmd.path != path:
        cmd = cmd.with_path(path)
    try:
        opts = flags.parse(cmd, args)
    except flags.UsageError as e:
        return flags.print_usage_error(cmd, e)
    if opts.help:
        sys.stdout.write(flags.help_text(cmd))
        return 0
    client = Client(host)
    try:
        status = cmd.run(client, opts)
        sys.stdout.flush()
        return int(status or 0)
    except (DaemonUnavailable, APIError) as e:
        sys.stdout.flush()
        sys.stderr.write(f"{e}\n")
        return 1
    except CliError as e:
        sys.stdout.flush()
        if str(e):
            sys.stderr.write(f"{e}\n")
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
