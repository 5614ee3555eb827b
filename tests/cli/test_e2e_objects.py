"""Images (import, load, save, tag, rmi, prune), networks, volumes and system commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Runner
from tests.e2e.harness import Daemon

pytestmark = pytest.mark.root


def test_import_tag_save_load_rmi(pd: Runner, daemon: Daemon, busybox_tar: bytes,
                                  tmp_path: Path) -> None:
    tar = tmp_path / "rootfs.tar"
    tar.write_bytes(busybox_tar)
    r = pd("import", "-c", 'CMD ["sh"]', "-m", "from the cli", str(tar), "cli-imp:v1")
    assert r.returncode == 0, r.stderr
    image_id = r.stdout.strip()
    assert image_id.startswith("sha256:")
    r = pd("import", "-", "cli-imp:stdin", input=busybox_tar)
    assert r.returncode == 0 and r.stdout.startswith("sha256:")
    assert pd("tag", "cli-imp:v1", "cli-imp/other:v2").returncode == 0
    assert pd("image", "inspect", "-f", "{{.Id}} {{.Comment}}", "cli-imp/other:v2").stdout == (
        f"{image_id} from the cli\n")
    assert pd("run", "--rm", "cli-imp:v1", "echo", "imported").stdout == "imported\n"
    out = tmp_path / "saved.tar"
    assert pd("save", "-o", str(out), "cli-imp:v1").returncode == 0 and out.stat().st_size
    r = pd("save", "cli-imp:v1")  # stdout is a pipe here: allowed
    assert r.returncode == 0 and len(r.stdout) > 0
    r = pd("rmi", "cli-imp:v1", "cli-imp/other:v2", "cli-imp:stdin")
    assert r.returncode == 0
    assert "Untagged: cli-imp:v1\n" in r.stdout and f"Deleted: {image_id}\n" in r.stdout
    r = pd("load", "-i", str(out))
    assert (r.returncode, r.stdout) == (0, "Loaded image: cli-imp:v1\n")
    r = pd("load", input=out.read_bytes())
    assert (r.returncode, r.stdout) == (0, "Loaded image: cli-imp:v1\n")
    r = pd("rmi", "cli-imp:v1", "cli-nope-image")
    assert r.returncode == 1
    assert r.stderr == "Error response from daemon: No such image: cli-nope-image:latest\n"


def test_history_and_prune(pd: Runner, busybox: str) -> None:
    lines = pd("history", "busybox").stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    r = pd("image", "prune", "-f", "--filter", "label=cli-nothing-has-this=1")
    assert (r.returncode, r.stdout) == (0, "Total reclaimed space: 0B\n")
    r = pd("image", "prune", input="n\n")
    assert r.stdout.startswith("WARNING! This will remove all dangling images.\n"
                               "Are you sure you want to continue? [y/N] ")


def test_networks(pd: Runner, busybox: str, cleanup: list[str]) -> None:
    cleanup.append("cli-net-c")
    r = pd("network", "create", "--subnet", "10.231.7.0/24", "--label", "k=v", "cli-net")
    assert r.returncode == 0, r.stderr
    try:
        assert "cli-net" in pd("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert pd("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}} "
                  "{{.Labels.k}}", "cli-net").stdout == "10.231.7.0/24 v\n"
        pd("run", "-d", "--name", "cli-net-c", "busybox", "sleep", "100")
        assert pd("network", "connect", "--alias", "db", "cli-net", "cli-net-c").returncode == 0
        ip = pd("inspect", "-f", '{{(index .NetworkSettings.Networks "cli-net").IPAddress}}',
                "cli-net-c").stdout.strip()
        assert ip.startswith("10.231.7.")
        assert pd("network", "disconnect", "cli-net", "cli-net-c").returncode == 0
    finally:
        r = pd("network", "rm", "cli-net", "cli-net-nope")
    assert r.stdout == "cli-net\n" and r.returncode == 1
    assert "cli-net-nope" in r.stderr


def test_volumes(pd: Runner, busybox: str) -> None:
    assert pd("volume", "create", "--label", "a=b", "cli-vol").stdout == "cli-vol\n"
    r = pd("run", "--rm", "-v", "cli-vol:/data", "busybox", "sh", "-c",
           "echo kept > /data/f")
    assert r.returncode == 0, r.stderr
    assert pd("run", "--rm", "--mount", "source=cli-vol,target=/d", "busybox", "cat",
              "/d/f").stdout == "kept\n"
    assert json.loads(pd("volume", "inspect", "cli-vol").stdout)[0]["Labels"] == {"a": "b"}
    assert "cli-vol" in pd("volume", "ls", "-q").stdout.split()
    assert pd("volume", "rm", "cli-vol").stdout == "cli-vol\n"
    r = pd("volume", "rm", "cli-vol")
    assert r.returncode == 1 and r.stderr.startswith("Error response from daemon:")


def test_version_info_df(pd: Runner, daemon: Daemon) -> None:
    r = pd("version")
    assert r.returncode == 0 and "Server: pydocker" in r.stdout
    assert pd("version", "-f", "{{.Server.Version}}").stdout.strip()
    info = pd("info").stdout
    assert "Server Version:" in info and " Storage Driver: " in info
    assert pd("info", "-f", "{{.OSType}}").stdout == "linux\n"
    assert pd("system", "df").stdout.startswith("TYPE            TOTAL     ACTIVE    SIZE")


def test_container_and_system_prune(pd: Runner, busybox: str) -> None:
    # Label filters keep the prunes to what this test made: the daemon is shared.
    pd("create", "--name", "cli-prune-me", "-l", "cli-prune=1", "busybox", "true")
    pd("create", "--name", "cli-prune-keep", "busybox", "true")
    try:
        r = pd("container", "prune", "-f", "--filter", "label=cli-prune=1")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("Deleted Containers:\n")
        assert "Total reclaimed space:" in r.stdout
        assert pd("inspect", "cli-prune-me").returncode == 1
        assert pd("inspect", "cli-prune-keep").returncode == 0
        pd("create", "--name", "cli-prune-me", "-l", "cli-prune=1", "busybox", "true")
        r = pd("system", "prune", "-f", "--filter", "label=cli-prune=1")
        assert r.returncode == 0, r.stderr
        assert "Deleted Containers:" in r.stdout and "Total reclaimed space:" in r.stdout
        assert pd("inspect", "cli-prune-me").returncode == 1
    finally:
        pd("rm", "-f", "cli-prune-keep", "cli-prune-me")
