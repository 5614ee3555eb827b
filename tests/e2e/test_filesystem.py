"""docker diff, commit and export against real overlay layers."""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

SCRIPT = "echo new > /root/added; echo changed >> /etc/group; rm /etc/passwd"


def test_diff_shows_added_changed_deleted(daemon: Daemon, busybox: str) -> None:
    cid = daemon.cli("run", "-d", "busybox", "sh", "-c", SCRIPT).stdout.strip()
    try:
        daemon.cli("wait", cid)
        lines = set(daemon.cli("diff", cid).stdout.splitlines())
        assert {"A /root/added", "C /etc/group", "D /etc/passwd", "C /etc"} <= lines
    finally:
        daemon.cli("rm", cid)


def test_commit_then_run_sees_the_changes(daemon: Daemon, client: docker.DockerClient,
                                          busybox: str) -> None:
    cid = daemon.cli("run", "-d", "busybox", "sh", "-c", SCRIPT).stdout.strip()
    try:
        daemon.cli("wait", cid)
        daemon.cli("commit", "-m", "with changes", "-c", "ENV COMMITTED=yes", cid,
                   "committed:v1")
    finally:
        daemon.cli("rm", cid)
    try:
        out = daemon.cli("run", "--rm", "committed:v1", "sh", "-c",
                         "cat /root/added; tail -1 /etc/group; echo $COMMITTED; "
                         "test -e /etc/passwd && echo passwd-back || echo passwd-gone").stdout
        assert out.split() == ["new", "changed", "yes", "passwd-gone"]
        img = client.images.get("committed:v1")
        assert len(img.attrs["RootFS"]["Layers"]) == 2
        assert img.attrs["Parent"] == busybox
    finally:
        daemon.cli("rmi", "committed:v1")
    # The committed image shared busybox's layer; removing it left busybox whole.
    assert daemon.cli("run", "--rm", "busybox", "cat", "/etc/passwd").stdout.startswith("root")


def test_export_lists_the_merged_rootfs(daemon: Daemon, busybox: str) -> None:
    cid = daemon.cli("create", "busybox", "true").stdout.strip()
    try:
        env = {"DOCKER_HOST": daemon.url}
        proc = subprocess.run(["docker", "export", cid], capture_output=True, timeout=60,
                              check=False, env={**__import__("os").environ, **env})
        assert proc.returncode == 0
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            names = tar.getnames()
        assert "bin/busybox" in names and "etc/passwd" in names
    finally:
        daemon.cli("rm", cid)


def test_cp_both_ways_keeps_modes(daemon: Daemon, busybox: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in.sh"
    src.write_text("#!/bin/sh\necho copied-in\n")
    src.chmod(0o750)
    for running in (False, True):
        args = ["run", "-d", "busybox", "sleep", "300"] if running else \
            ["create", "busybox", "sleep", "300"]
        cid = daemon.cli(*args).stdout.strip()
        try:
            daemon.cli("cp", str(src), f"{cid}:/root/in.sh")
            out_dir = tmp_path / f"out-{running}"
            out_dir.mkdir()
            daemon.cli("cp", f"{cid}:/root/in.sh", str(out_dir / "back.sh"))
            assert (out_dir / "back.sh").read_text() == src.read_text()
            assert (out_dir / "back.sh").stat().st_mode & 0o777 == 0o750
            daemon.cli("cp", f"{cid}:/etc", str(out_dir / "etc"))
            assert (out_dir / "etc" / "passwd").exists()
        finally:
            daemon.cli("rm", "-f", cid)


def test_cp_never_leaves_the_container(daemon: Daemon, client: docker.DockerClient,
                                       busybox: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = client.containers.run("busybox", ["sh", "-c", ("ln -s /etc /root/hostetc; "
                                           "ln -s ../../../../.. /root/up; sleep 300")],
                              detach=True)
    try:
        import time
        time.sleep(0.5)
        # The container's /etc, never the host's, through its absolute symlink.
        stream, _ = c.get_archive("/root/hostetc/hostname")
        data = b"".join(stream)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.extractfile("hostname")
            assert member is not None
            name = member.read()
        assert name.decode().strip() == c.attrs["Config"]["Hostname"]
        # A hostile upload: ../ entries and a symlink member followed by a write through it.
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("../../../../../../tmp/pydocker-escape")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        with pytest.raises(docker.errors.APIError):
            c.put_archive("/root", buf.getvalue())
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            link = tarfile.TarInfo("esc")
            link.type = tarfile.SYMTYPE
            link.linkname = "/tmp"
            tar.addfile(link)
            info = tarfile.TarInfo("esc/pydocker-escape")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        # The link is followed beneath the destination or refused, never on the host.
        with contextlib.suppress(docker.errors.APIError):
            c.put_archive("/root", buf.getvalue())
        import os
        assert not os.path.exists("/tmp/pydocker-escape")
        status, _, _ = daemon.request("HEAD", f"/containers/{c.id}/archive?path=/nonexistent")
        assert status == 404
    finally:
        c.remove(force=True)


def test_cp_into_a_read_only_volume_is_refused(daemon: Daemon, client: docker.DockerClient,
                                               busybox: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ro").mkdir()
    c = client.containers.run("busybox", ["sleep", "300"], detach=True,
                              volumes={str(tmp_path / "ro"): {"bind": "/ro", "mode": "ro"}})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    try:
        for _ in range(2):  # running, then stopped (its volumes mounted for the copy)
            with pytest.raises(docker.errors.APIError) as exc:
                c.put_archive("/ro", buf.getvalue())
            assert exc.value.status_code == 400
            assert "read-only" in str(exc.value.explanation)
            c.stop(timeout=0)
        assert list((tmp_path / "ro").iterdir()) == []
    finally:
        c.remove(force=True)


def _owners(c: docker.models.containers.Container, path: str
            ) -> list[tuple[str, int, int, str, str]]:
    stream, _ = c.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        return [(m.name, m.uid, m.gid, m.uname, m.gname) for m in tar.getmembers()]


def test_cp_headers_name_owners_from_the_containers_files(
        client: docker.DockerClient, busybox: str) -> None:
    """As dockerd (whose tar is made chrooted in the container): uname/gname are what the
    container's /etc/passwd and /etc/group say for the ids (the first line of an id),
    empty for an id they do not list, and empty everywhere once the files are gone."""
    script = ("mkdir /o; cd /o; for u in 0:0 1:100 33:1 1234:4321; do touch f$u; chown $u f$u;"
              " done; echo 'twin:x:33:33::/:/bin/sh' >> /etc/passwd")
    named = client.containers.run("busybox", ["sh", "-c", script], detach=True)
    bare = client.containers.run("busybox", ["sh", "-c", "rm /etc/passwd /etc/group"],
                                 detach=True)
    try:
        assert named.wait()["StatusCode"] == bare.wait()["StatusCode"] == 0
        assert _owners(named, "/o") == [("o", 0, 0, "root", "root"),
                                        ("o/f0:0", 0, 0, "root", "root"),
                                        ("o/f1234:4321", 1234, 4321, "", ""),
                                        ("o/f1:100", 1, 100, "daemon", "users"),
                                        ("o/f33:1", 33, 1, "www-data", "daemon")]
        in_bare_etc = _owners(bare, "/etc")
        assert ("etc", 0, 0, "", "") in in_bare_etc
        assert {(uname, gname) for *_, uname, gname in in_bare_etc} == {("", "")}
    finally:
        named.remove(force=True)
        bare.remove(force=True)
