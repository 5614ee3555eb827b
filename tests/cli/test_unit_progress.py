"""The JSON-message renderer (moby's jsonmessage), references, credentials and the context tar."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from pathlib import Path

import pytest
from pydocker.cli import auth
from pydocker.cli.buildcontext import Excluder, context_tar, ignore_patterns
from pydocker.cli.errors import CliError
from pydocker.cli.progress import JSONError, display_stream, go_duration, progress_string
from pydocker.cli.reference import parse

PULL = [
    {"status": "Pulling from library/busybox", "id": "latest"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "aaa"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "bbb"},
    {"status": "Downloading", "progressDetail": {"current": 1_200_000, "total": 3_400_000},
     "progress": "[==>  ]", "id": "aaa"},
    {"status": "Pull complete", "progressDetail": {}, "id": "bbb"},
    {"status": "Digest: sha256:abc"},
    {"status": "Status: Downloaded newer image for busybox:latest"},
]


def test_progress_string_as_jsonprogress() -> None:
    bar = progress_string({"current": 1_200_000, "total": 3_400_000})
    assert bar == "[" + "=" * 17 + ">" + " " * 33 + "]    1.2MB/3.4MB"
    assert progress_string({"current": 1_200_000, "total": 3_400_000}, width=80) == \
        "   1.2MB/3.4MB"  # no bar on a narrow terminal
    assert progress_string({}) == ""
    assert progress_string({"current": 2048}) == " 2.048kB"
    assert progress_string({"current": 5, "total": 3}, 80) == "      5B"  # wonky total dropped
    assert progress_string({"current": 3, "total": 10, "units": "items"}, 80) == "3/10 items"
    assert progress_string({"current": 10, "total": 10, "hidecounts": True}) == \
        "[" + "=" * 50 + ">] "
    # time left: 1 of 4 units in 10 s -> 30 s more
    assert progress_string({"current": 1, "total": 4, "start": 1000}, 80, now=1010) == \
        "      1B/4B 30s"
    assert [go_duration(s) for s in (0, 45, 90, 3605)] == ["0s", "45s", "1m30s", "1h0m5s"]


def test_plain_output_drops_bars_and_keeps_status_lines() -> None:
    out = io.StringIO()
    display_stream(PULL, out, tty=False)
    assert out.getvalue() == (
        "latest: Pulling from library/busybox\naaa: Pulling fs layer\nbbb: Pulling fs layer\n"
        "bbb: Pull complete\nDigest: sha256:abc\n"
        "Status: Downloaded newer image for busybox:latest\n")


def test_terminal_output_redraws_each_layer_in_place() -> None:
    out = io.StringIO()
    display_stream(PULL, out, tty=True, width=200)
    bar = progress_string({"current": 1_200_000, "total": 3_400_000})
    assert out.getvalue() == (
        "latest: Pulling from library/busybox\n"
        "\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B"     # new line for aaa
        "\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B"     # new line for bbb
        f"\x1b[2A\x1b[2K\raaa: Downloading {bar}\r\x1b[2B"      # up 2 to aaa, back down
        "\x1b[1A\x1b[2K\rbbb: Pull complete \r\x1b[1B"          # up 1 to bbb
        "Digest: sha256:abc\nStatus: Downloaded newer image for busybox:latest\n")


def test_streams_aux_and_errors() -> None:
    out = io.StringIO()
    seen: list[dict[str, object]] = []
    display_stream([{"stream": "Step 1/1 : FROM x\n"}, {"aux": {"ID": "sha256:1"}},
                    {"status": "done", "time": 0}], out, tty=False, aux=seen.append)
    assert out.getvalue() == "Step 1/1 : FROM x\ndone\n"
    assert seen == [{"aux": {"ID": "sha256:1"}}]
    with pytest.raises(JSONError) as e:
        display_stream([{"stream": "a\n"}, {"errorDetail": {"code": 2, "message": "bad"},
                                            "error": "bad"}, {"stream": "never\n"}],
                       out, tty=False)
    assert (str(e.value), e.value.status) == ("bad", 2)
    with pytest.raises(JSONError) as e:
        display_stream([{"error": "no detail"}], out, tty=False)
    assert (str(e.value), e.value.status) == ("no detail", 1)


@pytest.mark.parametrize(("ref", "name", "familiar", "key"), [
    ("busybox", "docker.io/library/busybox", "busybox", "https://index.docker.io/v1/"),
    ("user/app:1", "docker.io/user/app", "user/app:1", "https://index.docker.io/v1/"),
    ("127.0.0.1:5000/bb:v1", "127.0.0.1:5000/bb", "127.0.0.1:5000/bb:v1", "127.0.0.1:5000"),
    ("localhost/a/b@sha256:" + "a" * 64, "localhost/a/b", "localhost/a/b@sha256:" + "a" * 64,
     "localhost"),
])
def test_references(ref: str, name: str, familiar: str, key: str) -> None:
    parsed = parse(ref)
    assert (parsed.name, parsed.familiar(), parsed.auth_key) == (name, familiar, key)


def test_bad_references() -> None:
    lower = "invalid reference format: repository name ({}) must be lowercase"
    for ref, message in (("Bad/Name", lower.format("Name")), ("a:b:c", "invalid reference format"),
                         ("UPPER", lower.format("library/UPPER"))):
        with pytest.raises(CliError) as e:
            parse(ref)
        assert str(e.value) == message


def test_credentials_in_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "d"))
    assert auth.registry_auth("r:5000") == "e30="  # '{}', as docker sends with nothing stored
    config = {"credsStore": "", "proxies": {"x": 1}}
    auth.store_auth(config, "r:5000", "u", "p:w", "")
    auth.store_auth(config, "tok.example", "t", "secret", "ID-TOKEN")
    on_disk = json.loads((tmp_path / "d" / "config.json").read_text())
    assert on_disk["proxies"] == {"x": 1}
    assert on_disk["auths"]["r:5000"] == {"auth": base64.b64encode(b"u:p:w").decode()}
    assert on_disk["auths"]["tok.example"] == {"auth": base64.b64encode(b"t:").decode(),
                                               "identitytoken": "ID-TOKEN"}
    header = json.loads(base64.urlsafe_b64decode(auth.registry_auth("https://r:5000/v2/")))
    assert header == {"serveraddress": "r:5000", "username": "u", "password": "p:w"}
    every = json.loads(base64.urlsafe_b64decode(auth.registry_config()))
    assert every["tok.example"]["identitytoken"] == "ID-TOKEN"
    assert auth.remove_auth(auth.load_config(), "http://r:5000")
    assert not auth.remove_auth(auth.load_config(), "r:5000")
    assert list(auth.load_config()["auths"]) == ["tok.example"]


@pytest.mark.parametrize(("patterns", "path", "excluded"), [
    (["*.log"], "a.log", True), (["*.log"], "d/a.log", False),
    (["**/*.log"], "d/e/a.log", True), (["**/*.log", "!d/keep.log"], "d/keep.log", False),
    (["d"], "d/e/f", True), (["d/*"], "d", False), (["a?c"], "abc", True),
    (["[a-c]x"], "bx", True), (["[^a]x"], "ax", False), (["**"], "any/thing", True),
    (["a/**/b"], "a/b", True), (["a/**/b"], "a/x/y/b", True), (["\\*"], "*", True),
])
def test_dockerignore_matching(patterns: list[str], path: str, excluded: bool) -> None:
    assert Excluder(patterns).excluded(path) is excluded


def test_ignore_file_and_context_tar(tmp_path: Path) -> None:
    assert ignore_patterns("# c\n  /a/../b/  \n!./keep\n\n!\n") == ["b", "!keep", "!"]
    (tmp_path / "sub").mkdir()
    for name in ("Dockerfile", "x.tmp", "sub/y.tmp", "sub/z"):
        (tmp_path / name).write_text(name)
    (tmp_path / ".dockerignore").write_text("*.tmp\nsub\n!sub/z\nDockerfile\n.dockerignore\n")
    data = context_tar(str(tmp_path), "Dockerfile", (".dockerfile.x", b"FROM scratch\n"))
    assert len(data) % 512 == 0 and data[-1024:] == b"\0" * 1024
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == [".dockerfile.x", ".dockerignore", "Dockerfile", "sub/z"]
    assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}
