"""Attach to a container's streams the way docker run/start -a/attach do.

Order matters (docker/cli run.go): hijack the attach connection first, send the wait
request second (so an exit right after start is not missed), start third, then pump the
streams and take the exit code from the wait response.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

TYPE_CHECKING = False  # importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

from pydocker.cli.client import APIError, Client, Response
from pydocker.cli.errors import CliError
from pydocker.cli.streams import (
    DEFAULT_DETACH_KEYS,
    RawTerminal,
    Session,
    parse_detach_keys,
    terminal_size,
    watch_resize,
)

PROXIED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


class Waiter:
    """``POST /containers/{id}/wait`` on a connection of its own, headers read at once."""

    def __init__(self, client: Client, cid: str, condition: str) -> None:
        self.client = Client(client.host)
        self.client.version = client.negotiate()
        self.resp: Response = self.client.request("POST", f"/containers/{cid}/wait",
                                                  {"condition": condition})

    def result(self) -> int:
        try:
            body = self.resp.json() or {}
        except (OSError, ValueError) as e:
            raise CliError(f"error waiting for container: {e}", status=125) from None
        err = (body.get("Error") or {}).get("Message")
        if err:
            raise CliError(f"error waiting for container: {err}", status=125)
        return int(body.get("StatusCode", 0))


def detach_bytes(spec: str) -> bytes:
    if not spec:
        return DEFAULT_DETACH_KEYS
    try:
        return parse_detach_keys(spec)
    except ValueError as e:
        raise CliError(str(e), status=125) from None


def check_tty_input(tty: bool, stdin: bool) -> None:
    if tty and stdin and not os.isatty(0):
        raise CliError("the input device is not a TTY", status=1)


@contextlib.contextmanager
def signal_proxy(client: Client, cid: str, enabled: bool) -> Any:
    """Forward the signals we receive to the container (docker's --sig-proxy)."""
    if not enabled:
        yield
        return
    saved = {}

    def forward(signum: int, _frame: object) -> None:
        try:
            client.request("POST", f"/containers/{cid}/kill",
                           {"signal": signal.Signals(signum).name})
        except (APIError, OSError):
            pass

    for name in PROXIED_SIGNALS:
        sig = getattr(signal, name)
        saved[sig] = signal.signal(sig, forward)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def attach_session(client: Client, cid: str, *, tty: bool, stdin: bool, stdout: bool = True,
                   stderr: bool = True, start: bool = False, wait: str | None = None,
                   sig_proxy: bool = True, detach_keys: str = "",
                   start_error: Any = None) -> int | None:
    """Run an attached session; return the exit code, or None if the user detached."""
    query: dict[str, Any] = {"stream": True, "stdin": stdin, "stdout": stdout,
                             "stderr": stderr}
    if detach_keys:
        query["detachKeys"] = detach_keys
    keys = detach_bytes(detach_keys)
    sock, initial, _ = client.hijack(f"/containers/{cid}/attach", query)
    waiter = Waiter(client, cid, wait) if wait else None
    if start:
        try:
            client.request("POST", f"/containers/{cid}/start")
        except APIError as e:
            sock.close()
            if start_error is not None:
                start_error(e)
            raise
    if tty and terminal_size():
        watch_resize(lambda h, w: _resize(client, cid, h, w))
    raw = RawTerminal(0) if (tty and stdin and os.isatty(0)) else contextlib.nullcontext()
    session = Session(sock, initial, tty, stdin, keys)
    with signal_proxy(client, cid, sig_proxy and not tty), raw:
        error = session.run()
    if error:
        sys.stderr.write(error.rstrip("\n") + "\n")
    if session.detached:
        return None
    if waiter is not None:
        return waiter.result()
    return 0


def _resize(client: Client, cid: str, h: int, w: int) -> None:
    client.request("POST", f"/containers/{cid}/resize", {"h": h, "w": w})
