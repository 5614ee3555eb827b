"""The daemon's side of the runtime: start the zygote, talk to shims. Asyncio only;
nothing here forks (the daemon is multi-threaded) — the zygote does."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from . import exits, wire
from . import syscalls as sc
from .cgroups import Cgroup
from .errors import SpawnerError, SpawnerGone, StartError
from .exits import ExitStatus

# Part of this module's interface: the daemon catches StartError (reading .exit_code) and
# receives ExitStatus from Shim.wait and Runtime.exit_status.
__all__ = ["ExecProcess", "ExitStatus", "FrameReader", "Runtime", "Shim", "StartError"]

ENGINE_DIR = str(Path(__file__).resolve().parents[1])
# The zygote runs under -I -S (no site, no editable-install finder): it sees the stdlib,
# then engine/ (for the relative imports of runtime/) and pyseccomp's directory, appended
# so that nothing there can shadow a stdlib module.
BOOT = ("import sys; fd = int(sys.argv[1]); sys.path += sys.argv[2:]; "
        "from runtime.zygote import main; main(fd)")


def _site_dirs() -> list[str]:
    # find_spec, not import: importing pyseccomp costs ~25 ms (ctypes.util).
    found = importlib.util.find_spec("pyseccomp")
    return [os.path.dirname(found.origin)] if found and found.origin else []


ATTACH_BUFFER = 32 << 10  # per attach stream: reader limit and the largest piece in hand


class Runtime:
    def __init__(self, exec_root: Path) -> None:
        self.bundles = exec_root / "containers"
        self._zygote: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    async def start(self) -> None:
        self.bundles.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._sweep_mounts)
        self._spawn_zygote()

    def _sweep_mounts(self) -> None:
        """Root mounts of docker cp / export that a killed daemon left behind: no operation
        of this daemon can hold them yet, so they all go (detached, then their dirs)."""
        mnt = self.bundles.parent / "mnt"
        if not mnt.is_dir():
            return
        for entry in mnt.iterdir():
            with contextlib.suppress(OSError):  # EINVAL: not (or no longer) a mount point
                sc.umount2(str(entry), sc.MNT_DETACH)
            with contextlib.suppress(OSError):
                entry.rmdir()

    def _spawn_zygote(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # Popen without preexec_fn uses vfork: safe from a threaded process.
        self._zygote = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", BOOT, str(theirs.fileno()), ENGINE_DIR,
             *_site_dirs()], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            start_new_session=True)
        theirs.close()
        self._sock = ours

    async def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._zygote is not None:
            await asyncio.to_thread(self._zygote.wait)
            self._zygote = None

    def _call(self, req: dict[str, Any], fds: list[int]) -> dict[str, Any]:
        with self._lock:
            assert self._sock is not None, "runtime not started"
            if self._zygote is not None and self._zygote.poll() is not None:
                # The zygote was killed: containers live on in their shims; start another.
                self._sock.close()
                self._spawn_zygote()
            socket.send_fds(self._sock, [json.dumps(req).encode()], fds)
            reply = self._sock.recv(1 << 20)
        if not reply:
            raise SpawnerGone
        out: dict[str, Any] = json.loads(reply)
        if out.get("error"):
            raise SpawnerError(out["error"])
        return out

    async def zygote_call(self, req: dict[str, Any],
                          fds: Sequence[int] = ()) -> dict[str, Any]:
        return await asyncio.to_thread(self._call, req, list(fds))

    async def create_netns(self, path: Path) -> None:
        await self.zygote_call({"op": "netns_create", "path": str(path)})

    async def remove_netns(self, path: Path) -> None:
        await self.zygote_call({"op": "netns_remove", "path": str(path)})

    @contextlib.asynccontextmanager
    async def mounted_rootfs(self, container_id: str, rootfs: dict[str, Any], pid: int = 0,
                             binds: Sequence[dict[str, Any]] = ()) -> AsyncIterator[Path]:
        """The container's root as a host path: /proc/PID/root while it runs, otherwise
        its overlay, with ``binds`` (runtime mount specs) on it, mounted under the exec
        root until the block ends (one mount per caller: two docker cp may overlap)."""
        if pid:
            yield Path(f"/proc/{pid}/root")
            return
        target = self.bundles.parent / "mnt" / f"{container_id}-{os.urandom(4).hex()}"
        target.parent.mkdir(parents=True, exist_ok=True)
        await self.zygote_call({"op": "mount_rootfs", "rootfs": rootfs, "target": str(target),
                                "binds": list(binds)})
        try:
            yield target
        finally:
            await self.zygote_call({"op": "umount", "target": str(target)})

    def bundle(self, container_id: str) -> Path:
        return self.bundles / container_id

    async def create(self, spec: dict[str, Any]) -> Shim:
        bundle = Path(spec["bundle"])
        bundle.mkdir(parents=True, exist_ok=True)
        for stale in (exits.EXIT_FILE, "state.json"):
            (bundle / stale).unlink(missing_ok=True)
        (bundle / "spec.json").write_text(json.dumps(
            {"cgroup": spec["cgroup"], "tty": spec.get("tty", False)}))
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            await self.zygote_call({"op": "spawn", "spec": spec}, [w])
        finally:
            os.close(w)
        ready = await asyncio.to_thread(_read_all, r)
        try:
            result = json.loads(ready or b"{}")
        except ValueError:
            result = {"error": ready.decode(errors="replace")}
        if "pid" not in result:
            await self.delete(spec["id"])
            raise StartError(result.get("error") or "the shim died while creating the "
                             "container", 128)
        return Shim(self, spec["id"], bundle, int(result["pid"]), bool(spec.get("tty")))

    async def connect(self, container_id: str) -> Shim | None:
        bundle = self.bundle(container_id)
        try:
            spec = json.loads((bundle / "spec.json").read_text())
        except (OSError, ValueError):
            return None
        shim = Shim(self, container_id, bundle, 0, bool(spec.get("tty")))
        try:
            state = await shim.request({"op": "state"})
        except OSError:
            return None
        if state.get("exited"):
            return None
        shim.pid = int(state["pid"])
        return shim

    def exit_status(self, container_id: str) -> ExitStatus | None:
        return exits.read(self.bundle(container_id))

    def cgroup(self, container_id: str) -> Cgroup | None:
        try:
            spec = json.loads((self.bundle(container_id) / "spec.json").read_text())
        except (OSError, ValueError):
            return None
        return Cgroup(spec["cgroup"]["parent"], spec["cgroup"]["name"])

    async def delete(self, container_id: str) -> None:
        """After exit (or a failed start): stop the shim, remove cgroups and the bundle."""
        bundle = self.bundle(container_id)
        if (bundle / "shim.sock").exists():
            with contextlib.suppress(OSError, ValueError, asyncio.TimeoutError):
                await asyncio.wait_for(
                    Shim(self, container_id, bundle, 0, False).request({"op": "shutdown"}), 2)
            for _ in range(100):  # the shim leaves once its process is reaped
                if not (bundle / "shim.sock").exists():
                    break
                await asyncio.sleep(0.01)
            else:
                _kill_stuck_shim(bundle)
        cg = self.cgroup(container_id)
        if cg is not None:
            await asyncio.to_thread(cg.kill_all)  # only a container without a shim is left
            await asyncio.to_thread(cg.remove)
        await asyncio.to_thread(shutil.rmtree, bundle, True)


def _kill_stuck_shim(bundle: Path) -> None:
    """A shim that does not answer: SIGKILL it, if the pid still names it (its cwd is
    its bundle, so a recycled pid is never hit)."""
    try:
        pid = int(json.loads((bundle / "state.json").read_text())["shim_pid"])
        if os.readlink(f"/proc/{pid}/cwd") == os.path.realpath(bundle):
            os.kill(pid, 9)
    except (OSError, ValueError, KeyError):
        pass


def _read_all(fd: int) -> bytes:
    data = b""
    try:
        while chunk := os.read(fd, 65536):
            data += chunk
    finally:
        os.close(fd)
    return data


async def _connect(bundle: Path, limit: int
                   ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the shim's socket through /proc/self/fd/N: the bundle's absolute path
    may be longer than AF_UNIX allows (108 bytes), the fd path never is. ``limit``: what
    the reader buffers before it stops reading is twice that."""
    dirfd = os.open(bundle, os.O_PATH | os.O_CLOEXEC)
    try:
        return await asyncio.open_unix_connection(f"/proc/self/fd/{dirfd}/shim.sock",
                                                  limit=limit)
    finally:
        os.close(dirfd)


class FrameReader:
    """Shim frames → Docker's wire bytes (frames kept without a TTY, payload with one);
    the control frame that ends the stream is kept as ``control``.

    A frame's payload is handed on in pieces of at most ``piece`` bytes, so what one
    stream holds while its client does not read is a piece, not a whole frame (the shim
    sends up to OUTPUT_CHUNK at once)."""

    def __init__(self, reader: asyncio.StreamReader, tty: bool,
                 piece: int = 1 << 20) -> None:
        self._reader = reader
        self._tty = tty
        self._piece = piece
        self._left = 0  # bytes of the current frame's payload not handed on yet
        self.control: dict[str, Any] | None = None
        self.ended = asyncio.Event()
        self.busy = False  # a read() is under way

    async def read(self, n: int = -1) -> bytes:
        self.busy = True
        try:
            return await self._read()
        finally:
            self.busy = False

    async def _next_piece(self) -> bytes:
        data = await self._reader.read(min(self._left, self._piece))
        if not data:  # the shim went away in the middle of a frame
            self.ended.set()
        self._left -= len(data)
        return data

    async def _read(self) -> bytes:
        if self._left:
            return await self._next_piece()
        while True:
            try:
                head = await self._reader.readexactly(wire.FRAME.size)
                kind, size = wire.FRAME.unpack(head)
                if kind == wire.CONTROL:
                    self.control = json.loads(await self._reader.readexactly(size))
                    self.ended.set()
                    return b""
            except (asyncio.IncompleteReadError, ConnectionError):
                self.ended.set()
                return b""
            if not size:
                continue
            self._left = size
            try:
                first = await self._next_piece()
            except ConnectionError:
                self.ended.set()
                return b""
            if not first:
                return b""
            return first if self._tty else head + first


class ExecProcess:
    def __init__(self, shim: Shim, exec_id: str, pid: int, reader: FrameReader,
                 writer: asyncio.StreamWriter) -> None:
        self.shim = shim
        self.id = exec_id
        self.pid = pid
        self.reader = reader
        self.writer = writer

    async def wait(self) -> int:
        """The exit code. The status comes at the end of the output stream, so when no
        one is reading it (a detached exec, a client gone) the output is drained here."""
        while not self.reader.ended.is_set():
            if self.reader.busy:
                await self.reader.ended.wait()
            else:
                await self.reader.read()
        control = self.reader.control or {}
        return int(control.get("exit_code", 126))

    async def resize(self, height: int, width: int) -> None:
        await self.shim.request({"op": "resize", "exec": self.id, "height": height,
                                 "width": width})

    async def kill(self, signal: int) -> None:
        await self.shim.request({"op": "kill", "exec": self.id, "signal": signal})


class Shim:
    def __init__(self, runtime: Runtime, container_id: str, bundle: Path, pid: int,
                 tty: bool) -> None:
        self.runtime = runtime
        self.id = container_id
        self.bundle = bundle
        self.pid = pid
        self.tty = tty

    async def _open(self, req: dict[str, Any], limit: int = 1 << 20
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await _connect(self.bundle, limit)
        writer.write(wire.message(req))
        await writer.drain()
        return reader, writer

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
        head = await reader.readexactly(4)
        (size,) = wire.LENGTH.unpack(head)
        message: dict[str, Any] = json.loads(await reader.readexactly(size))
        return message

    async def request(self, req: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await self._open(req)
        try:
            return await self._read_message(reader)
        except asyncio.IncompleteReadError:
            raise ConnectionResetError("the shim closed the connection") from None
        finally:
            writer.close()

    async def start(self) -> None:
        result = await self.request({"op": "start"})
        if result.get("error"):
            raise StartError(result["error"], int(result.get("exit_code") or 128))

    async def attach(self, stdin: bool, stdout: bool, stderr: bool
                     ) -> tuple[FrameReader, asyncio.StreamWriter]:
        # Small buffers: a container may have many attached clients, each of which may
        # stop reading (its output is then dropped by the shim, not kept here).
        reader, writer = await self._open({"op": "attach", "stdin": stdin, "stdout": stdout,
                                           "stderr": stderr}, limit=ATTACH_BUFFER)
        return FrameReader(reader, self.tty, piece=ATTACH_BUFFER), writer

    async def wait(self) -> ExitStatus:
        try:
            reader, writer = await self._open({"op": "wait"})
            try:
                data = await self._read_message(reader)
            finally:
                writer.close()
            return ExitStatus.from_json(data)
        except (OSError, asyncio.IncompleteReadError):
            # The shim is gone: it wrote the status before leaving.
            for _ in range(50):
                status = self.runtime.exit_status(self.id)
                if status is not None:
                    return status
                await asyncio.sleep(0.02)
            return ExitStatus(137, error="the container's monitor disappeared")

    async def kill(self, signal: int) -> None:
        await self.request({"op": "kill", "signal": signal})

    async def resize(self, height: int, width: int) -> None:
        await self.request({"op": "resize", "height": height, "width": width})

    async def exec(self, spec: dict[str, Any], exec_id: str = "", *, raw: bool | None = None
                   ) -> ExecProcess:
        """Start ``spec`` in the container. ``raw``: the output without Docker's stream
        frames; by default as the process has a tty. dockerd takes the process's tty from
        the exec's create and the framing from its start, which may differ."""
        reader, writer = await self._open({"op": "exec", "spec": spec, "id": exec_id})
        try:
            first = await self._read_message(reader)
        except asyncio.IncompleteReadError:
            writer.close()
            raise StartError("the shim closed the connection", 126) from None
        if first.get("error"):
            writer.close()
            raise StartError(first["error"], int(first.get("exit_code") or 126))
        return ExecProcess(self, exec_id or str(first["pid"]), int(first["pid"]),
                           FrameReader(reader, bool(spec.get("tty")) if raw is None else raw),
                           writer)

    async def pause(self) -> None:
        cg = self.runtime.cgroup(self.id)
        if cg is not None:
            await asyncio.to_thread(cg.freeze, True)

    async def resume(self) -> None:
        cg = self.runtime.cgroup(self.id)
        if cg is not None:
            await asyncio.to_thread(cg.freeze, False)

    def stats(self) -> dict[str, Any]:
        cg = self.runtime.cgroup(self.id)
        return cg.stats() if cg is not None else {}
