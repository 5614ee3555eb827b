"""The runtime spec: the JSON-able dict the daemon builds (engine/containers/spec.py) and
the zygote, shim and container process read. Types only: the seam the type checker holds
both sides to; the runtime reads the dict with ``.get`` and these defaults.

It crosses a process boundary as JSON, so only JSON types appear here. Paths are host
paths unless said otherwise. User names are resolved by the daemon (engine/containers/
users.py), never here: the image's /etc/passwd is not the host's.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, final

# Docker's default capability set: CapEff 00000000a80425fb.
DEFAULT_CAPABILITIES = [
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
    "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
]


# "default" (Docker's profile, relaxed by the capabilities held), "unconfined", or a
# Docker JSON profile as sent by the CLI.
Seccomp = Literal["default", "unconfined"] | dict[str, Any]


@final  # final, so that `"path" in rootfs` tells the two apart
class OverlayRootfs(TypedDict):
    lower: list[str]   # image layers, top first (overlay's lowerdir order)
    upper: str
    work: str


@final
class DirRootfs(TypedDict):
    path: str          # a plain directory, bind-mounted (tests, docker cp helpers)


class User(TypedDict, total=False):
    uid: int
    gid: int
    additional_gids: list[int]
    home: str          # HOME when the env has none (runc): from the image's passwd, or "/"


class Namespaces(TypedDict, total=False):
    net: str           # "none" (new, empty) | "host" | path of a netns file to join
    ipc: str           # "new" | "host" | path (/proc/<pid>/ns/ipc of the container joined)
    uts: str           # "new" | "host" | path
    pid: str           # "new" | "host" | path (joined by the shim, whose children it gets)


class Mount(TypedDict, total=False):
    destination: str   # inside the container; symlinks are resolved inside its root
    type: str          # "bind" | "tmpfs" | any filesystem type
    source: str
    options: list[str]  # mount(8) words: ro, nosuid, rbind, rprivate, size=..., mode=...


class Rlimit(TypedDict):
    type: str          # "nofile" or "RLIMIT_NOFILE"
    soft: int
    hard: int          # clamped to the host's hard limit: it cannot be raised here


class Resources(TypedDict, total=False):
    memory: int
    memory_swap: int   # memory + swap; -1 unlimited; unset: twice the memory, as Docker
    memory_reservation: int
    cpu_shares: int
    cpu_quota: int
    cpu_period: int
    nano_cpus: int
    cpuset_cpus: str
    cpuset_mems: str
    pids_limit: int
    blkio_weight: int  # ignored where the kernel has no blkio.weight (no BFQ)
    oom_kill_disable: bool
    memory_swappiness: int  # v1 only
    # "weight_device", "read_bps", "write_iops", ...: [device path, value] pairs; the
    # runtime finds each device's major:minor
    blkio_devices: dict[str, list[tuple[str, int]]]


class CgroupSpec(TypedDict, total=False):
    parent: str        # e.g. "pydocker"; one directory per controller (v1) or in the tree
    name: str          # the container id
    resources: Resources


class LogSpec(TypedDict, total=False):
    driver: str        # "json-file" (the default), "local" or "none"
    max_size: int      # bytes before the file rotates; -1: never
    max_file: int      # files kept, the current one included
    compress: bool     # rotated files gzipped
    attrs: dict[str, str]  # json-file: each line's "attrs" (labels/env log options)


class Spec(TypedDict, total=False):
    id: str
    bundle: str        # exec-root/containers/<id>: shim.sock, state.json, exit.json
    log_path: str      # the log file the driver writes (json-file or local)
    log: LogSpec
    rootfs: OverlayRootfs | DirRootfs
    readonly_rootfs: bool
    args: list[str]    # final argv (ENTRYPOINT + CMD); args[0] is looked up in PATH
    env: list[str]     # "KEY=value"
    cwd: str           # created when missing, as Docker does
    user: User
    hostname: str
    domainname: str
    tty: bool
    console_size: list[int] | None   # [rows, cols] set before the program starts
    open_stdin: bool
    stdin_once: bool   # the first attach's stdin EOF closes the container's stdin
    namespaces: Namespaces
    mounts: list[Mount]
    capabilities: list[str]          # kept, with or without "CAP_"; DEFAULT_CAPABILITIES
    privileged: bool   # every capability of the host's bounding set, no seccomp, all devices
    no_new_privileges: bool
    seccomp: Seccomp
    masked_paths: list[str]
    readonly_paths: list[str]
    rlimits: list[Rlimit]
    shm_size: int
    dev_shm: bool      # a /dev/shm tmpfs of its own (False: IpcMode none, or bound by mounts)
    init: str | None   # host path of a static init (tini) run as PID 1: init -- args
    cgroup: CgroupSpec
    oom_score_adj: int
    sysctls: dict[str, str]


class ExecSpec(TypedDict, total=False):
    args: list[str]
    env: list[str]
    cwd: str
    user: User
    tty: bool
    console_size: list[int] | None
    stdin: bool
    privileged: bool
    capabilities: list[str]
    # Filled in by the shim from the container's spec when the daemon leaves them out.
    seccomp: Seccomp
    no_new_privileges: bool
