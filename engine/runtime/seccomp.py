"""The default seccomp policy: our own deny-list of the syscalls Docker's profile blocks.

Docker's default profile is an allow-list; the effect that matters to users is the set
of dangerous syscalls it refuses (kernel modules, keyrings, clock setting, mount and
namespace changes, tracing other processes ...), several of which it allows again when
the matching capability is granted. That is what this table says, in our own terms.
A Docker-format JSON profile given with ``--security-opt seccomp=`` is applied as is.
"""

from __future__ import annotations

import errno
from types import ModuleType
from typing import Any, Protocol

from .spec import Seccomp

ALWAYS_DENIED = [
    "add_key", "create_module", "get_kernel_syms", "kexec_file_load", "kexec_load",
    "keyctl", "nfsservctl", "query_module", "request_key", "uselib", "userfaultfd", "ustat",
    "vm86", "vm86old", "_sysctl", "sysfs",
]
# Denied unless the container holds the capability (as Docker's "includes.caps").
DENIED_WITHOUT_CAP = {
    "SYS_ADMIN": ["mount", "umount", "umount2", "unshare", "setns", "pivot_root", "swapon",
                  "swapoff", "quotactl", "name_to_handle_at", "open_by_handle_at",
                  "perf_event_open", "bpf", "fanotify_init", "lookup_dcookie", "syslog",
                  "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
                  "mount_setattr", "quotactl_fd"],
    "SYS_MODULE": ["init_module", "finit_module", "delete_module"],
    "SYS_BOOT": ["reboot"],
    # adjtimex stays allowed: reading the clock state is harmless, and setting it
    # needs CAP_SYS_TIME in the kernel anyway (Docker allows it too).
    "SYS_TIME": ["settimeofday", "stime", "clock_settime", "clock_settime64",
                 "clock_adjtime", "clock_adjtime64"],
    "SYS_PTRACE": ["ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
                   "process_madvise"],
    "SYS_RAWIO": ["ioperm", "iopl"],
    "SYS_PACCT": ["acct"],
    "SYS_NICE": ["get_mempolicy", "set_mempolicy", "mbind", "move_pages",
                 "set_mempolicy_home_node"],
    "SYS_TTY_CONFIG": ["vhangup"],
    "DAC_READ_SEARCH": ["open_by_handle_at"],
    "SYSLOG": ["syslog"],
    "BPF": ["bpf"],
    "PERFMON": ["perf_event_open"],
}


def _cap_names(capabilities: list[str]) -> set[str]:
    return {c.upper().removeprefix("CAP_") for c in capabilities}


def denied(capabilities: list[str]) -> list[str]:
    """The syscalls answering EPERM for a container holding ``capabilities``."""
    held = _cap_names(capabilities)
    out = set(ALWAYS_DENIED)
    for cap, calls in DENIED_WITHOUT_CAP.items():
        if cap not in held:
            out.update(calls)
    for cap, calls in DENIED_WITHOUT_CAP.items():
        if cap in held:
            out.difference_update(c for c in calls if c not in ALWAYS_DENIED)
    return sorted(out)


class Filter(Protocol):
    """What is used of pyseccomp's SyscallFilter (pyseccomp ships no types)."""

    def add_rule(self, action: int, syscall: str, *args: object) -> None: ...
    def set_attr(self, attr: int, value: int) -> None: ...
    def load(self) -> None: ...


def build(profile: Seccomp | None, capabilities: list[str]) -> Filter | None:
    """A loaded-ready pyseccomp filter, or None for "unconfined".

    libseccomp sets no_new_privs itself when loading unless told not to; whether the
    container gets it is the spec's choice (``no_new_privileges``), as with runc.
    """
    if profile == "unconfined" or profile is None:
        return None
    import pyseccomp as sc
    if isinstance(profile, dict):
        f = _from_docker_profile(sc, profile)
    else:
        f = _default(sc, capabilities)
    f.set_attr(sc.Attr.CTL_NNP, 0)
    return f


def _default(sc: ModuleType, capabilities: list[str]) -> Filter:
    f: Filter = sc.SyscallFilter(sc.ALLOW)
    eperm = sc.ERRNO(errno.EPERM)
    for name in denied(capabilities):
        try:
            f.add_rule(eperm, name)
        except (ValueError, OSError, RuntimeError):
            continue  # not a syscall on this architecture
    if "SYS_ADMIN" not in _cap_names(capabilities):
        # clone(2) may not create namespaces; clone3 hides its flags in memory, so it
        # answers ENOSYS and libc falls back to clone (what Docker's profile does too).
        for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                     0x20000000, 0x40000000):
            f.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    return f


_ACTIONS = {"SCMP_ACT_ALLOW": "ALLOW", "SCMP_ACT_KILL": "KILL", "SCMP_ACT_KILL_THREAD": "KILL",
            "SCMP_ACT_KILL_PROCESS": "KILL_PROCESS", "SCMP_ACT_TRAP": "TRAP",
            "SCMP_ACT_LOG": "LOG"}
_OPS = {"SCMP_CMP_NE": "NE", "SCMP_CMP_LT": "LT", "SCMP_CMP_LE": "LE", "SCMP_CMP_EQ": "EQ",
        "SCMP_CMP_GE": "GE", "SCMP_CMP_GT": "GT", "SCMP_CMP_MASKED_EQ": "MASKED_EQ"}


def _action(sc: ModuleType, name: str, errno_ret: int | None) -> int:
    action: int
    if name == "SCMP_ACT_ERRNO":
        action = sc.ERRNO(errno_ret if errno_ret is not None else errno.EPERM)
    else:
        action = getattr(sc, _ACTIONS.get(name, "KILL"))
    return action


def _from_docker_profile(sc: ModuleType, profile: dict[str, Any]) -> Filter:
    f: Filter = sc.SyscallFilter(_action(sc, profile.get("defaultAction", "SCMP_ACT_ALLOW"),
                                         profile.get("defaultErrnoRet")))
    for rule in profile.get("syscalls") or []:
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        action = _action(sc, rule.get("action", "SCMP_ACT_ALLOW"), rule.get("errnoRet"))
        args = [sc.Arg(a["index"], getattr(sc, _OPS[a["op"]]), a.get("value", 0),
                       a.get("valueTwo", 0)) for a in rule.get("args") or []]
        for name in names:
            try:
                f.add_rule(action, name, *args)
            except (ValueError, OSError, RuntimeError):
                continue
    return f
