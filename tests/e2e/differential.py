"""Two engines side by side for the differential tests: pydockerd (the harness daemon)
and a reference dockerd, driven by the same docker CLI and docker-py calls; and the
normalisers that take out of their answers what must differ (ids, names, times,
addresses, paths, sizes) so the rest can be compared byte for byte and key for key."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.e2e.harness import Daemon, UnixHTTPConnection

REFERENCE_SOCKET = "/var/run/docker.sock"
LABEL = "pydt.diff"  # on every container the tests make, so teardown finds them all


def reference_version() -> tuple[str | None, str]:
    """The reference dockerd's API version, or None and why there is none to compare to."""
    if not os.path.exists(REFERENCE_SOCKET):
        return None, f"no reference dockerd: {REFERENCE_SOCKET} does not exist"
    conn = UnixHTTPConnection(REFERENCE_SOCKET, timeout=5)
    try:
        conn.request("GET", "/version")
        resp = conn.getresponse()
        body = resp.read()
    except OSError as exc:
        return None, f"no reference dockerd answers on {REFERENCE_SOCKET}: {exc}"
    finally:
        conn.close()
    if resp.status != 200 or b"pydocker" in body:  # the socket is ours, not a dockerd's
        return None, f"{REFERENCE_SOCKET} is not a dockerd (HTTP {resp.status})"
    version: str = json.loads(body)["ApiVersion"]
    return version, ""


@dataclass
class Ran:
    rc: int
    out: str
    err: str


@dataclass
class Side:
    """One engine: its socket, its copy of the test image, and what the tests made on it."""

    name: str
    url: str
    image: str
    api_version: str
    config_dir: Path
    run: str           # this test run's tag, shared by both sides
    data_root: str     # where the engine keeps volumes, layers ...: differs by nature
    older: bool = False  # the reference, whose wording may predate moby 23
    made: list[tuple[str, str]] = field(default_factory=list)  # (kind, name) to remove

    def client(self) -> docker.APIClient:
        return docker.APIClient(base_url=self.url, version=self.api_version, timeout=120)

    def _docker(self, args: tuple[str, ...], stdin: bytes | None, timeout: float
                ) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "DOCKER_HOST": self.url, "DOCKER_CONFIG": str(self.config_dir),
               "DOCKER_API_VERSION": self.api_version}
        env.pop("DOCKER_CONTEXT", None)
        argv = ["docker", *(self.image if a == "IMG" else a for a in args)]
        return subprocess.run(argv, input=stdin if stdin is not None else b"",
                              capture_output=True, timeout=timeout, env=env, check=False)

    def cli(self, *args: str, stdin: bytes | None = None, timeout: float = 60) -> Ran:
        """``docker ARGS`` against this engine; ``IMG`` stands for the test image."""
        proc = self._docker(args, stdin, timeout)
        return Ran(proc.returncode, proc.stdout.decode(errors="replace"),
                   proc.stderr.decode(errors="replace"))

    def cli_bytes(self, *args: str) -> bytes:
        """stdout of a command that must succeed, as bytes (an archive)."""
        proc = self._docker(args, None, 60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def name_for(self, kind: str, suffix: str) -> str:
        """``pydt-diff-<run>-<suffix>``: the same name on both engines (so that names
        need no normalising), removed at teardown."""
        name = f"pydt-diff-{self.run}-{suffix}"
        self.made.append((kind, name))
        return name

    def clean_up(self) -> list[str]:
        """Remove every container, network and volume the tests made here, then the
        image; returns what could not be removed (it must be nothing)."""
        left = []
        labelled = self.cli("ps", "-aq", "--filter", f"label={LABEL}").out.split()
        for cid in labelled:
            self.cli("rm", "-f", "-v", cid)
        for kind, name in reversed(self.made):
            if kind == "container":
                self.cli("rm", "-f", "-v", name)
        for kind, name in reversed(self.made):
            if kind in ("network", "volume"):
                self.cli(kind, "rm", name)
        listings = {"container": ["ps", "-aq"], "network": ["network", "ls", "-q"],
                    "volume": ["volume", "ls", "-q"]}
        for kind, name in self.made:
            if kind in listings and self.cli(*listings[kind], "--filter",
                                             f"name=^{name}$").out.strip():
                left.append(f"{kind} {name}")
        for kind, name in self.made:
            if kind == "image":
                self.cli("rmi", "-f", name)
                if self.cli("images", "-q", name).out.strip():
                    left.append(f"image {name}")
        return left


# --- normalising ---------------------------------------------------------------------

_PATTERNS = [
    # times first: they hold digits the other patterns would eat
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"\b(sha256:)?[0-9a-f]{64}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<short-id>"),
    (re.compile(r"\b(\d+|About an?|Less than a) (second|minute|hour)s?( ago)?\b"), "<ago>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(/\d+)?\b"), "<ip>"),
    (re.compile(r"\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b"), "<mac>"),
    (re.compile(r"\b\d+(\.\d+)?\s?[kMG]?B\b"), "<size>"),
    (re.compile(r"(?<=:)\d{4,5}\b"), "<port>"),  # a host port the engine chose
    (re.compile(r'(?<="HostPort":")\d+|(?<="HostPort": ")\d+'), "<port>"),
]


# dockerd 20.10 words a few errors as moby did before 23.0 lowercased them; we speak as
# moby 28 (API 1.50) does. Folded here, on the reference's side only.
OLDER_WORDING = [
    (re.compile(r"\bContainer (<id>|<short-id>) is not running"), r"container \1 is not running"),
    (re.compile(r"\bInvalid filter '"), "invalid filter '"),
]


def normalise(text: str, *, image: str, data_root: str = "", older: bool = False) -> str:
    """The answer with what legitimately differs between two engines replaced by
    placeholders: the image tag, the data root, ids, times, addresses, sizes, ports;
    ``older``: the reference's pre-23.0 wording brought up to date."""
    text = text.replace(image, "IMG")
    if data_root:
        text = text.replace(data_root, "<data-root>")
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    if older:
        for pattern, newer in OLDER_WORDING:
            text = pattern.sub(newer, text)
    return text


def shape(value: Any, ignore: Mapping[str, str] | None = None, at: str = "") -> Any:
    """The value's structure: every key path of its dicts with the JSON type under it
    (lists by their first element). ``ignore``: key paths (``A.B``, fnmatch patterns such
    as ``Networks.*.X``) to leave out, each with the reason it may differ."""
    ignore = ignore or {}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            path = f"{at}.{key}" if at else key
            if any(fnmatch.fnmatchcase(path, pattern) for pattern in ignore):
                continue
            out[key] = shape(item, ignore, path)
        return out
    if isinstance(value, list):
        return [shape(value[0], ignore, f"{at}[]")] if value else []
    return type(value).__name__


def key_differences(ours: Any, theirs: Any, at: str = "") -> list[str]:
    """Where two shapes differ: keys only one side has, or a different JSON type (null
    on one side and a value on the other counts as the same: Go omits and nils freely)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        diffs = []
        for key in sorted(set(ours) | set(theirs)):
            path = f"{at}.{key}" if at else key
            if key not in theirs:
                diffs.append(f"{path}: only pydockerd has it")
            elif key not in ours:
                diffs.append(f"{path}: only dockerd has it")
            else:
                diffs.extend(key_differences(ours[key], theirs[key], path))
        return diffs
    if isinstance(ours, list) and isinstance(theirs, list):
        if ours and theirs:
            return key_differences(ours[0], theirs[0], f"{at}[]")
        return []
    if "NoneType" in (ours, theirs) or ours == theirs:
        return []
    return [f"{at}: {ours} vs {theirs}"]


# --- the two engines, for a test module -----------------------------------------------


def two_engines(daemon: Daemon, busybox_tar: bytes, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[Side, Side]]:
    """The ``sides`` fixture (conftest.py): pydockerd and the reference, each with the
    test image; everything made on them removed afterwards. Skips without a reference."""
    version, why = reference_version()
    if version is None:
        pytest.skip(why)
    run = secrets.token_hex(3)
    image = f"pydt-diff-busybox:{run}"
    config_dir = tmp_path_factory.mktemp("diff-cli")
    ours = Side("pydockerd", daemon.url, image, version, config_dir, run,
                str(daemon.data_root))
    theirs = Side("dockerd", f"unix://{REFERENCE_SOCKET}", image, version, config_dir, run,
                  "", older=True)
    theirs.data_root = engine_info(theirs)["DockerRootDir"]
    try:
        for side in (ours, theirs):
            side.made.append(("image", image))
            client = side.client()
            try:
                client.import_image_from_data(busybox_tar, repository=image.split(":")[0],
                                              tag=run, changes=['CMD ["sh"]'])
            finally:
                client.close()
        yield ours, theirs
    finally:
        left = [f"{side.name}: {what}" for side in (ours, theirs) for what in side.clean_up()]
        assert not left, f"left behind: {left}"


def engine_info(side: Side) -> dict[str, Any]:
    client = side.client()
    try:
        return client.info()  # type: ignore[no-any-return]
    finally:
        client.close()


def normal_text(text: str, side: Side) -> str:
    return normalise(text, image=side.image, data_root=side.data_root, older=side.older)


def _normal(ran: Ran, side: Side, *, any_order: bool, stderr: bool) -> tuple[object, ...]:
    out = normal_text(ran.out, side)
    if any_order:
        out = "".join(sorted(out.splitlines(True)))
    return (ran.rc, out, normal_text(ran.err, side)) if stderr else (ran.rc, out)


def same(sides: tuple[Side, Side], *args: str, stdin: bytes | None = None,
         compare_stderr: bool = True, any_order: bool = False) -> tuple[Ran, Ran]:
    """Run ``docker ARGS`` on both engines; exit code, stdout (and stderr) must match
    (``any_order``: stdout's lines as a set, where the order is a directory's)."""
    ours, theirs = (side.cli(*args, stdin=stdin) for side in sides)
    a, b = (_normal(ran, side, any_order=any_order, stderr=compare_stderr)
            for ran, side in ((ours, sides[0]), (theirs, sides[1])))
    assert a == b, f"docker {' '.join(args)}\n pydockerd: {a!r}\n dockerd:   {b!r}"
    return ours, theirs


def labelled(side: Side, suffix: str) -> list[str]:
    """``--name <run name> --label pydt.diff``: what a test's container is created with."""
    return ["--name", side.name_for("container", suffix), "--label", LABEL]


def _pick(doc: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None  # type: ignore[assignment]
    return doc


def compare_documents(sides: tuple[Side, Side], ours: dict[str, Any], theirs: dict[str, Any],
             ignored: dict[str, str], values: list[str]) -> None:
    diffs = key_differences(shape(ours, ignored), shape(theirs, ignored))
    assert not diffs, "\n".join(diffs)
    wrong = []
    for path in values:
        a = normal_text(json.dumps(_pick(ours, path), sort_keys=True), sides[0])
        b = normal_text(json.dumps(_pick(theirs, path), sort_keys=True), sides[1])
        if a != b:
            wrong.append(f"{path}: pydockerd {a} vs dockerd {b}")
    assert not wrong, "\n".join(wrong)


def both_engines(sides: tuple[Side, Side], fn: Any) -> list[Any]:
    out = []
    for side in sides:
        client = side.client()
        try:
            out.append(fn(side, client))
        finally:
            client.close()
    return out


def subnets_for(run: str) -> dict[str, str]:
    """A /24 for each engine: never a pool either engine hands out by itself, and never
    the same on both (they share the host's routing table)."""
    third = int(run[:2], 16) & 0xFE
    return {"pydockerd": f"10.199.{third}.0/24", "dockerd": f"10.199.{third + 1}.0/24"}
