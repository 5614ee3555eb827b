"""The per-container monitor: holds stdio, writes the json-file log, serves attach and
exec, records the exit status, and outlives the daemon (live restore).

Single-threaded, one selector loop. It is forked from the zygote, so it costs no
interpreter start-up, and it forks the container's processes itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import selectors
import signal
import socket
import time
from typing import Any

from . import container, syscalls, wire
from .cgroups import Cgroup
from .jsonlog import LogWriter, now_rfc3339

CHUNK = 1 << 16
OUTPUT_CHUNK = 1 << 20  # fewer, larger reads: logging cost is per chunk, not per line
MAX_CLIENT_BUFFER = 64 << 20
LINGER_S = 2.0
F_SETPIPE_SZ = 1031


def write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def exit_code_of(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class Conn:
    """A daemon connection: a request, then maybe a stream."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()
        self.kind = ""          # "attach", "exec", "wait"
        self.stdin = False
        self.streams = (True, True)
        self.exec_id = ""
        self.closing = False
        self.read_closed = False
        self.registered = False
        self.dead = False


class Proc:
    """A process whose stdio we hold: the container's first process or an exec."""

    def __init__(self, pid: int, pidfd: int, tty: bool, stdin_fd: int | None,
                 outs: dict[int, str], master: int | None) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.tty = tty
        self.stdin_fd = stdin_fd
        self.outs = outs          # fd -> "stdout"/"stderr"
        self.master = master
        self.status: int | None = None


class Shim:
    def __init__(self, spec: dict[str, Any], ready_fd: int) -> None:
        self.spec = spec
        self.bundle = spec["bundle"]
        self.ready_fd = ready_fd
        self.sel = selectors.DefaultSelector()
        self.cgroup = Cgroup(spec["cgroup"]["parent"], spec["cgroup"]["name"])
        self.conns: dict[int, Conn] = {}
        self.init: Proc | None = None
        self.execs: dict[str, Proc] = {}
        self.exec_conns: dict[str, Conn] = {}
        self.log = LogWriter(spec["log_path"])
        self.exit: dict[str, Any] | None = None
        self.sync_w = -1
        self.err_r = -1
        self.tty_sock: socket.socket | None = None
        self.started = False

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
        self.init = self._spawn(spec, None)
        with open(os.path.join(self.bundle, "state.json"), "w") as f:
            json.dump({"pid": self.init.pid, "shim_pid": os.getpid()}, f)

    def _spawn(self, spec: dict[str, Any], namespaces: list[tuple[int, int]] | None) -> Proc:
        """Fork a container process blocked on its sync pipe, placed in our cgroup."""
        tty = bool(spec.get("tty"))
        sync_r, sync_w = os.pipe2(os.O_CLOEXEC)
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        parent_tty = child_tty = None
        stdio = None
        stdin_w = None
        outs: dict[int, str] = {}
        if tty:
            parent_tty, child_tty = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            wants_stdin = spec.get("open_stdin") if namespaces is None else spec.get("stdin")
            if wants_stdin:
                in_r, stdin_w = os.pipe2(os.O_CLOEXEC)
            else:
                in_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
            errp_r, errp_w = os.pipe2(os.O_CLOEXEC)
            for fd in (out_r, errp_r):
                with contextlib.suppress(OSError):  # bounded by fs.pipe-max-size
                    fcntl.fcntl(fd, F_SETPIPE_SZ, OUTPUT_CHUNK)
            stdio = (in_r, out_w, errp_w)
            outs = {out_r: "stdout", errp_r: "stderr"}
        pid = os.fork()
        if pid == 0:
            try:
                keep = {sync_r, err_w, *(stdio or ()),
                        *([child_tty.fileno()] if child_tty is not None else []),
                        *(fd for fd, _ in namespaces or [])}
                close_other_fds(keep)
                if namespaces is None:
                    container.run_init(spec, sync_r, err_w, stdio, child_tty)
                else:
                    container.run_exec(spec, namespaces, sync_r, err_w, stdio, child_tty)
            finally:
                os._exit(127)
        os.close(sync_r)
        os.close(err_w)
        if stdio is not None:
            for fd in stdio:
                os.close(fd)
        if child_tty is not None:
            child_tty.close()
        try:
            self.cgroup.add(pid)
        except OSError:
            pass  # the child reports its own failure, or was already placed
        proc = Proc(pid, os.pidfd_open(pid), tty, stdin_w, outs, None)
        proc.sync_w, proc.err_r, proc.tty_sock = sync_w, err_r, parent_tty  # type: ignore[attr-defined]
        return proc

    def _release(self, proc: Proc) -> dict[str, Any]:
        """Let the child run to its exec; returns {} or the error it reported."""
        os.write(proc.sync_w, b"G")  # type: ignore[attr-defined]
        os.close(proc.sync_w)  # type: ignore[attr-defined]
        tty_sock = proc.tty_sock  # type: ignore[attr-defined]
        if tty_sock is not None:
            from . import tty
            master = tty.recv_fd(tty_sock)
            tty_sock.close()
            if master is not None:
                os.set_blocking(master, False)
                proc.master = master
                proc.outs = {master: "stdout"}
                proc.stdin_fd = master
        data = b""
        while chunk := os.read(proc.err_r, 4096):  # type: ignore[attr-defined]
            data += chunk
        os.close(proc.err_r)  # type: ignore[attr-defined]
        for fd in proc.outs:
            self.sel.register(fd, selectors.EVENT_READ, ("out", proc))
        self.sel.register(proc.pidfd, selectors.EVENT_READ, ("exit", proc))
        if data:
            try:
                failure: dict[str, Any] = json.loads(data)
                return failure
            except ValueError:
                return {"error": data.decode(errors="replace"), "exit_code": 128}
        return {}

    # --- loop -----------------------------------------------------------------------

    def run(self) -> None:
        deadline = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            for key, mask in self.sel.select(timeout):
                kind, obj = key.data
                if kind == "accept":
                    self._accept()
                elif kind == "conn":
                    if mask & selectors.EVENT_READ:
                        self._conn_readable(obj)
                    if mask & selectors.EVENT_WRITE and obj.sock.fileno() != -1:
                        self._flush(obj)
                elif kind == "out":
                    self._output(key.fd, obj)
                elif kind == "exit":
                    self._proc_exited(obj)
            if self.exit is not None:
                pending = any(c.out for c in self.conns.values())
                if deadline is None:
                    deadline = time.monotonic() + LINGER_S
                if not pending or time.monotonic() >= deadline:
                    return

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(True)
        sock.settimeout(5)
        try:
            req = self._read_message(sock)
        except (OSError, ValueError):
            sock.close()
            return
        sock.settimeout(None)
        conn = Conn(sock)
        self._handle(conn, req)

    @staticmethod
    def _read_message(sock: socket.socket) -> dict[str, Any]:
        head = _recv_exact(sock, 4)
        (size,) = wire.LENGTH.unpack(head)
        message: dict[str, Any] = json.loads(_recv_exact(sock, size))
        return message

    def _reply(self, conn: Conn, obj: Any) -> None:
        try:
            conn.sock.sendall(wire.message(obj))
        except OSError:
            pass
        conn.sock.close()

    def _watch(self, conn: Conn) -> None:
        conn.sock.setblocking(False)
        self.conns[id(conn)] = conn
        self._update(conn)

    def _handle(self, conn: Conn, req: dict[str, Any]) -> None:
        op = req.get("op")
        try:
            if op == "state":
                self._reply(conn, {"pid": self.init.pid if self.init else 0,
                                   "exited": self.exit is not None})
            elif op == "start":
                self._reply(conn, self._start())
            elif op == "attach":
                conn.kind = "attach"
                conn.stdin = bool(req.get("stdin"))
                conn.streams = (bool(req.get("stdout", True)), bool(req.get("stderr", True)))
                if self.exit is not None:
                    self._send(conn, wire.control(self.exit))
                    conn.closing = True
                self._watch(conn)
                self._flush(conn)
            elif op == "wait":
                if self.exit is not None:
                    self._reply(conn, self.exit)
                else:
                    conn.kind = "wait"
                    self._watch(conn)
            elif op == "kill":
                proc = self.execs.get(req.get("exec", "")) if req.get("exec") else self.init
                if proc is not None and proc.status is None:
                    os.kill(proc.pid, int(req.get("signal", signal.SIGKILL)))
                self._reply(conn, {})
            elif op == "resize":
                proc = self.execs.get(req.get("exec", "")) if req.get("exec") else self.init
                if proc is not None and proc.master is not None:
                    from . import tty
                    tty.set_size(proc.master, int(req["height"]), int(req["width"]))
                self._reply(conn, {})
            elif op == "exec":
                self._exec(conn, req)
            elif op == "shutdown":
                if self.init is not None and self.init.status is None:
                    os.kill(self.init.pid, signal.SIGKILL)
                self._reply(conn, {})
            else:
                self._reply(conn, {"error": f"unknown op {op!r}"})
        except Exception as exc:  # noqa: BLE001 - the daemon gets the message
            self._reply(conn, {"error": str(exc), "exit_code": 128})

    def _start(self) -> dict[str, Any]:
        if self.started or self.init is None:
            return {"error": "container already started", "exit_code": 0}
        self.started = True
        return self._release(self.init)

    def _exec(self, conn: Conn, req: dict[str, Any]) -> None:
        if self.init is None or self.init.status is not None:
            self._reply(conn, {"error": "container is not running", "exit_code": 126})
            return
        spec = dict(req["spec"])
        spec.setdefault("seccomp", self.spec.get("seccomp"))
        spec.setdefault("no_new_privileges", self.spec.get("no_new_privileges"))
        namespaces = container.open_namespaces(self.init.pid)
        try:
            proc = self._spawn(spec, namespaces)
        finally:
            for fd, _ in namespaces:
                os.close(fd)
        result = self._release(proc)
        exec_id = req.get("id") or str(proc.pid)
        self.execs[exec_id] = proc
        conn.kind = "exec"
        conn.exec_id = exec_id
        conn.stdin = bool(spec.get("stdin"))
        self.exec_conns[exec_id] = conn
        conn.sock.sendall(wire.message({"pid": proc.pid, **result}))
        self._watch(conn)

    # --- data -----------------------------------------------------------------------

    def _send(self, conn: Conn, data: bytes) -> None:
        if len(conn.out) > MAX_CLIENT_BUFFER:
            return  # a client that stopped reading loses output, not the container
        conn.out += data

    def _flush(self, conn: Conn) -> None:
        if conn.out and not conn.dead:
            try:
                sent = conn.sock.send(conn.out)
                del conn.out[:sent]
            except BlockingIOError:
                pass
            except OSError:
                conn.dead = True
                conn.out.clear()
        self._update(conn)

    def _update(self, conn: Conn) -> None:
        """Select on what the connection still needs; close it when it needs nothing."""
        if conn.dead or (conn.closing and not conn.out):
            self._drop(conn)
            return
        events = (0 if conn.read_closed else selectors.EVENT_READ) | (
            selectors.EVENT_WRITE if conn.out else 0)
        if events == 0:
            if conn.registered:
                self.sel.unregister(conn.sock)
                conn.registered = False
        elif conn.registered:
            self.sel.modify(conn.sock, events, ("conn", conn))
        else:
            self.sel.register(conn.sock, events, ("conn", conn))
            conn.registered = True

    def _drop(self, conn: Conn) -> None:
        self.conns.pop(id(conn), None)
        if conn.registered:
            self.sel.unregister(conn.sock)
            conn.registered = False
        conn.sock.close()

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
                try:
                    os.write(proc.stdin_fd, data)
                except OSError:
                    pass
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
        self._update(conn)

    def _output(self, fd: int, proc: Proc) -> None:
        try:
            data = os.read(fd, OUTPUT_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO from a pty whose other side is gone: that is its EOF
        stream = proc.outs.get(fd, "stdout")
        if not data:
            self.sel.unregister(fd)
            proc.outs.pop(fd, None)
            if proc.master != fd:
                os.close(fd)
            self._maybe_finish(proc)
            return
        kind = wire.STDOUT if stream == "stdout" else wire.STDERR
        if proc is self.init:
            self.log.write(stream, data)
            payload = wire.frame(kind, data)
            for conn in list(self.conns.values()):
                if conn.kind == "attach" and conn.streams[kind - 1]:
                    self._send(conn, payload)
                    self._flush(conn)
        else:
            exec_conn = next((c for i, c in self.exec_conns.items() if self.execs.get(i) is proc),
                             None)
            if exec_conn is not None:
                self._send(exec_conn, wire.frame(kind, data))
                self._flush(exec_conn)

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
                if proc is self.init:
                    self.log.write("stdout", data)
                    for conn in list(self.conns.values()):
                        if conn.kind == "attach":
                            self._send(conn, wire.frame(wire.STDOUT, data))
                else:
                    exec_conn = next((c for i, c in self.exec_conns.items()
                                      if self.execs.get(i) is proc), None)
                    if exec_conn is not None:
                        self._send(exec_conn, wire.frame(wire.STDOUT, data))
            try:
                self.sel.unregister(fd)
            except (KeyError, ValueError):
                pass
            os.close(fd)
            proc.outs.pop(fd, None)
        proc.master = None

    def _maybe_finish(self, proc: Proc) -> None:
        if proc.status is None or proc.outs:
            return
        if proc.stdin_fd is not None and proc.stdin_fd != proc.master:
            try:
                os.close(proc.stdin_fd)
            except OSError:
                pass
            proc.stdin_fd = None
        code = exit_code_of(proc.status)
        if proc is self.init:
            self._finish_init(code)
            return
        for exec_id, p in list(self.execs.items()):
            if p is proc:
                conn = self.exec_conns.pop(exec_id, None)
                if conn is not None:
                    self._send(conn, wire.control({"exit_code": code}))
                    conn.closing = True
                    self._flush(conn)
                del self.execs[exec_id]

    def _finish_init(self, code: int) -> None:
        self.log.close()
        self.exit = {"exit_code": code, "oom_killed": self.cgroup.oom_killed(),
                     "finished_at": now_rfc3339()}
        write_atomic(os.path.join(self.bundle, "exit.json"), json.dumps(self.exit).encode())
        for conn in list(self.conns.values()):
            if conn.kind == "wait":
                self._send(conn, wire.message(self.exit))
            elif conn.kind == "attach":
                self._send(conn, wire.control(self.exit))
            conn.closing = True
            self._flush(conn)


def close_other_fds(keep: set[int]) -> None:
    """A container process holds only what it needs: not the daemon's ready pipe (its
    EOF tells the daemon the shim is up), not other clients' sockets."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ValueError("connection closed")
        buf += chunk
    return buf


def main(spec: dict[str, Any], ready_fd: int) -> None:
    """Entry point in the freshly forked shim process."""
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    shim = Shim(spec, ready_fd)
    try:
        shim.create()
    except Exception as exc:  # noqa: BLE001
        os.write(ready_fd, json.dumps({"error": f"creating container: {exc}"}).encode())
        os.close(ready_fd)
        try:
            shim.cgroup.remove()
        except OSError:
            pass
        return
    assert shim.init is not None
    os.write(ready_fd, json.dumps({"pid": shim.init.pid}).encode())
    os.close(ready_fd)
    try:
        shim.run()
    finally:
        try:
            os.unlink(os.path.join(shim.bundle, "shim.sock"))
        except OSError:
            pass

