"""Connection failures in Go's words, as dockerd reports them (``net/http`` + ``net``):
``Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on
10.0.0.53:53: no such host`` or ``… dial tcp 127.0.0.1:5000: connect: connection refused``.
Clients and scripts match these (an offline machine's first ``docker run``)."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
from yarl import URL

RESOLV_CONF = Path("/etc/resolv.conf")


def nameserver(resolv_conf: Path = RESOLV_CONF) -> str:
    """The resolver Go's lookup names: the first ``nameserver`` line, port 53."""
    try:
        for line in resolv_conf.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] == "nameserver":
                host = fields[1]
                return f"[{host}]:53" if ":" in host else f"{host}:53"
    except OSError:
        pass
    return "127.0.0.1:53"


def _address(url: URL) -> str:
    host = url.host or ""
    return f"[{host}]:{url.port}" if ":" in host else f"{host}:{url.port}"


def _os_error(exc: BaseException) -> BaseException | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, aiohttp.ClientConnectorError):
            return seen.os_error
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def go_verb(method: str) -> str:
    """The method as Go's net/http names it in its errors (``Get "<url>": ...``)."""
    return method[:1] + method[1:].lower()


def describe(method: str, url: str, exc: BaseException) -> str:
    parsed = URL(url)
    cause = _os_error(exc)
    verb = go_verb(method)
    if isinstance(cause, socket.gaierror):
        return (f"{verb} \"{url}\": dial tcp: lookup {parsed.host} on {nameserver()}: "
                "no such host")
    if isinstance(cause, ConnectionRefusedError):
        return f"{verb} \"{url}\": dial tcp {_address(parsed)}: connect: connection refused"
    return f"{verb} \"{url}\": {exc}"
