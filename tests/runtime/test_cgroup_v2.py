"""The cgroup v2 code on the real kernel, also on a hybrid (v1) host: there it runs on the
cgroup2 mount at /sys/fs/cgroup/unified, which offers no controller we use, so only the
core files (cgroup.procs/freeze/events/kill, cpu.stat) exist. On a pure v2 host it runs
on /sys/fs/cgroup itself. Every cgroup made here lives under a ``pydocker-test-*``
parent that is removed afterwards, also when a test fails."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydocker.engine.runtime.cgroups import Cgroup, _stats_v2, _write_if_present

BUSY_LOOP = ["sh", "-c", "while :; do :; done"]


def _cgroup2_mounts() -> set[str]:
    with open("/proc/mounts") as f:
        return {fields[1] for fields in (line.split() for line in f) if fields[2] == "cgroup2"}


def _v2_root() -> Path | None:
    mounts = _cgroup2_mounts()
    for candidate in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if candidate in mounts:
            return Path(candidate)
    return None


@pytest.fixture
def v2_root() -> Path:
    root = _v2_root()
    if root is None:
        pytest.skip("no cgroup2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified "
                    "(per /proc/mounts): nothing to run the v2 code on")
    return root


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # reaped by the test already


@pytest.fixture
def spawn() -> Iterator[Callable[[list[str]], int]]:
    """spawn(argv) -> pid of a child of ours; killed and reaped afterwards if still there."""
    pids: list[int] = []

    def run(argv: list[str]) -> int:
        pid = os.posix_spawnp(argv[0], argv, dict(os.environ))
        pids.append(pid)
        return pid

    yield run
    for pid in pids:
        _kill_and_reap(pid)


@pytest.fixture
def parent(v2_root: Path, spawn: Callable[[list[str]], int]) -> Iterator[str]:
    """A parent of our own; afterwards whatever is left under it is thawed, killed and
    removed (before ``spawn`` reaps its children, hence the dependency)."""
    name = f"pydocker-test-{uuid.uuid4().hex[:8]}"
    yield name
    top = v2_root / name
    if not top.is_dir():
        return
    for path in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)) \
            + [top]:
        # Tasks first (thawed, since a frozen one only dies when it runs), then the dirs.
        for file, value in (("cgroup.freeze", "0"), ("cgroup.kill", "1")):
            with contextlib.suppress(OSError):
                (path / file).write_text(value)
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(200):
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.01)
    assert not top.exists(), f"could not remove {top}"


def _cpu_ns(cg: Cgroup) -> int:
    return cg.stats()["cpu_total_ns"]


def _wait_for_cpu_growth(cg: Cgroup, since: int, at_least_ns: int = 20_000_000,
                         timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _cpu_ns(cg)
        if now - since >= at_least_ns:
            return now
        time.sleep(0.02)
    pytest.fail(f"cpu usage did not grow by {at_least_ns} ns in {timeout}s "
                f"({since} -> {_cpu_ns(cg)})")


def _events(cg: Cgroup) -> dict[str, str]:
    text = Path(cg.dirs()["unified"], "cgroup.events").read_text()
    return dict(line.split(" ", 1) for line in text.splitlines())


# --- on the real kernel --------------------------------------------------------------------

@pytest.mark.root
def test_lifecycle_on_the_real_kernel(v2_root: Path, parent: str,
                                      spawn: Callable[[list[str]], int]) -> None:
    cg = Cgroup(parent, "c1", root=str(v2_root), v2=True)
    path = v2_root / parent / "c1"
    assert cg.dirs() == {"unified": str(path)}

    cg.create({})
    assert path.is_dir()
    pid = spawn(BUSY_LOOP)
    cg.add(pid)
    assert (path / "cgroup.procs").read_text().split() == [str(pid)]

    # stats: Docker-shaped, cpu from cpu.stat's usage_usec, growing while it runs
    first = cg.stats()
    assert set(first) >= {"cpu_total_ns", "cpu_user_ns", "cpu_system_ns", "throttling",
                          "memory_usage", "memory_limit", "memory_stats", "pids_current",
                          "pids_limit", "blkio"}
    running = _wait_for_cpu_growth(cg, first["cpu_total_ns"])
    assert running % 1000 == 0  # µs → ns
    assert cg.stats()["cpu_user_ns"] + cg.stats()["cpu_system_ns"] > 0
    if not (path / "memory.current").exists():  # no memory controller here: zeros
        assert (first["memory_usage"], first["memory_limit"], first["memory_stats"]) == \
            (0, 0, {})
    if not (path / "io.stat").exists():
        assert first["blkio"] == []

    # freeze: cgroup.events says so and the cpu time stands still
    cg.freeze(True)
    assert _events(cg)["frozen"] == "1"
    before = _cpu_ns(cg)
    time.sleep(0.3)
    assert _cpu_ns(cg) - before < 5_000_000, "cpu usage grew while frozen"

    # thaw: it runs again
    cg.freeze(False)
    assert _events(cg)["frozen"] == "0"
    _wait_for_cpu_growth(cg, _cpu_ns(cg))

    assert cg.oom_killed() is False

    # kill_all (cgroup.kill where the kernel has it): the process dies of SIGKILL
    cg.kill_all()
    waited, status = os.waitpid(pid, 0)
    assert waited == pid and os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    for _ in range(100):
        if _events(cg)["populated"] == "0":
            break
        time.sleep(0.01)
    assert _events(cg)["populated"] == "0"

    # remove: the cgroup goes, and its parent with it once empty
    cg.remove()
    assert not path.exists()
    assert not (v2_root / parent).exists()
    # figures of a cgroup that is gone are zeros, not an exception
    assert cg.stats()["cpu_total_ns"] == 0 and cg.stats()["blkio"] == []
    assert cg.oom_killed() is False


@pytest.mark.root
def test_kill_all_reaches_a_frozen_cgroup(v2_root: Path, parent: str,
                                          spawn: Callable[[list[str]], int]) -> None:
    cg = Cgroup(parent, "c1", root=str(v2_root), v2=True)
    cg.create({})
    pid = spawn(BUSY_LOOP)
    cg.add(pid)
    cg.freeze(True)
    assert _events(cg)["frozen"] == "1"
    cg.kill_all()
    waited, status = os.waitpid(pid, 0)
    assert waited == pid and os.WTERMSIG(status) == signal.SIGKILL
    cg.remove()
    assert not (v2_root / parent).exists()


@pytest.mark.root
def test_remove_keeps_a_parent_still_in_use(v2_root: Path, parent: str) -> None:
    one = Cgroup(parent, "one", root=str(v2_root), v2=True)
    two = Cgroup(parent, "two", root=str(v2_root), v2=True)
    one.create({})
    two.create({})
    one.remove()
    assert not (v2_root / parent / "one").exists() and (v2_root / parent / "two").is_dir()
    two.remove()
    assert not (v2_root / parent).exists()


@pytest.mark.root
def test_limits_the_root_cannot_honour_are_skipped(v2_root: Path, parent: str,
                                                   spawn: Callable[[list[str]], int]) -> None:
    """With the controllers not available (a hybrid host's unified mount has none of ours)
    the limit files do not exist: create skips them instead of failing, and the cgroup
    works. Where the controller is there (pure v2), the limit is written."""
    cg = Cgroup(parent, "limited", root=str(v2_root), v2=True)
    resources = {"memory": 64 << 20, "memory_swap": 128 << 20,
                 "memory_reservation": 32 << 20, "pids_limit": 10,
                 "nano_cpus": 500_000_000, "cpu_shares": 512}
    cg.create(resources)
    path = v2_root / parent / "limited"
    expected = {"memory.max": str(64 << 20), "memory.swap.max": str(64 << 20),
                "memory.low": str(32 << 20), "pids.max": "10", "cpu.max": "50000 100000",
                "cpu.weight": str(1 + ((512 - 2) * 9999) // 262142)}
    for name, value in expected.items():
        if (path / name).exists():
            assert (path / name).read_text().strip() == value, name

    # Only controllers the parent offers were asked for in its subtree_control.
    offered = set((v2_root / "cgroup.controllers").read_text().split())
    enabled = set((v2_root / parent / "cgroup.subtree_control").read_text().split())
    assert enabled <= offered

    pid = spawn(["sleep", "30"])
    cg.add(pid)
    assert (path / "cgroup.procs").read_text().split() == [str(pid)]
    stats = cg.stats()
    if not (path / "pids.current").exists():
        assert (stats["pids_current"], stats["pids_limit"]) == (0, 0)
    else:
        assert (stats["pids_current"], stats["pids_limit"]) == (1, 10)
    cg.kill_all()
    _, status = os.waitpid(pid, 0)
    assert os.WTERMSIG(status) == signal.SIGKILL
    cg.remove()
    assert not (v2_root / parent).exists()


@pytest.mark.root
def test_missing_files_are_skipped_but_refusals_are_not(v2_root: Path, parent: str) -> None:
    """Skipping a limit whose file is missing must not hide a real refusal by the kernel.
    (cgroupfs answers open(missing, "w") with EACCES, so the helper opens without O_CREAT.)"""
    cg = Cgroup(parent, "bad", root=str(v2_root), v2=True)
    cg.create({})
    path = cg.dirs()["unified"]
    assert _write_if_present(f"{path}/no-such-controller.max", "1") is False
    with pytest.raises(OSError) as info:
        _write_if_present(f"{path}/cgroup.freeze", "bogus")
    assert info.value.errno == errno.EINVAL
    assert _write_if_present(f"{path}/cgroup.freeze", "0") is True
    cg.remove()
    assert not (v2_root / parent).exists()


# --- without the kernel: what the files would say ------------------------------------------

def test_stats_v2_from_files(tmp_path: Path) -> None:
    (tmp_path / "cpu.stat").write_text(
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
        "nr_periods 7\nnr_throttled 2\nthrottled_usec 30\n")
    (tmp_path / "memory.current").write_text("4096\n")
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.stat").write_text("anon 1024\nfile 2048\ninactive_file 512\n")
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (tmp_path / "pids.current").write_text("3\n")
    (tmp_path / "pids.max").write_text("max\n")
    (tmp_path / "io.stat").write_text(
        "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
        "253:1 rbytes=10 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n")
    s = _stats_v2(str(tmp_path))
    assert (s["cpu_total_ns"], s["cpu_user_ns"], s["cpu_system_ns"]) == \
        (1_500_000, 1_000_000, 500_000)
    assert s["throttling"] == {"periods": 7, "throttled_periods": 2, "throttled_time": 30_000}
    assert (s["memory_usage"], s["memory_limit"], s["memory_failcnt"]) == (4096, 0, 1)
    assert s["memory_stats"] == {"anon": 1024, "file": 2048, "inactive_file": 512}
    assert (s["pids_current"], s["pids_limit"]) == (3, 0)
    assert s["blkio"] == [
        {"major": 8, "minor": 0, "op": "read", "value": 4096},
        {"major": 8, "minor": 0, "op": "write", "value": 8192},
        {"major": 253, "minor": 1, "op": "read", "value": 10},
        {"major": 253, "minor": 1, "op": "write", "value": 0},
    ]
    (tmp_path / "memory.max").write_text("67108864\n")
    (tmp_path / "pids.max").write_text("10\n")
    s = _stats_v2(str(tmp_path))
    assert (s["memory_limit"], s["pids_limit"]) == (64 << 20, 10)


def test_stats_v2_of_nothing_is_zeros(tmp_path: Path) -> None:
    s = _stats_v2(str(tmp_path / "gone"))
    assert s["cpu_total_ns"] == 0 and s["memory_usage"] == 0 and s["memory_stats"] == {}
    assert s["pids_current"] == 0 and s["blkio"] == []


def test_root_and_version_are_injectable(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    assert Cgroup("p", "c", root=str(tmp_path)).v2 is True
    assert Cgroup("p", "c", root=str(tmp_path), v2=False).dirs() == {}
    assert Cgroup("/p/", "c", root=str(tmp_path) + "/").dirs() == {"unified": f"{tmp_path}/p/c"}
    (tmp_path / "cgroup.controllers").unlink()
    (tmp_path / "memory").mkdir()
    v1 = Cgroup("p", "c", root=str(tmp_path))
    assert v1.v2 is False and v1.dirs() == {"memory": f"{tmp_path}/memory/p/c"}


def test_create_v2_enables_only_offered_controllers(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk down to the cgroup asks each ancestor for the controllers it offers, one by
    one, and leaves alone an ancestor that offers none; missing limit files are skipped."""
    from pydocker.engine.runtime import cgroups
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    (tmp_path / "cgroup.subtree_control").write_text("memory\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "cgroup.controllers").write_text("hugetlb\n")
    (tmp_path / "p" / "cgroup.subtree_control").write_text("")
    writes: list[tuple[str, str]] = []
    monkeypatch.setattr(cgroups, "_write", lambda path, value: writes.append((path, value)))
    Cgroup("p", "c", root=str(tmp_path), v2=True).create({"memory": 1 << 20, "pids_limit": 5},
                                                          restrict_devices=False)
    assert writes == [(f"{tmp_path}/cgroup.subtree_control", f"+{c}")
                      for c in ("cpu", "pids", "cpuset", "io")]
    assert (tmp_path / "p" / "c").is_dir()
    assert not (tmp_path / "p" / "c" / "memory.max").exists()  # never created by us


def test_device_filter_program_shape() -> None:
    from pydocker.engine.runtime import devicefilter
    assert devicefilter.parse_rule("c 1:3 rwm") == (devicefilter.DEV_CHAR, 1, 3, 7)
    assert devicefilter.parse_rule("b *:* m") == (devicefilter.DEV_BLOCK, -1, -1, 1)
    # 6 loads, then per rule: its tests + "r0 = 1; exit", then "r0 = 0; exit".
    assert len(devicefilter.program(["c 1:3 rwm"])) == 8 * (6 + 3 + 2 + 2)
    assert len(devicefilter.program(["a *:* rwm"])) == 8 * (6 + 0 + 2 + 2)


@pytest.mark.root
def test_device_filter_allows_dockers_list_and_nothing_else(v2_root: Path, parent: str,
                                                            tmp_path: Path) -> None:
    """The eBPF allow-list on the real kernel: /dev/null and /dev/zero open, /dev/kmsg
    (not on Docker's list) does not; mknod of a disk is allowed, opening it is not."""
    import subprocess
    import sys
    disk = tmp_path / "disk"
    cg = Cgroup(parent, "devices", root=str(v2_root), v2=True)
    cg.create({})  # restrict_devices=True by default
    probe = """
import os, stat, sys
sys.stdin.readline()
os.mknod(sys.argv[1], stat.S_IFBLK | 0o600, os.makedev(7, 0))  # a loop device
for path, flags in (("/dev/null", os.O_WRONLY), ("/dev/zero", os.O_RDONLY),
                    ("/dev/kmsg", os.O_RDONLY), (sys.argv[1], os.O_RDONLY)):
    try:
        os.close(os.open(path, flags)); print(path, "ok")
    except OSError as e:
        print(path, e.errno)
"""
    child = subprocess.Popen([sys.executable, "-c", probe, str(disk)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        cg.add(child.pid)
        out, _ = child.communicate("go\n", timeout=30)
    finally:
        child.kill()
        child.wait()
    assert out.split("\n")[:4] == ["/dev/null ok", "/dev/zero ok",
                                   f"/dev/kmsg {errno.EPERM}", f"{disk} {errno.EPERM}"]
    cg.remove()
