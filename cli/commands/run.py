"""``run`` and ``create``: create (pulling a missing image), then attach/start/wait.

Failures are reported as docker does: ``pydocker: Error response from daemon: ...``, a
pointer to ``--help``, and status 125 — or 126/127 when the container's command could
not be executed (docker/cli ``run.go`` runStartContainerErr).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import APIError, Client, quote_ref
from pydocker.cli.commands.runconfig import CREATE_ONLY, RUN_FLAGS, build_create_body
from pydocker.cli.errors import CliError
from pydocker.cli.flags import PROG, Command, Options


def run_failure(path: str, message: str, status: int = 125) -> CliError:
    return CliError(f"{PROG}: {message}\n\nRun '{PROG} {path} --help' for more information",
                    status)


def start_status(message: str) -> int:
    """docker's exit status for a container that could not start."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message:
        return 126
    return 125


def familiar(image: str) -> str:
    """'busybox' -> 'busybox:latest' (what docker prints in 'Unable to find image')."""
    if "@" in image:
        return image
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last else image + ":latest"


def pull(client: Client, image: str, quiet: bool, platform: str = "") -> None:
    """create.go pullImage: progress on stderr, the stored credentials for its registry."""
    from pydocker.cli.commands.registry import pull_image
    from pydocker.cli.reference import parse
    ref = parse(image)
    if ref.name_only:
        ref.tag = "latest"
    pull_image(client, ref, False, platform, None if quiet else sys.stderr)


def create_container(client: Client, opts: Options, path: str) -> str:
    body, query = build_create_body(opts)
    image = opts.args[0]
    if opts.pull == "always":
        pull(client, image, opts.quiet, opts.platform)
    try:
        result = client.post("/containers/create", query, body)
    except APIError as e:
        if e.status != 404 or "No such image" not in e.message or opts.pull == "never":
            raise run_failure(path, str(e)) from None
        sys.stderr.write(f"Unable to find image '{familiar(image)}' locally\n")
        try:
            pull(client, image, opts.quiet, opts.platform)
            result = client.post("/containers/create", query, body)
        except APIError as e2:
            raise run_failure(path, str(e2)) from None
        except CliError as e2:
            raise run_failure(path, str(e2)) from None
    for warning in result.get("Warnings") or []:
        sys.stderr.write(f"WARNING: {warning}\n")
    cid = str(result["Id"])
    if opts.cidfile:
        with open(opts.cidfile, "x", encoding="utf-8") as f:
            f.write(cid)
    return cid


def create(client: Client, opts: Options) -> None:
    cid = create_container(client, opts, "create")
    sys.stdout.write(cid + "\n")


def run(client: Client, opts: Options) -> int:
    from pydocker.cli.commands.attaching import attach_session, check_tty_input
    attach = {a.lower() for a in opts.attach}
    if not opts.detach:
        if not attach:
            attach = {"stdout", "stderr"} | ({"stdin"} if opts.interactive else set())
        check_tty_input(opts.tty, "stdin" in attach)
    cid = create_container(client, opts, "run")
    if opts.detach:
        try:
            client.request("POST", f"/containers/{quote_ref(cid)}/start")
        except APIError as e:
            raise run_failure("run", str(e), start_status(e.message)) from None
        sys.stdout.write(cid + "\n")
        return 0

    def start_failed(e: APIError) -> None:
        raise run_failure("run", str(e), start_status(e.message))

    status = attach_session(
        client, cid, tty=opts.tty, stdin="stdin" in attach, stdout="stdout" in attach,
        stderr="stderr" in attach, start=True,
        wait="removed" if opts.rm else "next-exit", sig_proxy=opts.sig_proxy,
        detach_keys=opts.detach_keys, start_error=start_failed)
    return 0 if status is None else status


def _create_flags() -> tuple[Any, ...]:
    return tuple(f for f in RUN_FLAGS if f.long not in CREATE_ONLY)


COMMANDS = {
    "run": Command("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]",
                   "Create and run a new container from an image", run, RUN_FLAGS,
                   min_args=1, interspersed=False, aliases=("container run", "run")),
    "create": Command("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container",
                      create, _create_flags(), min_args=1, interspersed=False,
                      aliases=("container create", "create")),
}
