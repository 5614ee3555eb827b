"""The container's output as log entries: split into lines, encoded in the driver's
format (jsonlog, locallog), appended to a file that rotates (logfile)."""

from __future__ import annotations

import sys
import time
from typing import Protocol

from .jsonlog import PARTIAL_MAX, JsonFileFormat
from .locallog import LocalFormat
from .logfile import RotatingFile
from .spec import Spec


class LogFormat(Protocol):
    def encode(self, stream: str, data: bytes, time_ns: int) -> bytes: ...
    def boundary(self, records: bytes, offset: int) -> int: ...


class LogWriter:
    """Splits a stream into lines, keeping an unfinished last line for the next chunk.
    Without a file (the ``none`` driver) it only discards."""

    def __init__(self, file: RotatingFile | None, fmt: LogFormat) -> None:
        self.file = file
        self.fmt = fmt
        self.partial = {"stdout": b"", "stderr": b""}
        self.dropped = 0  # entries the disk did not take

    def write(self, stream: str, data: bytes) -> None:
        if self.file is None:
            return
        rest = self.partial[stream]
        if rest:
            data = rest + data
        cut = data.rfind(b"\n") + 1
        if len(data) - cut > PARTIAL_MAX:
            cut = len(data)
        self.partial[stream] = data[cut:]
        if cut:
            self._emit(stream, data[:cut])

    def _emit(self, stream: str, data: bytes) -> None:
        assert self.file is not None
        now = time.time_ns()
        try:
            self.file.write(self.fmt.encode(stream, data, now), now)
        except OSError as exc:
            # A full disk (or quota): the entry is lost and the container's output keeps
            # flowing, as dockerd's log copier drops a message it cannot write; a writer
            # that stopped would block the container.
            if self.dropped == 0:
                print(f"Error writing log message: {exc.strerror}", file=sys.stderr,
                      flush=True)
            self.dropped += 1

    def work(self) -> bool:
        """Background work (compressing a rotated file) a slice at a time."""
        return self.file is not None and self.file.work()

    @property
    def busy(self) -> bool:
        return self.file is not None and self.file.busy

    def close(self) -> None:
        if self.file is None:
            return
        for stream, rest in self.partial.items():
            if rest:
                self._emit(stream, rest)
        self.partial = {"stdout": b"", "stderr": b""}
        self.file.close()
        self.file = None


def open_log(spec: Spec) -> LogWriter:
    """The writer the container's log driver asks for (json-file when none is named)."""
    log = spec.get("log") or {}
    driver = log.get("driver", "json-file")
    fmt: LogFormat = (LocalFormat() if driver == "local"
                      else JsonFileFormat(log.get("attrs")))
    if driver == "none":
        return LogWriter(None, fmt)
    file = RotatingFile(spec["log_path"], fmt.boundary, max_size=log.get("max_size", -1),
                        max_file=log.get("max_file", 1), compress=log.get("compress", False))
    return LogWriter(file, fmt)
