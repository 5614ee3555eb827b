"""The runtime's pure parts, without root: log encoding, seccomp rules, capability masks,
mount options, path resolution inside a root, PATH lookup, wire framing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydocker.engine.runtime import (
    caps,
    cgroups,
    inroot,
    jsonlog,
    logwriter,
    mounts,
    process,
    seccomp,
    wire,
)
from pydocker.engine.runtime import syscalls as sc
from pydocker.engine.runtime.spec import DEFAULT_CAPABILITIES


def records(data: bytes) -> list[tuple[str, str, str]]:
    out = []
    for line in data.decode().splitlines():
        obj = json.loads(line)
        out.append((obj["log"], obj["stream"], obj["time"]))
    return out


@pytest.mark.parametrize("payload", [
    b"plain\nlines\n",
    b"no newline at all",
    b'quotes " and \\ backslashes ", "\n',
    b"tabs\tand\rcarriage\x1b[0m\n\n",
    "ünïcödé \u2028 line\n".encode(),
    b"broken \xff\xfe utf-8\n",
])
def test_encode_bytes_matches_json(payload: bytes) -> None:
    got = records(jsonlog.encode_bytes(payload, "stderr", "T"))
    text = payload.decode("utf-8", "replace")
    want = [part + "\n" for part in text.split("\n")[:-1]]
    if not text.endswith("\n"):
        want.append(text.split("\n")[-1])
    assert got == [(line, "stderr", "T") for line in want]


def test_log_writer_keeps_partial_lines(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    w = logwriter.open_log({"log_path": str(path)})
    w.write("stdout", b"one\ntw")
    w.write("stdout", b"o\nthr")
    w.write("stderr", b"x" * (jsonlog.PARTIAL_MAX + 1))  # too long to wait for its end
    w.close()  # the unfinished "thr" is written out, like dockerd at EOF
    logs = [(log, stream) for log, stream, _ in records(path.read_bytes())]
    assert logs == [("one\n", "stdout"), ("two\n", "stdout"),
                    ("x" * (jsonlog.PARTIAL_MAX + 1), "stderr"), ("thr", "stdout")]


def test_log_writer_drops_what_the_disk_refuses(capfd: pytest.CaptureFixture[str]) -> None:
    """/dev/full answers every write with ENOSPC: the writer drops the lines and says so
    once, and the container's output keeps flowing (no exception into the shim)."""
    w = logwriter.open_log({"log_path": "/dev/full"})
    for _ in range(3):
        w.write("stdout", b"line\n")
    w.close()
    assert w.dropped == 3
    assert capfd.readouterr().err == "Error writing log message: No space left on device\n"


def test_timestamp_is_rfc3339_nano() -> None:
    ts = jsonlog.now_rfc3339()
    assert len(ts) == 30 and ts[10] == "T" and ts[19] == "." and ts.endswith("Z")


def test_default_seccomp_denies_and_relaxes_by_capability() -> None:
    default = seccomp.denied(DEFAULT_CAPABILITIES)
    for name in ("mount", "umount2", "unshare", "setns", "ptrace", "reboot", "keyctl",
                 "init_module", "kexec_load", "bpf", "clock_settime", "acct"):
        assert name in default
    for name in ("chown", "mknod", "adjtimex", "clone", "execve"):
        assert name not in default
    admin = seccomp.denied(DEFAULT_CAPABILITIES + ["CAP_SYS_ADMIN", "SYS_PTRACE"])
    assert not {"mount", "unshare", "setns", "ptrace", "process_vm_readv"} & set(admin)
    assert "keyctl" in admin and "reboot" in admin  # no capability relaxes these


def test_capability_masks() -> None:
    assert caps.mask(DEFAULT_CAPABILITIES, privileged=False) == 0xa80425fb
    assert caps.mask(["cap_net_admin", "SYS_ADMIN"], privileged=False) == (1 << 12) | (1 << 21)
    # Whatever the host's bounding set lacks (CAP_SYS_RESOURCE here) is not granted.
    assert caps.mask(list(caps.NUMBERS), privileged=False) == caps.bounding_set()
    assert caps.mask([], privileged=True) == caps.bounding_set()


def test_mount_options() -> None:
    flags, propagation, data = mounts.parse_options(
        ["rbind", "ro", "nosuid", "rprivate", "size=64m", "mode=1777", "rw"])
    assert flags == sc.MS_BIND | sc.MS_REC | sc.MS_RDONLY | sc.MS_NOSUID
    assert propagation == sc.MS_PRIVATE | sc.MS_REC
    assert data == "size=64m,mode=1777"


def _where(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def test_in_root_resolution_stays_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hosts").write_text("")
    (root / "etc" / "escape").symlink_to("/etc")
    (root / "up").symlink_to("../../..")
    rootfd = inroot.open_root(str(root))
    try:
        assert _where(inroot.openat2(rootfd, "/etc/escape/hosts", os.O_PATH)) == \
            str(root / "etc" / "hosts")
        assert _where(inroot.openat2(rootfd, "up/etc", os.O_PATH)) == str(root / "etc")
        assert _where(inroot.openat2(rootfd, "../../etc", os.O_PATH)) == str(root / "etc")
        # Created through a link, the directories land inside the root too.
        assert _where(inroot.makedirs_in_root(rootfd, "etc/escape/new/dir")) == \
            str(root / "etc" / "new" / "dir")
        assert _where(inroot.open_mount_point(rootfd, "/up/etc/escape/file", False)) == \
            str(root / "etc" / "file")
    finally:
        os.close(rootfd)


def test_in_root_can_keep_the_last_link(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "escape").symlink_to("/etc")
    (root / "loop").symlink_to("loop")
    rootfd = inroot.open_root(str(root))
    try:
        keep = inroot.open_in_root(rootfd, "/etc/escape", os.O_PATH, follow_last=False)
        assert os.readlink("", dir_fd=keep) == "/etc"
        os.close(keep)
        assert _where(inroot.open_in_root(rootfd, "/etc/escape", os.O_PATH)) == \
            str(root / "etc")
        with pytest.raises(OSError) as exc:
            inroot.openat2(rootfd, "loop/x", os.O_PATH)
        assert exc.value.errno == 40  # ELOOP
    finally:
        os.close(rootfd)


def test_lookup_like_runc(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    prog = bindir / "prog"
    prog.write_text("#!/bin/sh\n")
    prog.chmod(0o755)
    env = [f"PATH={tmp_path / 'nowhere'}:{bindir}"]
    assert process.lookup("prog", env) == str(prog)
    with pytest.raises(process.ExecError) as info:
        process.lookup("missing", env)
    assert (str(info.value), info.value.exit_code) == (
        'exec: "missing": executable file not found in $PATH', 127)
    with pytest.raises(process.ExecError) as info:
        process.lookup(str(bindir), env)
    assert info.value.exit_code == 126 and "permission denied" in str(info.value)


def test_cpu_quota_from_nano_cpus() -> None:
    assert cgroups._cpu_quota({"nano_cpus": 1_500_000_000}) == (100000, 150000)
    assert cgroups._cpu_quota({"cpu_period": 50000, "cpu_quota": 25000}) == (50000, 25000)
    assert cgroups._cpu_quota({}) == (0, 0)


def test_wire_frames_are_dockers() -> None:
    assert wire.frame(wire.STDERR, b"hi") == b"\x02\x00\x00\x00\x00\x00\x00\x02hi"
    head, body = wire.message({"op": "wait"})[:4], wire.message({"op": "wait"})[4:]
    assert int.from_bytes(head, "big") == len(body) and json.loads(body) == {"op": "wait"}


def test_zygote_modules_import_only_the_stdlib() -> None:
    """The zygote runs under -I -S: nothing it imports may come from site-packages but
    pyseccomp (imported lazily), and client.py must stay out of it."""
    runtime_dir = Path(seccomp.__file__).parent
    zygote_side = ["caps", "cgroups", "container", "jsonlog", "locallog", "logfile", "logwriter",
                   "mounts", "process", "seccomp",
                   "shim", "syscalls", "tty", "wire", "zygote", "spec", "atomic", "connections",
                   "errors", "exits", "procs"]
    for name in zygote_side:
        source = (runtime_dir / f"{name}.py").read_text()
        for line in source.splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and "pydocker" in stripped:
                pytest.fail(f"{name}.py imports {stripped!r}")
            assert "from .client" not in stripped and "import client" not in stripped
    assert os.path.exists(runtime_dir / "client.py")


def test_clients_that_do_not_read_share_a_bounded_buffer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Many attached clients that never read: each keeps its share of the total (plus
    one frame), the total stays bounded, and a client's last message always goes in."""
    import selectors
    import socket

    from pydocker.engine.runtime import connections

    monkeypatch.setattr(connections, "MAX_TOTAL_BUFFER", 64 << 10)
    clients = connections.Clients(selectors.DefaultSelector())
    pairs = [socket.socketpair() for _ in range(4)]
    conns = [connections.Conn(ours) for ours, _ in pairs]
    for conn in conns:
        clients.watch(conn)
    for _ in range(100):
        for conn in conns:
            clients.send(conn, b"x" * 4096)
    assert all(len(conn.out) <= (16 << 10) for conn in conns)  # 64 KiB / 4 each
    assert clients.buffered == sum(len(conn.out) for conn in conns) <= 64 << 10
    clients.end(conns[0], b"exit status")  # sent at once: the peer's socket has room
    assert pairs[0][1].recv(1 << 20).endswith(b"exit status")
    for conn in conns:
        clients.drop(conn)
    assert clients.buffered == 0
    for _, theirs in pairs:
        theirs.close()
