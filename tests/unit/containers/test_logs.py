"""Reading json-file logs: streams, tail, since/until, timestamps, framing."""

from __future__ import annotations

import json
from pathlib import Path

from pydocker.api.server.streams import split_frames
from pydocker.engine.containers.logs import LogOptions, fixed_width_timestamp, read_logs


def write_log(path: Path) -> None:
    lines = [("a\n", "stdout", "2026-11-22T09:00:00.1Z"),
             ("b\n", "stderr", "2026-11-22T09:00:01.000000002Z"),
             ("c\n", "stdout", "2026-11-22T09:00:02Z")]
    path.write_text("".join(json.dumps({"log": l, "stream": s, "time": t}) + "\n"
                            for l, s, t in lines))


async def collect(path: Path, opts: LogOptions) -> bytes:
    return b"".join([chunk async for chunk in read_logs(path, opts, lambda: False)])


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
