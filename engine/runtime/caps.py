"""Capabilities: names to numbers, and the drop sequence (bounding, ambient, capset)."""

from __future__ import annotations

from . import syscalls

NUMBERS = {
    "CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3, "FSETID": 4, "KILL": 5,
    "SETGID": 6, "SETUID": 7, "SETPCAP": 8, "LINUX_IMMUTABLE": 9, "NET_BIND_SERVICE": 10,
    "NET_BROADCAST": 11, "NET_ADMIN": 12, "NET_RAW": 13, "IPC_LOCK": 14, "IPC_OWNER": 15,
    "SYS_MODULE": 16, "SYS_RAWIO": 17, "SYS_CHROOT": 18, "SYS_PTRACE": 19, "SYS_PACCT": 20,
    "SYS_ADMIN": 21, "SYS_BOOT": 22, "SYS_NICE": 23, "SYS_RESOURCE": 24, "SYS_TIME": 25,
    "SYS_TTY_CONFIG": 26, "MKNOD": 27, "LEASE": 28, "AUDIT_WRITE": 29, "AUDIT_CONTROL": 30,
    "SETFCAP": 31, "MAC_OVERRIDE": 32, "MAC_ADMIN": 33, "SYSLOG": 34, "WAKE_ALARM": 35,
    "BLOCK_SUSPEND": 36, "AUDIT_READ": 37, "PERFMON": 38, "BPF": 39, "CHECKPOINT_RESTORE": 40,
}


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return 40


def bounding_set() -> int:
    """The host's bounding set: what "all capabilities" can mean here (privileged)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return (1 << (last_cap() + 1)) - 1


def mask(names: list[str], privileged: bool) -> int:
    if privileged:
        return bounding_set()
    bits = 0
    for name in names:
        number = NUMBERS.get(name.upper().removeprefix("CAP_"))
        if number is not None:
            bits |= 1 << number
    # A capability the host lacks (CAP_SYS_RESOURCE here) cannot be granted: skip it
    # rather than fail, which is what runc gets wrong on this kind of machine.
    return bits & bounding_set()


def drop_bounding(keep: int) -> None:
    for cap in range(last_cap() + 1):
        if not keep & (1 << cap):
            try:
                syscalls.prctl(syscalls.PR_CAPBSET_DROP, cap)
            except OSError:
                pass  # not in our bounding set to begin with


def apply(keep: int) -> None:
    """Set the effective/permitted/inheritable sets; ambient cleared."""
    try:
        syscalls.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass
    # Inheritable stays empty, as Docker has done since the CVE-2022-24769 fix.
    syscalls.capset(keep, keep, 0)
