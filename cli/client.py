"""HTTP/1.1 over the daemon socket, written on the raw socket module.

http.client drags in the email package (~10 ms of start-up) and cannot hand back the
socket after a ``101 UPGRADED``; this client does just what the Engine API needs: one
keep-alive connection, Content-Length / chunked / read-until-close bodies, streaming
bodies, and hijacking for attach and exec.
"""

from __future__ import annotations

import _socket  # the socket module costs ~4 ms of start-up (selectors, enum wrappers)
import json
import os

TYPE_CHECKING = False  # typing costs ~3 ms of start-up: only for the type checker
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

DEFAULT_HOST = "unix:///var/run/pydocker.sock"
CLIENT_API_VERSION = "1.50"  # what docker CLI 28 speaks
MIN_API_VERSION = "1.24"
USER_AGENT = "pydocker-cli/0.1.0"


class DaemonUnavailable(Exception):
    """The socket cannot be reached; str() is docker's message."""


class APIError(Exception):
    """The daemon answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"Error response from daemon: {self.message}"


def host_from_env() -> str:
    return os.environ.get("PYDOCKER_HOST") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in v.split("."))
    except ValueError:
        return (0,)


class Response:
    """Status, lower-cased headers and a body read lazily from the connection."""

    def __init__(self, conn: Connection, status: int, reason: str,
                 headers: dict[str, str]) -> None:
        self.conn = conn
        self.status = status
        self.reason = reason
        self.headers = headers
        self._done = False

    def iter_raw(self) -> Iterator[bytes]:
        """The body as chunks, as they arrive."""
        if self._done:
            return
        c = self.conn
        te = self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        try:
            if c.last_method == "HEAD" or self.status in (101, 204, 304):
                pass
            elif "chunked" in te:
                while True:
                    size = int(c.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while c.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    yield from c.read_exactly(size, "mid-chunk")
                    c.readline()
            elif length is not None:
                yield from c.read_exactly(int(length), "mid-body")
            else:
                while data := c.read_some(65536):
                    yield data
                c.close()
        finally:
            self._done = True
        if self.headers.get("connection", "").lower() == "close":
            c.close()

    def read(self) -> bytes:
        return b"".join(self.iter_raw())

    def json(self) -> Any:
        data = self.read()
        return json.loads(data) if data else None

    def iter_json(self) -> Iterator[Any]:
        """Concatenated or newline-separated JSON values (events, stats, progress)."""
        decoder = json.JSONDecoder()
        buf = ""
        for chunk in self.iter_raw():
            buf += chunk.decode("utf-8", "replace")
            while True:
                buf = buf.lstrip()
                if not buf:
                    break
                try:
                    value, end = decoder.raw_decode(buf)
                except ValueError:
                    break
                buf = buf[end:]
                yield value


class Connection:
    """One socket to the daemon with a read buffer."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.sock: _socket.socket | None = None
        self.buf = bytearray()
        self.last_method = ""
        self.pending: Response | None = None  # the last response, whose body may be unread

    def connect(self) -> None:
        h = self.host
        try:
            if h.startswith("unix://"):
                s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                try:
                    s.connect(h[len("unix://"):])
                except OSError:
                    s.close()
                    raise
            elif h.startswith(("tcp://", "http://")):
                import socket
                hostport = h.split("://", 1)[1].rstrip("/")
                name, _, port = hostport.rpartition(":")
                s = socket.create_connection((name.strip("[]") or "localhost", int(port or 2375)))
            else:
                raise DaemonUnavailable(f"unable to parse docker host `{h}`")
        except PermissionError as e:
            path = h[len("unix://"):]
            raise DaemonUnavailable(
                "permission denied while trying to connect to the Docker daemon socket at "
                f"{h}: dial unix {path}: connect: permission denied") from e
        except OSError as e:
            raise DaemonUnavailable(
                f"Cannot connect to the Docker daemon at {h}. Is the docker daemon running?"
            ) from e
        self.sock = s
        self.buf.clear()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def _fill(self) -> bool:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def readline(self) -> bytes:
        while (i := self.buf.find(b"\n")) < 0:
            if not self._fill():
                line = bytes(self.buf)
                self.buf.clear()
                return line
        line = bytes(self.buf[: i + 1])
        del self.buf[: i + 1]
        return line

    def read_some(self, limit: int) -> bytes:
        if not self.buf and not self._fill():
            return b""
        data = bytes(self.buf[:limit])
        del self.buf[:limit]
        return data

    def read_exactly(self, size: int, where: str) -> Iterator[bytes]:
        """``size`` bytes in the pieces they arrive in; EOF before the end is an error."""
        while size:
            data = self.read_some(size)
            if not data:
                raise ConnectionError(f"connection closed {where}")
            size -= len(data)
            yield data

    def send_request(self, method: str, path: str, headers: dict[str, str],
                     body: bytes | Iterator[bytes] | None) -> Response:
        if self.pending is not None:
            self.pending.read()  # drain an unread body so the connection can be reused
            self.pending = None
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.last_method = method
        head = [f"{method} {path} HTTP/1.1", "Host: api.moby.localhost",
                f"User-Agent: {USER_AGENT}"]
        if isinstance(body, bytes):
            head.append(f"Content-Length: {len(body)}")
        elif body is not None:
            head.append("Transfer-Encoding: chunked")
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if isinstance(body, bytes):
            if body:
                self.sock.sendall(body)
        elif body is not None:
            for chunk in body:
                if chunk:
                    self.sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.sock.sendall(b"0\r\n\r\n")
        return self.read_response()

    def read_response(self) -> Response:
        while True:
            line = self.readline()
            if not line:
                raise ConnectionError("the daemon closed the connection")
            parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
            status = int(parts[1])
            headers: dict[str, str] = {}
            while (h := self.readline()) not in (b"\r\n", b"\n", b""):
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            if status != 100:
                resp = Response(self, status, parts[2] if len(parts) > 2 else "", headers)
                self.pending = resp if status != 101 else None
                return resp


class Client:
    """The Engine API, version-negotiated, with docker's error semantics."""

    def __init__(self, host: str | None = None) -> None:
        self.host = host or host_from_env()
        self.conn = Connection(self.host)
        self.version: str | None = None
        self.ping_headers: dict[str, str] = {}

    # --- plumbing ------------------------------------------------------------------

    def negotiate(self) -> str:
        if self.version is None:
            resp = self.conn.send_request("HEAD", "/_ping", {}, None)
            resp.read()
            if resp.status >= 400 or "api-version" not in resp.headers:
                resp = self.conn.send_request("GET", "/_ping", {}, None)
                resp.read()
            self.ping_headers = resp.headers
            server = resp.headers.get("api-version", "")
            version = CLIENT_API_VERSION
            if server and _version_tuple(server) < _version_tuple(CLIENT_API_VERSION):
                version = server
            self.version = version
        return self.version

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        url = f"/v{self.negotiate()}{path}"
        if query:
            items = []
            for k, v in query.items():
                if v is None:
                    continue
                if isinstance(v, bool):
                    v = "1" if v else "0"
                if isinstance(v, (list, tuple)):
                    items += [(k, str(x)) for x in v]
                else:
                    items.append((k, str(v)))
            if items:
                url += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in items)
        return url

    def request(self, method: str, path: str, query: dict[str, Any] | None = None,
                body: Any = None, headers: dict[str, str] | None = None,
                ok: tuple[int, ...] = ()) -> Response:
        """Send a request; raise APIError for status >= 400 unless listed in ``ok``."""
        hdrs = dict(headers or {})
        data: bytes | Iterator[bytes] | None
        if body is None or isinstance(body, bytes) or hasattr(body, "__next__"):
            data = body
        else:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        url = self.url(path, query)
        try:
            resp = self.conn.send_request(method, url, hdrs, data)
        except (ConnectionError, BrokenPipeError):
            if hasattr(data, "__next__"):
                raise
            self.conn.close()  # a stale keep-alive connection: retry once on a new one
            resp = self.conn.send_request(method, url, hdrs, data)
        if resp.status >= 400 and resp.status not in ok:
            raise APIError(resp.status, error_message(resp))
        return resp

    def get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, query).json()

    def post(self, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        return self.request("POST", path, query, body).json()

    def delete(self, path: str, query: dict[str, Any] | None = None) -> Any:
        return self.request("DELETE", path, query).json()

    def hijack(self, path: str, query: dict[str, Any] | None = None,
               body: Any = None) -> tuple[_socket.socket, bytes, dict[str, str]]:
        """POST with ``Upgrade: tcp``; return the raw socket, bytes already read, headers."""
        hdrs = {"Connection": "Upgrade", "Upgrade": "tcp"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        url = self.url(path, query)
        conn = Connection(self.host)
        resp = conn.send_request("POST", url, hdrs, data)
        if resp.status >= 400:
            raise APIError(resp.status, error_message(resp))
        if resp.status not in (101, 200):
            raise APIError(resp.status, f"unable to upgrade to tcp, received {resp.status}")
        assert conn.sock is not None
        return conn.sock, bytes(conn.buf), resp.headers


def error_message(resp: Response) -> str:
    raw = resp.read()
    try:
        msg = json.loads(raw).get("message")
        if msg:
            return str(msg)
    except (ValueError, AttributeError):
        pass
    text = raw.decode("utf-8", "replace").strip()
    return text or f"{resp.status} {resp.reason}"


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "") -> str:
    """Percent-encoding as urllib.parse.quote (which costs ~3 ms to import)."""
    ok = _UNRESERVED | frozenset(safe.encode())
    return "".join(chr(b) if b in ok else f"%{b:02X}" for b in text.encode("utf-8"))


def quote_ref(name: str) -> str:
    """A container/image reference as a path segment (image names keep their '/')."""
    return quote(name, safe="/:@")
