"""The shim's log writing without root: rotation by size and count, gzip of rotated files,
and the local driver's protobuf entries."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

from pydocker.engine.runtime import locallog, logwriter
from pydocker.engine.runtime.jsonlog import JsonFileFormat
from pydocker.engine.runtime.logfile import RotatingFile

T0 = 1_795_338_000 * 10**9  # 2026-11-22T09:00:00Z


def numbered(start: int, count: int) -> bytes:
    return b"".join(b"line %06d\n" % i for i in range(start, start + count))


def json_lines(path: Path) -> list[str]:
    return [json.loads(line)["log"] for line in path.read_bytes().splitlines()]


def test_rotation_keeps_max_file_files_cut_between_entries(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    fmt = JsonFileFormat()
    log = RotatingFile(str(path), fmt.boundary, max_size=1000, max_file=3)
    for i in range(0, 400, 40):  # chunks of 40 lines, ~2.8 KB of records each
        log.write(fmt.encode("stdout", numbered(i, 40), T0 + i), T0 + i)
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-json.log", "c-json.log.1",
                                                          "c-json.log.2"]
    one_record = len(fmt.encode("stdout", numbered(0, 1), T0))
    for rotated in (tmp_path / "c-json.log.1", tmp_path / "c-json.log.2"):
        # As dockerd: written while smaller than max-size, so at most one entry over.
        assert 1000 <= rotated.stat().st_size < 1000 + one_record
    kept = [*json_lines(tmp_path / "c-json.log.2"), *json_lines(tmp_path / "c-json.log.1"),
            *json_lines(path)]
    assert kept == [f"line {i:06d}\n" for i in range(400 - len(kept), 400)]


def test_max_file_one_starts_the_file_afresh(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    fmt = JsonFileFormat()
    log = RotatingFile(str(path), fmt.boundary, max_size=500, max_file=1)
    log.write(fmt.encode("stdout", numbered(0, 30), T0), T0)
    log.close()
    assert [p.name for p in tmp_path.iterdir()] == ["c-json.log"]
    assert json_lines(path)[-1] == "line 000029\n"
    assert path.stat().st_size < 500 + 100


def test_compressed_rotations_carry_dockerds_last_time(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    fmt = JsonFileFormat()
    log = RotatingFile(str(path), fmt.boundary, max_size=1000, max_file=3, compress=True)
    for i in range(0, 120, 20):
        log.write(fmt.encode("stdout", numbered(i, 20), T0 + i), T0 + i)
        while log.work():
            pass
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["c-json.log", "c-json.log.1.gz", "c-json.log.2.gz"]
    raw = (tmp_path / "c-json.log.1.gz").read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x04"  # FEXTRA set
    (xlen,) = struct.unpack_from("<H", raw, 10)
    last_time = json.loads(raw[12:12 + xlen])["lastTime"]
    newest_rotated = gzip.decompress(raw).splitlines()
    assert json.loads(newest_rotated[-1])["time"] == last_time
    older = gzip.decompress((tmp_path / "c-json.log.2.gz").read_bytes()).splitlines()
    logs = [json.loads(x)["log"] for x in [*older, *newest_rotated]] + json_lines(path)
    first = int(logs[0].split()[1])
    assert logs == [f"line {i:06d}\n" for i in range(first, 120)]


def test_a_rotated_file_left_plain_is_compressed_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    (tmp_path / "c-json.log.1").write_bytes(b'{"log":"old\\n","stream":"stdout","time":"T"}\n')
    log = logwriter.open_log({"log_path": str(path), "log": {
        "driver": "json-file", "max_size": 100, "max_file": 2, "compress": True}})
    log.close()
    assert gzip.decompress((tmp_path / "c-json.log.1.gz").read_bytes()).startswith(b'{"log":"old')
    assert not (tmp_path / "c-json.log.1").exists()


def test_local_entries_are_dockerds_protobuf(tmp_path: Path) -> None:
    fmt = locallog.LocalFormat()
    data = fmt.encode("stdout", b"hello\nwor", T0) + fmt.encode("stdout", b"ld\n", T0 + 1)
    # hello: source, time_nano, line
    size = struct.unpack_from(">I", data)[0]
    body = data[4:4 + size]
    assert body == (b"\x0a\x06stdout" + b"\x10" + _varint(T0) + b"\x1a\x05hello")
    assert data[4 + size:8 + size] == data[:4]
    entries = [locallog.decode(b) for b in locallog.records(data)]
    assert [(e.stream, e.time_ns, e.payload) for e in entries] == [
        ("stdout", T0, b"hello\n"), ("stdout", T0, b"wor"), ("stdout", T0 + 1, b"ld\n")]
    assert locallog.complete(data) == len(data)
    assert locallog.complete(data[:-1]) < len(data)
    long_lines = fmt.encode("stderr", b"a" * 300 + b"\n" + b"b" * 20_000 + b"\n", T0)
    assert [locallog.decode(b).payload for b in locallog.records(long_lines)] == [
        b"a" * 300 + b"\n", b"b" * 20_000 + b"\n"]  # lengths of two and three bytes


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes([*out, n])


def test_the_none_driver_writes_nothing(tmp_path: Path) -> None:
    log = logwriter.open_log({"log_path": str(tmp_path / "x"), "log": {"driver": "none"}})
    log.write("stdout", b"gone\n")
    log.close()
    assert list(tmp_path.iterdir()) == []
