"""Client-side stream handling: frames, detach keys, the HTTP client (no daemon)."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydocker.cli.client import APIError, Client
from pydocker.cli.streams import Demuxer, EscapeProxy, frame, parse_detach_keys


def test_demux_across_chunk_boundaries() -> None:
    out, err = io.BytesIO(), io.BytesIO()
    d = Demuxer(out, err)  # type: ignore[arg-type]
    data = frame(1, b"hello ") + frame(2, b"oops") + frame(1, b"world") + frame(3, b"bad")
    for i in range(0, len(data), 5):
        d.feed(data[i:i + 5])
    assert out.getvalue() == b"hello world" and err.getvalue() == b"oops"
    assert d.error == b"bad"


def test_detach_keys() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("ctrl-a,x") == b"\x01x"
    with pytest.raises(ValueError):
        parse_detach_keys("ctrl-")
    proxy = EscapeProxy(b"\x10\x11")
    assert proxy.feed(b"ab\x10") == (b"ab", False)  # held back: maybe the sequence
    assert proxy.feed(b"c") == (b"\x10c", False)  # it was not: forwarded
    assert proxy.feed(b"x\x10\x11y") == (b"x", True)


class FakeDaemon:
    """A unix-socket server answering canned HTTP responses, recording requests."""

    def __init__(self, path: Path, responses: list[bytes]) -> None:
        self.path = str(path)
        self.responses = responses
        self.requests: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(self.path)
        self.server.listen(4)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            buf = b""
            for resp in self.responses:
                while b"\r\n\r\n" not in buf:
                    buf += conn.recv(65536)
                head, _, buf = buf.partition(b"\r\n\r\n")
                self.requests.append(head)
                conn.sendall(resp)


PING = (b"HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def sock_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "d.sock"


def test_negotiates_down_to_the_server_version_and_reads_chunked(sock_path: Path) -> None:
    body = json.dumps([{"Id": "x"}]).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    fake = FakeDaemon(sock_path, [PING, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  + chunked])
    c = Client(f"unix://{sock_path}")
    assert c.get("/containers/json", {"all": True, "filters": '{"a":{"b":true}}'}) == [
        {"Id": "x"}]
    assert fake.requests[0].startswith(b"HEAD /_ping HTTP/1.1")
    assert fake.requests[1].startswith(
        b"GET /v1.43/containers/json?all=1&filters=%7B%22a%22%3A%7B%22b%22%3Atrue%7D%7D ")


def test_a_body_cut_short_is_an_error(sock_path: Path) -> None:
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"  # then the socket closes
    FakeDaemon(sock_path, [PING, cut])
    c = Client(f"unix://{sock_path}")
    resp = c.request("GET", "/info")
    with pytest.raises(ConnectionError, match="connection closed mid-body"):
        resp.read()


def test_api_error_message(sock_path: Path) -> None:
    msg = b'{"message":"No such container: nope"}'
    FakeDaemon(sock_path, [PING, b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s"
                           % (len(msg), msg)])
    with pytest.raises(APIError) as e:
        Client(f"unix://{sock_path}").get("/containers/nope/json")
    assert str(e.value) == "Error response from daemon: No such container: nope"
    assert e.value.status == 404


def test_progress_bar_and_plain_progress(tmp_path: Path) -> None:
    from pydocker.cli.errors import CliError
    from pydocker.cli.progress import progress_string, show_progress

    assert (progress_string({"current": 5_000_000, "total": 10_000_000})
            == "[" + "=" * 25 + ">" + " " * 25 + "]      5MB/10MB")

    class Resp:
        def __init__(self, msgs: list[dict[str, object]]) -> None:
            self.msgs = msgs

        def iter_json(self) -> Iterator[dict[str, object]]:
            yield from self.msgs

    out = (tmp_path / "out").open("w+")
    msgs: list[dict[str, object]] = [
        {"status": "Loading layer", "id": "abc",
         "progressDetail": {"current": 1, "total": 2}, "progress": "[==>  ]"},
        {"stream": "Loaded image: x:1\n"}, {"status": "sha256:123"}]
    show_progress(Resp(msgs), out)  # not a terminal: no progress updates, plain lines
    out.seek(0)
    assert out.read() == "Loaded image: x:1\nsha256:123\n"
    with pytest.raises(CliError) as e:
        show_progress(Resp([{"errorDetail": {"message": "bad tar"}, "error": "bad tar"}]), None)
    assert str(e.value) == "bad tar"


def test_host_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydocker.cli.client import DEFAULT_HOST, host_from_env
    monkeypatch.delenv("PYDOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert host_from_env() == DEFAULT_HOST == "unix:///var/run/pydocker.sock"
    monkeypatch.setenv("DOCKER_HOST", "unix:///d.sock")
    assert host_from_env() == "unix:///d.sock"
    monkeypatch.setenv("PYDOCKER_HOST", "unix:///p.sock")
    assert host_from_env() == "unix:///p.sock"
