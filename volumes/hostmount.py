"""mount(2)/umount2(2) for local volumes with driver options (type/device/o).

Docker's local driver mounts such a volume on the host at ``<volume>/_data`` when the
first container using it starts and unmounts it when the last one stops; containers
then bind ``_data`` like any other volume, so concurrent users share one tmpfs or one
NFS mount. The option string is split into mount flags and filesystem data exactly as
moby/sys/mount's ``parseOptions`` does, and failures read like its ``mountError``.

The mount(2)/umount2(2) wrapper and the MS_* flags are the engine's one copy
(``pydocker.engine.host.mount``); this module adds moby's option parsing and wording.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from pydocker.engine.host import mount as ms

# option -> (clear?, flag), moby/sys/mount flags_unix.go
_FLAGS: dict[str, tuple[bool, int]] = {
    "defaults": (False, 0), "ro": (False, ms.MS_RDONLY), "rw": (True, ms.MS_RDONLY),
    "suid": (True, ms.MS_NOSUID), "nosuid": (False, ms.MS_NOSUID),
    "dev": (True, ms.MS_NODEV), "nodev": (False, ms.MS_NODEV),
    "exec": (True, ms.MS_NOEXEC), "noexec": (False, ms.MS_NOEXEC),
    "sync": (False, ms.MS_SYNCHRONOUS), "async": (True, ms.MS_SYNCHRONOUS),
    "dirsync": (False, ms.MS_DIRSYNC), "remount": (False, ms.MS_REMOUNT),
    "mand": (False, ms.MS_MANDLOCK), "nomand": (True, ms.MS_MANDLOCK),
    "atime": (True, ms.MS_NOATIME), "noatime": (False, ms.MS_NOATIME),
    "diratime": (True, ms.MS_NODIRATIME), "nodiratime": (False, ms.MS_NODIRATIME),
    "bind": (False, ms.MS_BIND), "rbind": (False, ms.MS_BIND | ms.MS_REC),
    "unbindable": (False, ms.MS_UNBINDABLE),
    "runbindable": (False, ms.MS_UNBINDABLE | ms.MS_REC),
    "private": (False, ms.MS_PRIVATE), "rprivate": (False, ms.MS_PRIVATE | ms.MS_REC),
    "shared": (False, ms.MS_SHARED), "rshared": (False, ms.MS_SHARED | ms.MS_REC),
    "slave": (False, ms.MS_SLAVE), "rslave": (False, ms.MS_SLAVE | ms.MS_REC),
    "relatime": (False, ms.MS_RELATIME), "norelatime": (True, ms.MS_RELATIME),
    "strictatime": (False, ms.MS_STRICTATIME), "nostrictatime": (True, ms.MS_STRICTATIME),
}


class MountError(OSError):
    """A failed mount(2)/ms.umount2(2), worded like moby/sys/mount's mountError."""

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
    """``"size=64m,uid=1000,noexec"`` → (ms.MS_NOEXEC, ``"size=64m,uid=1000"``)."""
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


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    try:
        ms.mount(source or None, target, fstype or None, flags, data or None)
    except OSError as exc:
        raise MountError("mount", source, target, flags, data, exc.errno or errno.EIO) from None


def mount(device: str, target: str, fstype: str, options: str) -> None:
    """moby/sys/mount.Mount: apply the flags, then propagation, then a read-only bind."""
    flags, data = parse_options(options)
    plain = flags & ~ms.PROPAGATION_FLAGS
    if not flags & ms.MS_REMOUNT or data:
        _mount(device, target, fstype, plain, data)
    if flags & ms.PROPAGATION_FLAGS:
        _mount("", target, "", flags & (ms.PROPAGATION_FLAGS | ms.MS_REC), "")
    if plain & (ms.MS_BIND | ms.MS_RDONLY) == ms.MS_BIND | ms.MS_RDONLY:
        _mount("", target, "", plain | ms.MS_REMOUNT, "")


def unmount(target: str) -> None:
    """Lazy unmount; a target that is not mounted (EINVAL) or gone (ENOENT) is fine."""
    try:
        ms.umount2(target, ms.MNT_DETACH)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOENT):
            raise MountError("unmount", "", target, 0, "", exc.errno or errno.EIO) from None


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
