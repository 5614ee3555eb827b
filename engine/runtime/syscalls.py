"""Thin ctypes wrappers for the syscalls CPython 3.11 does not expose.

Everything here runs inside the zygote, the shim and the container's first process,
which start with ``-I -S``: stdlib only, and libc loaded by name (ctypes.util is slow).
The engine's own mount calls (volumes with driver options) use the same wrapper and
flags through ``pydocker.engine.host.mount``.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct

libc = ctypes.CDLL("libc.so.6", use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_KEEPCAPS = 8
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

SYS_PIVOT_ROOT = 155
SYS_CAPSET = 126
SYS_SETNS = 308

TIOCSCTTY = 0x540E
TIOCSWINSZ = 0x5414
TIOCSPTLCK = 0x40045431
TIOCGPTN = 0x80045430
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def unshare(flags: int) -> None:
    _check(libc.unshare(flags), "unshare")


def setns(fd: int, nstype: int = 0) -> None:
    _check(libc.setns(fd, nstype), "setns")


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0,
          data: str | None = None) -> None:
    _check(libc.mount(source.encode() if source is not None else None, target.encode(),
                      fstype.encode() if fstype is not None else None, ctypes.c_ulong(flags),
                      data.encode() if data is not None else None),
           f"mount {source or fstype} on {target}")


def umount2(target: str, flags: int = 0) -> None:
    _check(libc.umount2(target.encode(), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(libc.syscall(SYS_PIVOT_ROOT, new_root.encode(), put_old.encode()), "pivot_root")


def sethostname(name: str) -> None:
    raw = name.encode()
    _check(libc.sethostname(raw, len(raw)), "sethostname")


def setdomainname(name: str) -> None:
    raw = name.encode()
    _check(libc.setdomainname(raw, len(raw)), "setdomainname")


def loopback_up() -> None:
    """Set ``lo`` up in the current network namespace; the kernel then gives it
    127.0.0.1/8 and ::1 by itself (devinet's NETDEV_UP for loopback devices)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = bytearray(struct.pack("16sH22x", b"lo", 0))
        fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, ifreq, True)
        flags = struct.unpack_from("H", ifreq, 16)[0]
        struct.pack_into("H", ifreq, 16, flags | IFF_UP)
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, ifreq)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                             ctypes.c_ulong(arg4), ctypes.c_ulong(arg5)), "prctl")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def capset(effective: int, permitted: int, inheritable: int) -> None:
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    for i in range(2):
        data[i].effective = (effective >> (32 * i)) & 0xFFFFFFFF
        data[i].permitted = (permitted >> (32 * i)) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> (32 * i)) & 0xFFFFFFFF
    _check(libc.syscall(SYS_CAPSET, ctypes.byref(header), data), "capset")


SYS_BPF = 321
BPF_PROG_LOAD, BPF_PROG_ATTACH = 5, 8


def _bpf(cmd: int, attr: bytes) -> int:
    buf = ctypes.create_string_buffer(attr, 128)  # the rest of union bpf_attr: zeros
    return _check(libc.syscall(SYS_BPF, cmd, buf, ctypes.c_uint(128)), f"bpf({cmd})")


def bpf_prog_load(prog_type: int, insns: bytes, license_: bytes) -> int:
    """Load a BPF program; returns its fd. The verifier's last words go in the error."""
    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(license_)
    log = ctypes.create_string_buffer(1 << 16)
    attr = struct.pack("<IIQQIIQ", prog_type, len(insns) // 8, ctypes.addressof(code),
                       ctypes.addressof(lic), 1, len(log), ctypes.addressof(log))
    try:
        return _bpf(BPF_PROG_LOAD, attr)
    except OSError as exc:
        last = (log.value.decode(errors="replace").strip().splitlines() or [""])[-1]
        raise OSError(exc.errno, f"{exc.strerror} (verifier: {last})") from None


def bpf_prog_attach(target_fd: int, prog_fd: int, attach_type: int, flags: int) -> None:
    _bpf(BPF_PROG_ATTACH, struct.pack("<IIII", target_fd, prog_fd, attach_type, flags))
