"""Reading logs: streams, tail, since/until, timestamps, framing; across rotated and
compressed files, json-file and local."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from pydocker.api.server.streams import split_frames
from pydocker.engine.containers.logs import (
    LogOptions,
    LogSource,
    details_prefix,
    fixed_width_timestamp,
    read_logs,
)
from pydocker.engine.runtime import logwriter
from pydocker.engine.runtime.jsonlog import JsonFileFormat
from pydocker.engine.runtime.logfile import RotatingFile


def write_log(path: Path) -> None:
    lines = [("a\n", "stdout", "2026-11-22T09:00:00.1Z"),
             ("b\n", "stderr", "2026-11-22T09:00:01.000000002Z"),
             ("c\n", "stdout", "2026-11-22T09:00:02Z")]
    path.write_text("".join(json.dumps({"log": l, "stream": s, "time": t}) + "\n"
                            for l, s, t in lines))


async def collect(path: Path, opts: LogOptions, driver: str = "json-file") -> bytes:
    source = LogSource.of(driver, path)
    return b"".join([chunk async for chunk in read_logs(source, opts, lambda: False)])


async def test_frames_per_stream(tmp_path: Path) -> None:
    log = tmp_path / "x-json.log"
    write_log(log)
    frames, rest = split_frames(await collect(log, LogOptions()))
    assert rest == b""
    assert frames == [(1, b"a\n"), (2, b"b\n"), (1, b"c\n")]


async def test_stdout_only_tail_and_tty(tmp_path: Path) -> None:
    log = tmp_path / "x-json.log"
    write_log(log)
    assert await collect(log, LogOptions(stderr=False, tty=True)) == b"a\nc\n"
    assert await collect(log, LogOptions(tail=1, tty=True)) == b"c\n"
    assert await collect(log, LogOptions(tail=0, tty=True)) == b""


async def test_since_until_and_timestamps(tmp_path: Path) -> None:
    log = tmp_path / "x-json.log"
    write_log(log)
    base = 1795338000  # 2026-11-22T09:00:00Z
    got = await collect(log, LogOptions(since_ns=(base + 1) * 10**9, tty=True))
    assert got == b"b\nc\n"
    got = await collect(log, LogOptions(until_ns=(base + 1) * 10**9, tty=True))
    assert got == b"a\n"
    got = await collect(log, LogOptions(tail=1, timestamps=True, tty=True))
    assert got == b"2026-11-22T09:00:02.000000000Z c\n"


def test_fixed_width_timestamp() -> None:
    assert fixed_width_timestamp("2026-11-22T09:00:00.1Z") == "2026-11-22T09:00:00.100000000Z"


# --- across rotated files -------------------------------------------------------------

T0 = 1_795_338_000 * 10**9  # 2026-11-22T09:00:00Z


def write_rotating(path: Path, driver: str, count: int, compress: bool = False) -> None:
    """``count`` numbered lines through the shim's writer, rotated at 1000 bytes."""
    log = logwriter.open_log({"log_path": str(path), "log": {
        "driver": driver, "max_size": 1000, "max_file": 4, "compress": compress}})
    for i in range(0, count, 10):
        log.write("stdout", b"".join(b"line %05d\n" % n for n in range(i, min(i + 10, count))))
    log.close()


def numbered(first: int, end: int) -> bytes:
    return b"".join(b"line %05d\n" % n for n in range(first, end))


@pytest.mark.parametrize(("driver", "name", "compress"), [
    ("json-file", "c-json.log", False), ("json-file", "c-json.log", True),
    ("local", "container.log", False), ("local", "container.log", True)])
async def test_reads_the_rotated_files_in_order(tmp_path: Path, driver: str, name: str,
                                                compress: bool) -> None:
    path = tmp_path / name
    write_rotating(path, driver, 300, compress)
    assert (tmp_path / f"{name}.3{'.gz' if compress else ''}").exists()
    everything = await collect(path, LogOptions(tty=True), driver)
    first = int(everything.split(b"\n")[0].split()[1])
    assert first > 0  # the oldest were rotated out
    assert everything == numbered(first, 300)
    kept = 300 - first
    for tail in (1, 5, kept // 2, kept):  # in the current file, and reaching into older ones
        assert await collect(path, LogOptions(tail=tail, tty=True), driver) == \
            numbered(300 - tail, 300)
    assert await collect(path, LogOptions(tail=kept + 100, tty=True), driver) == everything


async def test_local_entries_keep_streams_times_and_unfinished_lines(tmp_path: Path) -> None:
    path = tmp_path / "container.log"
    log = logwriter.open_log({"log_path": str(path), "log": {"driver": "local"}})
    log.write("stdout", b"out\n")
    log.write("stderr", b"err\n")
    log.write("stdout", b"no newline")
    log.close()
    frames, _ = split_frames(await collect(path, LogOptions(), "local"))
    assert frames == [(1, b"out\n"), (2, b"err\n"), (1, b"no newline")]
    stamped = await collect(path, LogOptions(tail=1, timestamps=True, tty=True), "local")
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z no newline", stamped)


async def test_follow_goes_on_into_the_next_file_after_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    writer = logwriter.open_log({"log_path": str(path), "log": {
        "driver": "json-file", "max_size": 500, "max_file": 100}})
    writer.write("stdout", numbered(0, 5))
    done = False

    async def produce() -> None:
        nonlocal done
        for i in range(5, 200, 5):  # ~30 rotations, a few per poll of the reader
            writer.write("stdout", numbered(i, i + 5))
            await asyncio.sleep(0.01)
        writer.close()
        done = True

    task = asyncio.create_task(produce())
    source = LogSource.of("json-file", path)
    got = b"".join([c async for c in read_logs(source, LogOptions(follow=True, tty=True),
                                               lambda: not done)])
    await task
    assert got == numbered(0, 200)


async def test_a_damaged_gz_ends_early_and_the_newer_files_still_read(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    write_rotating(path, "json-file", 300, compress=True)
    full = await collect(path, LogOptions(tty=True))
    oldest = tmp_path / "c-json.log.3.gz"
    whole = oldest.read_bytes()
    oldest.unlink()
    newer = await collect(path, LogOptions(tty=True))
    oldest.write_bytes(whole[:-40])  # cut short, its trailer gone
    got = await collect(path, LogOptions(tty=True))
    assert got.endswith(newer) and full.endswith(got)


async def test_since_and_until_across_compressed_rotations(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    fmt = JsonFileFormat()
    log = RotatingFile(str(path), fmt.boundary, max_size=300, max_file=10, compress=True)
    for n in range(60):  # one line a second
        log.write(fmt.encode("stdout", b"line %05d\n" % n, T0 + n * 10**9), T0 + n * 10**9)
    log.close()
    assert (tmp_path / "c-json.log.5.gz").exists()
    got = await collect(path, LogOptions(since_ns=T0 + 20 * 10**9, until_ns=T0 + 45 * 10**9,
                                         tty=True))
    assert got == numbered(20, 46)


def test_json_file_attrs_written_as_go_marshals_them_and_shown_by_details() -> None:
    fmt = JsonFileFormat({"xy": "a b,c=d/\u00e9&<>", "Q": "1 2"})
    for data in (b"v\n", "v\u00e9\n".encode()):  # ASCII fast path and the JSON encoder
        record = fmt.encode("stdout", data, 0)
        assert record.endswith(b',"stream":"stdout","attrs":{"Q":"1 2","xy":"a b,c=d/'
                               + "\u00e9".encode() + b'\\u0026\\u003c\\u003e"},'
                               b'"time":"1970-01-01T00:00:00.000000000Z"}\n')
        assert json.loads(record)["attrs"]["xy"] == "a b,c=d/\u00e9&<>"
    assert details_prefix({"xy": "a b,c=d/\u00e9&", "Q": "1 2"}) == \
        b"Q=1+2,xy=a+b%2Cc%3Dd%2F%C3%A9%26 "  # what dockerd printed for the same
    assert details_prefix({}) == b" "
