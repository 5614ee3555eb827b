"""``docker events`` for every object type, and ``docker system prune``, through the CLI.

The expected sequences are what the reference dockerd 20.10 reported for the same
commands (run side by side, ``docker events --since --until``, (type, action) diffed),
less two of its duplicates: a second ``volume create`` when a container mounts an
existing named volume, and a second ``network disconnect`` on ``docker network
disconnect`` of a running container.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def events(d: Daemon, since: float, *filters: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, action, attributes) of what happened since ``since``, as the CLI shows it."""
    args = [f"--filter={f}" for f in filters]
    out = d.cli("events", "--since", f"{since:.6f}", "--until", f"{time.time() + 0.2:.6f}",
                "--format", "{{json .}}", *args).stdout
    got = []
    for line in out.splitlines():
        e = json.loads(line)
        got.append((e["Type"], e["Action"], e["Actor"]["Attributes"] | {"id": e["Actor"]["ID"]}))
    return got


def assert_in_order(got: Sequence[tuple[str, str]], wanted: Sequence[tuple[str, str]]) -> None:
    """``wanted`` appears in ``got`` in this order (other events may come between)."""
    rest = iter(got)
    for item in wanted:
        assert any(seen == item for seen in rest), f"{item} missing (in order) from {got}"


@pytest.fixture
def named(daemon: Daemon, busybox: str) -> Iterator[str]:
    """A name prefix for this test's objects; removes them whatever happens."""
    prefix = "pydtev"
    yield prefix
    for kind, names in (("rm -f", [f"{prefix}-c1", f"{prefix}-c2"]),
                        ("network rm", [f"{prefix}-net"]),
                        ("volume rm -f", [f"{prefix}-vol"]),
                        ("rmi -f", [f"{prefix}-img:1", f"{prefix}-commit:1"])):
        for name in names:
            daemon.cli(*kind.split(), name, check=False)


def test_container_network_volume_events_match_dockerd(daemon: Daemon, named: str) -> None:
    since = time.time()
    cli = daemon.cli
    cli("tag", "busybox", f"{named}-img:1")
    cli("network", "create", f"{named}-net")
    cli("volume", "create", f"{named}-vol")
    cli("run", "--name", f"{named}-c1", "--network", f"{named}-net", "-v",
        f"{named}-vol:/v", f"{named}-img:1", "true")
    cli("run", "-d", "--name", f"{named}-c2", f"{named}-img:1", "sleep", "100")
    cli("exec", f"{named}-c2", "true")
    cli("network", "connect", f"{named}-net", f"{named}-c2")
    cli("network", "disconnect", f"{named}-net", f"{named}-c2")
    cli("pause", f"{named}-c2")
    cli("unpause", f"{named}-c2")
    cli("commit", f"{named}-c2", f"{named}-commit:1")
    cli("restart", "-t", "1", f"{named}-c2")
    cli("kill", f"{named}-c2")
    cli("rm", f"{named}-c2", f"{named}-c1")
    cli("rmi", f"{named}-commit:1")
    cli("network", "rm", f"{named}-net")
    cli("volume", "rm", f"{named}-vol")
    got = [(t, a) for t, a, _ in events(daemon, since)]
    assert_in_order(got, [
        ("image", "tag"), ("network", "create"), ("volume", "create"),
        # docker run in the foreground, on a user network with a named volume
        ("container", "create"), ("container", "attach"), ("network", "connect"),
        ("volume", "mount"), ("container", "start"), ("container", "die"),
        ("network", "disconnect"), ("volume", "unmount"),
        # detached, on the default bridge
        ("container", "create"), ("network", "connect"), ("container", "start"),
        ("container", "exec_create: true"), ("container", "exec_start: true"),
        ("container", "exec_die"),
        ("network", "connect"), ("network", "disconnect"),
        ("container", "pause"), ("container", "unpause"),
        ("container", "pause"), ("image", "tag"), ("container", "commit"),
        ("container", "unpause"),
        ("container", "kill"), ("container", "die"), ("network", "disconnect"),
        ("container", "stop"), ("network", "connect"), ("container", "start"),
        ("container", "restart"),
        ("container", "kill"), ("container", "die"),
        ("container", "destroy"), ("container", "destroy"),
        ("image", "untag"), ("image", "delete"),
        ("network", "destroy"), ("volume", "destroy")])


def test_top_export_copy_and_resize_events_match_dockerd(daemon: Daemon, named: str,
                                                        tmp_path: Path) -> None:
    name = f"{named}-c1"
    daemon.cli("run", "-d", "-t", "--name", name, "busybox", "sleep", "100")
    since = time.time()
    daemon.cli("top", name)
    daemon.cli("export", "-o", str(tmp_path / "export.tar"), name)
    daemon.cli("cp", f"{name}:/etc/passwd", str(tmp_path / "passwd"))
    daemon.cli("cp", str(tmp_path / "passwd"), f"{name}:/tmp/")
    status, _, _ = daemon.request("POST", f"/containers/{name}/resize?h=10&w=20")
    assert status == 200
    daemon.cli("logs", name)
    daemon.cli("inspect", name)  # nothing: reading is no event
    got = events(daemon, since, f"container={name}")
    assert [a for _, a, _ in got] == ["top", "export", "archive-path", "extract-to-dir",
                                      "resize"]
    assert (got[-1][2]["height"], got[-1][2]["width"]) == ("10", "20")


def test_image_events_match_dockerd(daemon: Daemon, named: str, tmp_path: Path,
                                    busybox_tar: bytes) -> None:
    tar = tmp_path / "rootfs.tar"
    tar.write_bytes(busybox_tar)
    since = time.time()
    daemon.cli("import", "--change", "LABEL pydt.kind=events", str(tar), f"{named}-img:1")
    daemon.cli("save", "-o", str(tmp_path / "saved.tar"), f"{named}-img:1")
    daemon.cli("rmi", f"{named}-img:1")
    daemon.cli("load", "-i", str(tmp_path / "saved.tar"))
    daemon.cli("image", "prune", "-a", "-f", "--filter", "label=pydt.kind=events")
    got = events(daemon, since, "type=image")
    assert [(t, a) for t, a, _ in got] == [
        ("image", "tag"), ("image", "import"), ("image", "save"), ("image", "untag"),
        ("image", "delete"), ("image", "load"), ("image", "untag"), ("image", "delete"),
        ("image", "prune")]
    # Image events carry the image's labels, so `--filter label=` finds them.
    assert got[1][2]["pydt.kind"] == "events"
    # All under the image's ID, as dockerd reports them, whatever name was used; only the
    # tag names the tag.
    image_id = got[1][2]["id"]
    assert image_id.startswith("sha256:")
    assert {attrs["id"] for _, _, attrs in got[:-1]} == {image_id}
    assert got[0][2]["name"] == f"{named}-img:1"
    assert [attrs["name"] for _, _, attrs in got[1:-1]] == [image_id] * 7
    assert int(got[-1][2]["reclaimed"]) > 0


def test_system_prune_all_with_volumes(fresh_daemon: Daemon, busybox_tar: bytes) -> None:
    """docker system prune -a --volumes: every prune dockerd runs, each answering in its
    shape; what a container still uses stays. A daemon of its own: -a takes every image."""
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    import_busybox(d, busybox_tar, name="pydt-unused")
    d.cli("tag", "busybox", "pydt-kept")
    d.cli("run", "-d", "--name", "pydt-keep", "pydt-kept", "sleep", "100")
    d.cli("run", "--name", "pydt-gone", "-v", "/anon", "busybox", "true")
    d.cli("network", "create", "pydt-spare")
    d.cli("volume", "create", "pydt-named")
    since = time.time()
    out = d.cli("system", "prune", "-a", "--volumes", "-f").stdout
    assert "Deleted Containers:" in out and "Deleted Networks:\npydt-spare" in out
    assert "Deleted Volumes:" in out and "Deleted Images:" in out
    assert "untagged: pydt-unused:latest" in out
    assert "Total reclaimed space:" in out
    assert d.cli("ps", "-a", "--format", "{{.Names}}").stdout.split() == ["pydt-keep"]
    images = set(d.cli("images", "--format", "{{.Repository}}").stdout.split())
    assert images == {"busybox", "pydt-kept"}  # one image, used by pydt-keep
    # API 1.42+: volume prune takes anonymous volumes only (named ones need all=true).
    assert d.cli("volume", "ls", "-q").stdout.split() == ["pydt-named"]
    assert [n for n in d.cli("network", "ls", "--format", "{{.Name}}").stdout.split()
            if n.startswith("pydt")] == []
    got = [(t, a) for t, a, _ in events(d, since)]
    assert_in_order(got, [("container", "destroy"), ("container", "prune"),
                          ("network", "destroy"), ("network", "prune"),
                          ("volume", "destroy"), ("volume", "prune"),
                          ("image", "untag"), ("image", "delete"), ("image", "prune")])
    status, _, body = d.request("POST", "/build/prune?all=1")
    assert status == 200
    assert json.loads(body) == {"CachesDeleted": None, "SpaceReclaimed": 0}
    d.cli("rm", "-f", "pydt-keep")
    d.cli("volume", "rm", "pydt-named")


def test_system_prune_filters(fresh_daemon: Daemon, busybox_tar: bytes) -> None:
    """``--filter`` reaches every prune: ``until`` (created before), ``label`` and
    ``label!`` select containers, networks and images alike; a bad one is a 400."""
    d = fresh_daemon
    import_busybox(d, busybox_tar)
    import_busybox(d, busybox_tar, name="pydt-spare")
    d.cli("run", "--name", "pydt-kept", "--label", "pydt.keep=1", "busybox", "true")
    d.cli("run", "--name", "pydt-gone", "busybox", "true")
    d.cli("network", "create", "--label", "pydt.keep=1", "pydt-kept-net")
    d.cli("network", "create", "pydt-gone-net")

    def names(*what: str) -> set[str]:
        return set(d.cli(*what, "--format", "{{.Names}}" if what[0] == "ps" else
                         "{{.Name}}").stdout.split())

    assert "Total reclaimed space: 0B" in d.cli("system", "prune", "-a", "-f", "--filter",
                                                "until=1h").stdout
    assert names("ps", "-a") == {"pydt-kept", "pydt-gone"}
    d.cli("system", "prune", "-a", "-f", "--filter", "label!=pydt.keep=1")
    assert names("ps", "-a") == {"pydt-kept"}
    assert {n for n in names("network", "ls") if n.startswith("pydt")} == {"pydt-kept-net"}
    images = set(d.cli("images", "--format", "{{.Repository}}").stdout.split())
    assert images == {"busybox"}  # pydt-spare had no pydt.keep label; busybox is in use
    bad = d.cli("container", "prune", "-f", "--filter", "until=soon", check=False)
    assert bad.returncode != 0 and "failed to parse value as time or duration" in bad.stderr
    bad = d.cli("image", "prune", "-f", "--filter", "colour=red", check=False)
    assert bad.returncode != 0 and "invalid filter 'colour'" in bad.stderr
    d.cli("rm", "pydt-kept")
    d.cli("network", "rm", "pydt-kept-net")
