"""Differential tests (issue 15, part 4), the docker CLI's side: the same commands
against pydockerd and against the reference dockerd on /var/run/docker.sock; exit codes,
stdout and stderr compared after normalising what must differ (ids, times, addresses,
sizes, ports). test_differential_shapes.py compares the inspect and list shapes.

Skipped, with the reason, where no dockerd answers (CI has none): run by hand before a
submission on a machine that has one. Both engines get the same busybox rootfs under
``pydt-diff-busybox:<run>``; everything made on the dockerd is removed afterwards, and
nothing else there is touched. Both clients speak the reference's API version, so both
engines answer the very same requests.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.differential import Side, labelled, same

pytestmark = [pytest.mark.root, pytest.mark.e2e]


# --- docker run: one-off containers --------------------------------------------------

RUN_CASES = {
    "exit-code": ["sh", "-c", "echo out; echo err >&2; exit 3"],
    "env": ["-h", "pydt-h", "-e", "A=1", "IMG", "env"],
    "env-home-given": ["-e", "HOME=/given", "-u", "www-data", "IMG", "sh", "-c", "echo $HOME"],
    "env-tty": ["-t", "-h", "pydt-h", "IMG", "env"],
    "id-root": ["id"],
    "id-user": ["-u", "www-data", "IMG", "id"],
    "id-uid-gid-home": ["-u", "1234:100", "IMG", "sh", "-c", "id; echo $HOME"],
    "group-add": ["--group-add", "33", "--group-add", "users", "IMG", "id"],
    "workdir": ["-w", "/pydt/work/dir", "IMG", "sh", "-c", "pwd; ls -ld . | cut -c1-10"],
    "hostname": ["-h", "pydt-host", "IMG", "sh", "-c", "hostname; cat /etc/hostname"],
    "hosts-file": ["-h", "pydt-host", "--add-host", "pydt-extra:10.1.2.3", "IMG",
                   "cat", "/etc/hosts"],
    "entrypoint": ["--entrypoint", "echo", "IMG", "hi"],
    "entrypoint-empty": ["--entrypoint", "", "IMG", "echo", "hi"],
    "network-none": ["--network", "none", "IMG", "ip", "-4", "-o", "addr"],
    "network-none-no-ipv6": ["--network", "none", "IMG", "sh", "-c",
                             "ip -6 addr; cat /proc/sys/net/ipv6/conf/*/disable_ipv6"],
    "bridge-no-ipv6": ["IMG", "sh", "-c",
                       "ip -6 addr; cat /proc/sys/net/ipv6/conf/*/disable_ipv6"],
    "ipv6-reenabled-by-sysctl": ["--network", "none", "--sysctl",
                                 "net.ipv6.conf.all.disable_ipv6=0", "IMG", "ip", "-6", "addr"],
    "network-host-hostname": ["--network", "host", "IMG", "hostname"],
    "uts-host": ["--uts", "host", "IMG", "hostname"],
    "uts-host-with-hostname": ["--uts", "host", "-h", "pydt-h", "IMG", "hostname"],
    "ipc-host": ["--ipc", "host", "IMG", "readlink", "/proc/self/ns/ipc"],
    "pid-host": ["--pid", "host", "IMG", "sh", "-c", "readlink /proc/self/ns/pid; [ $$ != 1 ]"],
    "read-only": ["--read-only", "IMG", "touch", "/x"],
    "cap-drop": ["--cap-drop", "CHOWN", "IMG", "chown", "1", "/tmp"],
    "pid-1": ["IMG", "sh", "-c", "echo $$; tr '\\0' ' ' < /proc/1/cmdline"],
    "special-mounts": ["IMG", "sh", "-c",
                       ("grep -E ' /(proc|dev|sys|dev/pts|dev/shm|dev/mqueue) ' /proc/mounts"
                        " | cut -d' ' -f2,3 | sort")],
    "dev-nodes": ["IMG", "sh", "-c", "ls /dev | sort | tr '\\n' ' '"],
    "signal-exit": ["IMG", "sh", "-c", "kill -TERM $$"],
    "exit-modulo": ["IMG", "sh", "-c", "exit 300"],
    "env-unset-and-file": ["-e", "PYDT_UNSET", "-e", "PATH=/bin", "IMG", "env"],
    "tmpfs": ["--tmpfs", "/pydt-t:size=1m,mode=1770", "IMG", "sh", "-c",
              "grep ' /pydt-t ' /proc/mounts | cut -d' ' -f2-4; ls -ld /pydt-t | cut -c1-10"],
    "read-only-with-tmpfs": ["--read-only", "--tmpfs", "/run", "IMG", "sh", "-c",
                             "touch /run/x && echo ok; touch /x"],
    "ulimit": ["--ulimit", "nofile=100:200", "IMG", "sh", "-c", "ulimit -n; ulimit -Hn"],
    "sysctl": ["--sysctl", "net.ipv4.ip_local_port_range=20000 30000", "IMG",
               "cat", "/proc/sys/net/ipv4/ip_local_port_range"],
    "dns": ["--dns", "10.9.9.9", "--dns-search", "pydt.example", "--dns-option", "ndots:2",
            "IMG", "cat", "/etc/resolv.conf"],
    "no-new-privileges": ["--security-opt", "no-new-privileges", "IMG", "grep",
                          "NoNewPrivs", "/proc/self/status"],
    "cap-add": ["--cap-add", "SYS_ADMIN", "--cap-drop", "NET_RAW", "IMG", "grep",
                "CapEff", "/proc/self/status"],
    "shm-size": ["--shm-size", "8m", "IMG", "sh", "-c", "df -k /dev/shm | tail -1 | awk '{print $2}'"],
    "memory-limit": ["-m", "64m", "--memory-swap", "-1", "IMG", "sh", "-c",
                     ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null"
                      " || cat /sys/fs/cgroup/memory.max")],
    "pids-limit": ["--pids-limit", "50", "IMG", "sh", "-c",
                   "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"],
    "attach-stderr-only": ["-a", "stderr", "IMG", "sh", "-c", "echo out; echo err >&2"],
    "user-root-explicit": ["-u", "0:0", "IMG", "id"],
    "workdir-relative-run": ["-w", "/tmp", "IMG", "sh", "-c", "pwd; echo $PWD"],
    "proc-readonly-paths": ["IMG", "sh", "-c", ("echo 1 > /proc/sys/kernel/shmmax; "
                            "ls /proc/kcore /proc/keys /proc/timer_list 2>&1 | head -3")],
    "volume-in-run": ["-v", "/pydt-anon", "IMG", "sh", "-c",
                      "grep ' /pydt-anon ' /proc/mounts | cut -d' ' -f2"],
    "capabilities": ["IMG", "sh", "-c", "grep -E '^Cap(Prm|Eff|Bnd)' /proc/self/status"],
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_run(sides: tuple[Side, Side], case: str) -> None:
    args = RUN_CASES[case]
    if "IMG" not in args:
        args = ["IMG", *args]
    same(sides, "run", "--rm", *args)


def test_run_missing_command_exits_127(sides: tuple[Side, Side]) -> None:
    """The exit code and the gist of the message: the rest of it names the runtime
    (runc's "OCI runtime create failed ..." against our own)."""
    ours, theirs = same(sides, "run", "--rm", "IMG", "pydt-nosuch", compare_stderr=False)
    assert ours.rc == 127
    for ran in (ours, theirs):
        assert 'exec: "pydt-nosuch": executable file not found in $PATH' in ran.err


def test_run_unknown_user(sides: tuple[Side, Side]) -> None:
    ours, theirs = same(sides, "run", "--rm", "-u", "pydt-nobody", "IMG", "id",
                        compare_stderr=False)
    for ran in (ours, theirs):
        assert "unable to find user pydt-nobody: no matching entries in passwd file" in ran.err


def test_run_stdin_binary(sides: tuple[Side, Side]) -> None:
    data = os.urandom(1 << 20)
    ours, _ = same(sides, "run", "--rm", "-i", "IMG", "sha256sum", stdin=data)
    assert ours.out.split()[0] == hashlib.sha256(data).hexdigest()
    same(sides, "run", "--rm", "-i", "IMG", "wc", "-c", stdin=b"line\n" * 1000)


# --- ps ------------------------------------------------------------------------------


def test_ps_filters_and_formats(sides: tuple[Side, Side]) -> None:
    for side in sides:
        assert side.cli("run", *labelled(side, "ps-exited"), "--label", "tier=a", "IMG",
                        "sh", "-c", "exit 2").rc == 2
        assert side.cli("run", "-d", *labelled(side, "ps-running"), "--label", "tier=b",
                        "IMG", "sleep", "600").rc == 0
        assert side.cli("create", *labelled(side, "ps-created"), "IMG", "true").rc == 0
    run = sides[0].run
    mine = ["--filter", f"name=pydt-diff-{run}-ps"]
    fmt = "{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.Labels}}|{{.Ports}}|{{.State}}"
    same(sides, "ps", *mine, "--format", fmt)
    same(sides, "ps", "-a", *mine, "--format", fmt)
    for extra in (["status=exited"], ["status=created"], ["exited=2"], ["label=tier=b"],
                  ["label=tier"], [f"name=^/pydt-diff-{run}-ps-running$"],
                  [f"name=^pydt-diff-{run}-ps-exited$"], [f"ancestor={sides[0].image}"],
                  ["ancestor=NOT-A-REFERENCE"]):
        same(sides, "ps", "-a", *mine, "--filter", extra[0], "--format", "{{.Names}}")
    same(sides, "ps", "-a", *mine, "--no-trunc", "--format", "{{.Command}}")
    same(sides, "ps", "-a", *mine, "--format", "table {{.Names}}\t{{.Status}}")
    same(sides, "ps", "-a", *mine, "-n", "1", "--format", "{{.Names}}")
    same(sides, "ps", "-a", *mine, "--format", "{{json .Names}} {{.Mounts}} {{.Networks}}")
    same(sides, "ps", "-a", "--filter", "status=bogus", compare_stderr=True)


def _tar_members(data: bytes) -> list[tuple[Any, ...]]:
    """What a client reads from an archive: names, types, modes, owners (ids and the
    names the container's passwd and group give them), contents. Go keeps the type bits
    in the mode field."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return [(m.name, m.type, m.mode & 0o7777, m.uid, m.gid, m.uname, m.gname, m.size,
                 tar.extractfile(m).read() if m.isfile() else b"")  # type: ignore[union-attr]
                for m in tar.getmembers()]


# --- logs, exec, cp, diff, port -------------------------------------------------------


def test_logs_timestamps_and_tail(sides: tuple[Side, Side]) -> None:
    # stderr first, then a pause: both engines read the two pipes apart, and lines
    # written at once may be logged in either order (dockerd's own runs differ)
    script = "echo oops >&2; sleep 1; for i in 1 2 3 4 5; do echo line$i; done"
    for side in sides:
        assert side.cli("run", *labelled(side, "logs"), "IMG", "sh", "-c", script).rc == 0
    c = f"pydt-diff-{sides[0].run}-logs"
    same(sides, "logs", c)
    for args in (["--tail", "2"], ["--tail", "0"], ["-t"], ["-t", "--tail", "1"],
                 ["--since", "1h"], ["--until", "2000-01-01T00:00:00Z"], ["--tail", "x"]):
        same(sides, "logs", *args, c)


def test_logs_details_with_labels_and_env_options(sides: tuple[Side, Side]) -> None:
    for side in sides:
        assert side.cli("run", *labelled(side, "logs-details"), "--label", "pydt.a=x y",
                        "-e", "PYDT_E=1&2", "--log-opt", "labels=pydt.a,pydt.none",
                        "--log-opt", "env-regex=^PYDT_", "IMG", "echo", "hi").rc == 0
    c = f"pydt-diff-{sides[0].run}-logs-details"
    same(sides, "logs", "--details", c)
    same(sides, "logs", "--details", f"pydt-diff-{sides[0].run}-logs")  # no attrs
    same(sides, "run", "--rm", "--log-opt", "env-regex=(", "IMG", "true")


def test_exec_exit_codes(sides: tuple[Side, Side]) -> None:
    for side in sides:
        assert side.cli("run", "-d", *labelled(side, "exec"), "IMG", "sleep", "600").rc == 0
    c = f"pydt-diff-{sides[0].run}-exec"
    same(sides, "exec", c, "sh", "-c", "echo hi; exit 7")
    same(sides, "exec", "-u", "www-data", "-w", "/tmp", c, "sh", "-c", "id; pwd; echo $HOME")
    same(sides, "exec", "-e", "X=1", c, "sh", "-c", "env | sort")
    assert same(sides, "exec", c, "pydt-nosuch")[0].rc == 126
    same(sides, "exec", "pydt-diff-nosuch", "true")
    same(sides, "stop", "-t", "1", c)
    same(sides, "exec", c, "true")  # not running


def test_cp_both_ways(sides: tuple[Side, Side], tmp_path: Path) -> None:
    for side in sides:
        assert side.cli("run", *labelled(side, "cp"), "IMG", "sh", "-c",
                        "mkdir -p /d/sub && echo inside > /d/sub/f && chmod 640 /d/sub/f").rc == 0
    c = f"pydt-diff-{sides[0].run}-cp"
    for side in sides:
        dest = tmp_path / side.name
        dest.mkdir()
        assert side.cli("cp", f"{c}:/d", str(dest)).rc == 0
        f = dest / "d" / "sub" / "f"
        assert (f.read_text(), oct(f.stat().st_mode & 0o777)) == ("inside\n", "0o640")
        (dest / "in.txt").write_text("sent\n")
        assert side.cli("cp", str(dest / "in.txt"), f"{c}:/d/in.txt").rc == 0
    same(sides, "cp", f"{c}:/pydt-nosuch", str(tmp_path))
    members = [_tar_members(side.cli_bytes("cp", f"{c}:/d/sub/f", "-")) for side in sides]
    assert members[0] == members[1]
    same(sides, "diff", c, any_order=True)


def test_cp_and_export_name_owners_from_the_containers_passwd(sides: tuple[Side, Side]
                                                              ) -> None:
    """uid 100 is in the busybox image's group file only (and the host's passwd):
    dockerd's tar, made chrooted in the container, names what the container lists."""
    owners = "1:1 33:1 100:100 1234:4321 65534:65534"
    for side in sides:
        assert side.cli("run", *labelled(side, "cp-owners"), "IMG", "sh", "-c",
                        f"mkdir /o; cd /o; for u in {owners}; do touch f$u; chown $u f$u; "
                        "done").rc == 0
    c = f"pydt-diff-{sides[0].run}-cp-owners"
    members = [_tar_members(side.cli_bytes("cp", f"{c}:/o", "-")) for side in sides]
    assert members[0] == members[1]
    assert ("o/f100:100", b"0", 0o644, 100, 100, "", "users", 0, b"") in members[0]
    exported = [[m for m in _tar_members(side.cli_bytes("export", c))
                 if m[0].startswith(("o/", "etc/passwd"))] for side in sides]
    assert exported[0] == exported[1]


def test_diff_of_a_fresh_and_a_changed_container(sides: tuple[Side, Side]) -> None:
    for side in sides:
        assert side.cli("run", *labelled(side, "diff-fresh"), "IMG", "true").rc == 0
        assert side.cli("run", *labelled(side, "diff-changed"), "IMG", "sh", "-c",
                        "touch /new; rm /etc/group; echo x >> /etc/passwd; "
                        "mkdir -p /tmp/a/b").rc == 0
    same(sides, "diff", f"pydt-diff-{sides[0].run}-diff-fresh")
    # dockerd lists the changes in the writable layer's readdir order, which is the
    # filesystem's hash order: the same set of lines is what can be asked of both
    same(sides, "diff", f"pydt-diff-{sides[0].run}-diff-changed", any_order=True)


def test_port_mapping_output(sides: tuple[Side, Side]) -> None:
    for side in sides:
        assert side.cli("run", "-d", *labelled(side, "port"), "-p", "127.0.0.1::80",
                        "-p", "127.0.0.1:0:53/udp", "--expose", "9000", "IMG",
                        "sleep", "600").rc == 0
    c = f"pydt-diff-{sides[0].run}-port"
    same(sides, "port", c)
    same(sides, "port", c, "80")
    same(sides, "port", c, "53/udp")
    same(sides, "port", c, "81")
    same(sides, "ps", "--filter", f"name={c}", "--format", "{{.Ports}}")
    same(sides, "inspect", "-f", "{{json .NetworkSettings.Ports}}", c)


# --- errors through the CLI's stderr ----------------------------------------------------


@pytest.fixture(scope="module")
def error_targets(sides: tuple[Side, Side]) -> dict[str, str]:
    """A running container, a created one and a volume in use, on both engines."""
    for side in sides:
        assert side.cli("run", "-d", *labelled(side, "err-running"), "IMG",
                        "sleep", "600").rc == 0
        assert side.cli("create", *labelled(side, "err-created"), "IMG", "true").rc == 0
        vol = side.name_for("volume", "err-vol")
        assert side.cli("run", *labelled(side, "err-vol-user"), "-v", f"{vol}:/v",
                        "IMG", "true").rc == 0
    run = sides[0].run
    return {"RUNNING": f"pydt-diff-{run}-err-running", "CREATED": f"pydt-diff-{run}-err-created",
            "VOLUME": f"pydt-diff-{run}-err-vol"}


ERROR_CASES = {
    "rm-missing": ["rm", "pydt-diff-nosuch"],
    "rm-running": ["rm", "RUNNING"],
    "rmi-missing": ["rmi", "pydt-diff-nosuch"],
    "rmi-in-use": ["rmi", "IMG"],
    "inspect-missing": ["inspect", "pydt-diff-nosuch"],
    "start-missing": ["start", "pydt-diff-nosuch"],
    "start-one-missing": ["start", "CREATED", "pydt-diff-nosuch"],
    "stop-missing": ["stop", "pydt-diff-nosuch"],
    "kill-created": ["kill", "CREATED"],
    "pause-created": ["pause", "CREATED"],
    "unpause-running": ["unpause", "RUNNING"],
    "logs-missing": ["logs", "pydt-diff-nosuch"],
    "wait-missing": ["wait", "pydt-diff-nosuch"],
    "top-created": ["top", "CREATED"],
    "port-created": ["port", "CREATED"],
    "create-name-taken": ["create", "--name", "RUNNING", "IMG"],
    "rename-to-taken": ["rename", "CREATED", "RUNNING"],
    "network-rm-missing": ["network", "rm", "pydt-diff-nosuch"],
    "network-rm-predefined": ["network", "rm", "bridge"],
    "network-inspect-missing": ["network", "inspect", "pydt-diff-nosuch"],
    "volume-rm-in-use": ["volume", "rm", "VOLUME"],
    "volume-inspect-missing": ["volume", "inspect", "pydt-diff-nosuch"],
}

# dockerd 20.10 words these the old way; moby 23+ (and we, speaking API 1.50) the new:
# the exit code and stdout must still match.
NEWER_WORDING = {
    "rm-running": ("You cannot remove a running container",
                   "container is running: stop the container before removing or force remove"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_messages(sides: tuple[Side, Side], error_targets: dict[str, str],
                        case: str) -> None:
    args = [error_targets.get(a, a) for a in ERROR_CASES[case]]
    if case not in NEWER_WORDING:
        same(sides, *args)
        return
    ours, theirs = same(sides, *args, compare_stderr=False)
    old, new = NEWER_WORDING[case]
    assert old in theirs.err and new in ours.err, (ours.err, theirs.err)


def test_lifecycle_commands(sides: tuple[Side, Side]) -> None:
    """create, start -a, wait, restart, rename, update, top, commit, tag, rmi, export."""
    run = sides[0].run
    c, renamed = f"pydt-diff-{run}-life", f"pydt-diff-{run}-life2"
    image = f"pydt-diff-{run}-committed:v1"
    for side in sides:
        side.made += [("container", renamed), ("image", image)]
        assert side.cli("create", *labelled(side, "life"), "IMG", "sh", "-c",
                        "echo started; echo x > /made; exit 2").rc == 0
    same(sides, "start", "-a", c)
    same(sides, "wait", c)
    same(sides, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", c)
    same(sides, "rename", c, renamed)
    same(sides, "update", "--memory", "32m", "--memory-swap", "64m", renamed)
    same(sides, "inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}", renamed)
    same(sides, "commit", "-c", "ENV PYDT=1", "-c", 'CMD ["cat", "/made"]', "-m", "msg",
         renamed, image)
    same(sides, "image", "inspect", "-f", "{{.Config.Env}} {{.Config.Cmd}} {{.Comment}} "
         "{{len .RootFS.Layers}}", image)
    same(sides, "run", "--rm", image)
    same(sides, "history", "--format", "{{.CreatedBy}}|{{.Comment}}", image)
    same(sides, "tag", image, f"pydt-diff-{run}-committed:v2")
    same(sides, "rmi", f"pydt-diff-{run}-committed:v2")
    same(sides, "export", "-o", "/dev/null", renamed)
    for side in sides:
        assert side.cli("run", "-d", *labelled(side, "life-top"), "IMG", "sleep", "600").rc == 0
    top = f"pydt-diff-{run}-life-top"
    same(sides, "top", top, "-o", "user,comm,args")  # host pids differ by nature
    same(sides, "restart", "-t", "1", top)
    same(sides, "inspect", "-f", "{{.State.Status}} {{.RestartCount}}", top)
