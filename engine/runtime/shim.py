"""The per-container monitor: holds stdio, writes the log (logwriter), serves attach and
exec, records the exit status, and outlives the daemon (live restore).

Single-threaded, one selector loop. It is forked from the zygote, so it costs no
interpreter start-up, and it forks the container's processes itself (procs.py); its
daemon connections are buffered in connections.py, its exit record written by exits.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import time
from collections.abc import Callable

from . import container, exits, procs, syscalls, tty, wire
from .cgroups import Cgroup
from .connections import CLIENT_PIECE, Clients, Conn, Request, read_request
from .errors import StartError
from .exits import ExitStatus
from .jsonlog import now_rfc3339
from .logwriter import open_log
from .procs import OUTPUT_CHUNK, Proc
from .spec import ExecSpec, Spec

CHUNK = 1 << 16
LINGER_S = 2.0


class Shim:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.bundle = spec["bundle"]
        self.sel = selectors.DefaultSelector()
        self.clients = Clients(self.sel)
        self.cgroup = Cgroup(spec["cgroup"]["parent"], spec["cgroup"]["name"])
        self.init: Proc | None = None
        self.execs: dict[str, Proc] = {}
        self.exec_conns: dict[str, Conn] = {}
        self.log = open_log(spec)
        self.exit: ExitStatus | None = None
        self.started = False
        self.ops: dict[str, Callable[[Conn, Request], None]] = {
            "state": self._op_state, "start": self._op_start, "attach": self._op_attach,
            "wait": self._op_wait, "kill": self._op_kill, "resize": self._op_resize,
            "exec": self._op_exec, "shutdown": self._op_shutdown,
        }

    # --- set-up ---------------------------------------------------------------------

    def create(self) -> None:
        spec = self.spec
        # Relative to the bundle: its absolute path may exceed AF_UNIX's 108 bytes.
        os.chdir(self.bundle)
        if os.path.exists("shim.sock"):
            os.unlink("shim.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind("shim.sock")
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, ("accept", None))
        self.cgroup.create(spec["cgroup"].get("resources") or {},
                           restrict_devices=not spec.get("privileged"))
        pid_ns = (spec.get("namespaces") or {}).get("pid", "new")
        if pid_ns == "new":
            syscalls.unshare(syscalls.CLONE_NEWPID)
        elif pid_ns != "host":  # a path: share another container's pid namespace
            fd = os.open(pid_ns, os.O_RDONLY | os.O_CLOEXEC)
            syscalls.setns(fd, syscalls.CLONE_NEWPID)
            os.close(fd)
        self.init = procs.spawn_init(spec, self.cgroup)
        with open(os.path.join(self.bundle, "state.json"), "w") as f:
            json.dump({"pid": self.init.pid, "shim_pid": os.getpid()}, f)

    def _release(self, proc: Proc) -> dict[str, str | int]:
        """Let the child run, then select on its output and its exit."""
        failure = procs.release(proc)
        for fd in proc.outs:
            self.sel.register(fd, selectors.EVENT_READ, ("out", proc))
        self.sel.register(proc.pidfd, selectors.EVENT_READ, ("exit", proc))
        return failure

    # --- loop -----------------------------------------------------------------------

    def run(self) -> None:
        deadline = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self.log.busy:
                timeout = 0  # a rotated file to compress: a slice per turn of the loop
            for key, mask in self.sel.select(timeout):
                kind, obj = key.data
                if kind == "accept":
                    self._accept()
                elif kind == "conn":
                    if mask & selectors.EVENT_READ:
                        self._conn_readable(obj)
                    if mask & selectors.EVENT_WRITE and obj.sock.fileno() != -1:
                        self.clients.flush(obj)
                elif kind == "out":
                    self._output(key.fd, obj)
                elif kind == "exit":
                    self._proc_exited(obj)
            self.log.work()
            if self.exit is not None:
                if deadline is None:
                    deadline = time.monotonic() + LINGER_S
                if not self.clients.pending() or time.monotonic() >= deadline:
                    return

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            req = read_request(sock)
        except (OSError, ValueError):
            sock.close()
            return
        sock.settimeout(None)
        self._handle(Conn(sock), req)

    # --- requests -------------------------------------------------------------------

    def _handle(self, conn: Conn, req: Request) -> None:
        op = self.ops.get(req.get("op", ""))
        try:
            if op is None:
                self.clients.reply(conn, {"error": f"unknown op {req.get('op')!r}"})
            else:
                op(conn, req)
        except Exception as exc:  # noqa: BLE001 - the daemon gets the message
            self.clients.reply(conn, StartError(str(exc), 128).to_json())

    def _op_state(self, conn: Conn, req: Request) -> None:
        self.clients.reply(conn, {"pid": self.init.pid if self.init else 0,
                                  "exited": self.exit is not None})

    def _op_start(self, conn: Conn, req: Request) -> None:
        if self.started or self.init is None:
            self.clients.reply(conn, StartError("container already started", 0).to_json())
            return
        self.started = True
        self.clients.reply(conn, self._release(self.init))

    def _op_attach(self, conn: Conn, req: Request) -> None:
        conn.kind = "attach"
        conn.stdin = bool(req.get("stdin"))
        conn.streams = (bool(req.get("stdout", True)), bool(req.get("stderr", True)))
        if self.exit is not None:
            self.clients.send(conn, wire.control(self.exit.to_json()))
            conn.closing = True
        self.clients.watch(conn)
        self.clients.flush(conn)

    def _op_wait(self, conn: Conn, req: Request) -> None:
        if self.exit is not None:
            self.clients.reply(conn, self.exit.to_json())
        else:
            conn.kind = "wait"
            self.clients.watch(conn)

    def _target(self, req: Request) -> Proc | None:
        """The process a request names: an exec by id, else the container's first."""
        return self.execs.get(req.get("exec", "")) if req.get("exec") else self.init

    def _op_kill(self, conn: Conn, req: Request) -> None:
        proc = self._target(req)
        if proc is not None and proc.status is None:
            os.kill(proc.pid, int(req.get("signal", signal.SIGKILL)))
        self.clients.reply(conn, {})

    def _op_resize(self, conn: Conn, req: Request) -> None:
        proc = self._target(req)
        if proc is not None and proc.master is not None:
            tty.set_size(proc.master, int(req["height"]), int(req["width"]))
        self.clients.reply(conn, {})

    def _op_shutdown(self, conn: Conn, req: Request) -> None:
        if self.init is not None and self.init.status is None:
            os.kill(self.init.pid, signal.SIGKILL)
        self.clients.reply(conn, {})

    def _op_exec(self, conn: Conn, req: Request) -> None:
        if self.init is None or self.init.status is not None:
            self.clients.reply(conn, StartError("container is not running", 126).to_json())
            return
        spec: ExecSpec = req["spec"]
        spec.setdefault("seccomp", self.spec.get("seccomp", "default"))
        spec.setdefault("no_new_privileges", self.spec.get("no_new_privileges", False))
        namespaces = container.open_namespaces(self.init.pid)
        try:
            proc = procs.spawn_exec(spec, namespaces, self.cgroup)
        finally:
            for fd, _ in namespaces:
                os.close(fd)
        result = self._release(proc)
        proc.exec_id = req.get("id") or str(proc.pid)
        self.execs[proc.exec_id] = proc
        conn.kind = "exec"
        conn.exec_id = proc.exec_id
        conn.stdin = bool(spec.get("stdin"))
        self.exec_conns[proc.exec_id] = conn
        conn.sock.sendall(wire.message({"pid": proc.pid, **result}))
        self.clients.watch(conn)

    # --- data -----------------------------------------------------------------------

    def _conn_readable(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        proc = self.init if conn.kind == "attach" else self.execs.get(conn.exec_id)
        if data:
            if conn.stdin and proc is not None and proc.stdin_fd is not None:
                with contextlib.suppress(OSError):
                    os.write(proc.stdin_fd, data)
            return
        # EOF from the daemon: the client closed its stdin (or went away). Output keeps
        # flowing on a half-closed connection until the process ends.
        conn.read_closed = True
        if (conn.stdin and proc is not None and not proc.tty and proc.stdin_fd is not None
                and (proc is not self.init or self.spec.get("stdin_once"))):
            os.close(proc.stdin_fd)
            proc.stdin_fd = None
        conn.stdin = False
        if conn.kind == "wait":
            conn.closing = True
        self.clients.update(conn)

    def _deliver(self, proc: Proc, stream: str, data: bytes, flush: bool) -> None:
        """Output of the first process goes to the log and every attach that wants the
        stream; an exec's goes to the connection that started it."""
        kind = wire.STDOUT if stream == "stdout" else wire.STDERR
        if proc is self.init:
            self.log.write(stream, data)
            targets = [c for c in self.clients if c.kind == "attach" and c.streams[kind - 1]]
        else:
            exec_conn = self.exec_conns.get(proc.exec_id)
            targets = [exec_conn] if exec_conn is not None else []
        if not targets:
            return
        # Frames of at most CLIENT_PIECE: what a client that does not read keeps buffered
        # here is its share of the total, give or take one frame (connections.py).
        for start in range(0, len(data), CLIENT_PIECE):
            payload = wire.frame(kind, data[start:start + CLIENT_PIECE])
            for conn in targets:
                self.clients.send(conn, payload)
        if flush:
            for conn in targets:
                self.clients.flush(conn)

    def _output(self, fd: int, proc: Proc) -> None:
        try:
            data = os.read(fd, OUTPUT_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO from a pty whose other side is gone: that is its EOF
        if data:
            self._deliver(proc, proc.outs.get(fd, "stdout"), data, flush=True)
            return
        self.sel.unregister(fd)
        proc.outs.pop(fd, None)
        if proc.master != fd:
            os.close(fd)
        self._maybe_finish(proc)

    def _proc_exited(self, proc: Proc) -> None:
        try:
            _, status = os.waitpid(proc.pid, 0)
        except ChildProcessError:
            status = 255 << 8
        proc.status = status
        self.sel.unregister(proc.pidfd)
        os.close(proc.pidfd)
        if proc.master is not None:
            # A pty gives EIO, not EOF, once the other side is gone: drain and close now.
            self._drain(proc)
        self._maybe_finish(proc)

    def _drain(self, proc: Proc) -> None:
        for fd in list(proc.outs):
            while True:
                try:
                    data = os.read(fd, CHUNK)
                except OSError:
                    data = b""
                if not data:
                    break
                self._deliver(proc, "stdout", data, flush=False)
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(fd)
            os.close(fd)
            proc.outs.pop(fd, None)
        proc.master = None

    # --- exits ----------------------------------------------------------------------

    def _maybe_finish(self, proc: Proc) -> None:
        if proc.status is None or proc.outs:
            return
        if proc.stdin_fd is not None and proc.stdin_fd != proc.master:
            with contextlib.suppress(OSError):
                os.close(proc.stdin_fd)
            proc.stdin_fd = None
        code = exits.exit_code_of(proc.status)
        if proc is self.init:
            self._finish_init(code)
            return
        conn = self.exec_conns.pop(proc.exec_id, None)
        if conn is not None:
            self.clients.end(conn, wire.control({"exit_code": code}))
        self.execs.pop(proc.exec_id, None)

    def _finish_init(self, code: int) -> None:
        self.log.close()
        self.exit = ExitStatus(code, self.cgroup.oom_killed(), now_rfc3339())
        exits.record(self.bundle, self.exit)
        for conn in self.clients:
            if conn.kind == "wait":
                self.clients.send(conn, wire.message(self.exit.to_json()))
            elif conn.kind == "attach":
                self.clients.send(conn, wire.control(self.exit.to_json()))
            conn.closing = True
            self.clients.flush(conn)


def main(spec: Spec, ready_fd: int) -> None:
    """Entry point in the freshly forked shim process."""
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    shim = Shim(spec)
    try:
        shim.create()
    except Exception as exc:  # noqa: BLE001
        os.write(ready_fd, json.dumps({"error": f"creating container: {exc}"}).encode())
        os.close(ready_fd)
        with contextlib.suppress(OSError):
            shim.cgroup.remove()
        return
    assert shim.init is not None
    os.write(ready_fd, json.dumps({"pid": shim.init.pid}).encode())
    os.close(ready_fd)
    try:
        shim.run()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(shim.bundle, "shim.sock"))
