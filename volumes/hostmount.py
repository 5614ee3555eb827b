"""mount(2)/umount2(2) for local volumes with driver options (type/device/o).

Docker's local driver mounts such a volume on the host at ``<volume>/_data`` when the
first container using it starts and unmounts it when the last one stops; containers
then bind ``_data`` like any other volume, so concurrent users share one tmpfs or one
NFS mount. The option string is split into mount flags and filesystem data exactly as
moby/sys/mount's ``parseOptions`` does, and failures read like its ``mountError``.

This is the volumes subsystem's only syscall module (the brief allows one small ctypes
module here rather than an import of engine.runtime, which volumes must not depend on).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

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
MS_REC = 0x4000
MS_UNBINDABLE = 1 << 17
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

PROPAGATION_FLAGS = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE

# option -> (clear?, flag), moby/sys/mount flags_unix.go
_FLAGS: dict[str, tuple[bool, int]] = {
    "defaults": (False, 0), "ro": (False, MS_RDONLY), "rw": (True, MS_RDONLY),
    "suid": (True, MS_NOSUID), "nosuid": (False, MS_NOSUID), "dev": (True, MS_NODEV),
    "nodev": (False, MS_NODEV), "exec": (True, MS_NOEXEC), "noexec": (False, MS_NOEXEC),
    "sync": (False, MS_SYNCHRONOUS), "async": (True, MS_SYNCHRONOUS),
    "dirsync": (False, MS_DIRSYNC), "remount": (False, MS_REMOUNT),
    "mand": (False, MS_MANDLOCK), "nomand": (True, MS_MANDLOCK),
    "atime": (True, MS_NOATIME), "noatime": (False, MS_NOATIME),
    "diratime": (True, MS_NODIRATIME), "nodiratime": (False, MS_NODIRATIME),
    "bind": (False, MS_BIND), "rbind": (False, MS_BIND | MS_REC),
    "unbindable": (False, MS_UNBINDABLE), "runbindable": (False, MS_UNBINDABLE | MS_REC),
    "private": (False, MS_PRIVATE), "rprivate": (False, MS_PRIVATE | MS_REC),
    "shared": (False, MS_SHARED), "rshared": (False, MS_SHARED | MS_REC),
    "slave": (False, MS_SLAVE), "rslave": (False, MS_SLAVE | MS_REC),
    "relatime": (False, MS_RELATIME), "norelatime": (True, MS_RELATIME),
    "strictatime": (False, MS_STRICTATIME), "nostrictatime": (True, MS_STRICTATIME),
}


class MountError(OSError):
    """A failed mount(2)/umount2(2), worded like moby/sys/mount's mountError."""

    def __init__(self, op: str, source: str, target: str, flags: int, data: str,
                 errno: int) -> None:
        text = f"{op} {source}:{target}" if source else f"{op} {target}"
        if flags:
            text += f", flags: {flags:#x}"
        if data:
            text += f", data: {data}"
        super().__init__(errno, f"{text}: {os.strerror(errno).lower()}")

    def __str__(self) -> str:
        return str(self.args[1])


def parse_options(options: str) -> tuple[int, str]:
    """``"size=64m,uid=1000,noexec"`` → (MS_NOEXEC, ``"size=64m,uid=1000"``)."""
    flags, data = 0, []
    for opt in options.split(","):
        if not opt:
            continue
        known = _FLAGS.get(opt)
        if known is None:
            data.append(opt)
        elif known[0]:
            flags &= ~known[1]
        else:
            flags |= known[1]
    return flags, ",".join(data)


_libc: ctypes.CDLL | None = None


def _syscall(name: str, *args: object) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL("libc.so.6", use_errno=True)
    ret: int = getattr(_libc, name)(*args)
    return 0 if ret == 0 else ctypes.get_errno()


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    err = _syscall("mount", source.encode() or None, target.encode(), fstype.encode() or None,
                   ctypes.c_ulong(flags), data.encode() or None)
    if err:
        raise MountError("mount", source, target, flags, data, err)


def mount(device: str, target: str, fstype: str, options: str) -> None:
    """moby/sys/mount.Mount: apply the flags, then propagation, then a read-only bind."""
    flags, data = parse_options(options)
    plain = flags & ~PROPAGATION_FLAGS
    if not flags & MS_REMOUNT or data:
        _mount(device, target, fstype, plain, data)
    if flags & PROPAGATION_FLAGS:
        _mount("", target, "", flags & (PROPAGATION_FLAGS | MS_REC), "")
    if plain & (MS_BIND | MS_RDONLY) == MS_BIND | MS_RDONLY:
        _mount("", target, "", plain | MS_REMOUNT, "")


def unmount(target: str) -> None:
    """Lazy unmount; a target that is not mounted (EINVAL) or gone (ENOENT) is fine."""
    err = _syscall("umount2", target.encode(), ctypes.c_int(MNT_DETACH))
    if err and err not in (22, 2):  # EINVAL, ENOENT
        raise MountError("unmount", "", target, 0, "", err)


def _unescape(field: str) -> str:
    # /proc/self/mountinfo escapes space, tab, newline and backslash as octal.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mountpoints(mountinfo: str | None = None) -> set[str]:
    """Every mount point this process sees."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    return {_unescape(line.split()[4]) for line in text.splitlines() if line.strip()}


def is_mounted(path: str | os.PathLike[str]) -> bool:
    return os.path.realpath(path) in mountpoints()
