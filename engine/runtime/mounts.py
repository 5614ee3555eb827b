"""The container's filesystem, built inside its own mount namespace, then pivot_root.

Nothing here is visible to the host: the overlay, /proc, /dev and the volume mounts all
live in the container's mount namespace and vanish with it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from . import inroot
from . import syscalls as sc
from .spec import DirRootfs, Mount, OverlayRootfs, Spec

DEVICES = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
           ("urandom", 1, 9), ("tty", 5, 0)]
_FLAGS = {
    "ro": sc.MS_RDONLY, "nosuid": sc.MS_NOSUID, "nodev": sc.MS_NODEV, "noexec": sc.MS_NOEXEC,
    "bind": sc.MS_BIND, "rbind": sc.MS_BIND | sc.MS_REC, "noatime": sc.MS_NOATIME,
    "nodiratime": sc.MS_NODIRATIME, "relatime": sc.MS_RELATIME,
    "strictatime": sc.MS_STRICTATIME,
}
_PROPAGATION = {
    "private": sc.MS_PRIVATE, "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "shared": sc.MS_SHARED, "rshared": sc.MS_SHARED | sc.MS_REC,
    "slave": sc.MS_SLAVE, "rslave": sc.MS_SLAVE | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE, "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}
_IGNORED = {"rw", "z", "Z", "nocopy", "copy"}


def parse_options(options: list[str]) -> tuple[int, int, str]:
    flags, propagation, data = 0, 0, []
    for opt in options:
        if opt in _FLAGS:
            flags |= _FLAGS[opt]
        elif opt in _PROPAGATION:
            propagation |= _PROPAGATION[opt]
        elif opt not in _IGNORED:
            data.append(opt)
    return flags, propagation, ",".join(data)


def mount_rootfs(rootfs: OverlayRootfs | DirRootfs, target: str) -> None:
    if "path" in rootfs:
        sc.mount(rootfs["path"], target, None, sc.MS_BIND | sc.MS_REC)
        return
    lower = ":".join(rootfs["lower"])
    data = f"lowerdir={lower},upperdir={rootfs['upper']},workdir={rootfs['work']}"
    if len(data) > 4000:
        # The option string must fit one page: shorten with relative paths from the
        # layers' common parent, as dockerd's l/ symlinks do.
        common = os.path.commonpath(rootfs["lower"])
        os.chdir(common)
        lower = ":".join(os.path.relpath(p, common) for p in rootfs["lower"])
        data = f"lowerdir={lower},upperdir={rootfs['upper']},workdir={rootfs['work']}"
    sc.mount("overlay", target, "overlay", 0, data)


def mount_standard(root: str, spec: Spec) -> None:
    """/proc, /sys, /dev and friends, with the flags runc uses.

    Each mount point is resolved in the root by the kernel and used through its fd: an
    image whose /dev or /proc is a symlink to ``/`` mounts inside its root, not on the
    host's tree."""
    rootfd = inroot.open_root(root)
    try:
        _mount_standard(rootfd, spec)
    finally:
        os.close(rootfd)


def _mount_standard(rootfd: int, spec: Spec) -> None:
    held: list[int] = []

    def at(p: str) -> str:
        held.append(inroot.open_mount_point(rootfd, p, True))
        return f"/proc/self/fd/{held[-1]}"

    try:
        _mount_special(at, spec)
    finally:
        for fd in held:
            os.close(fd)


def _mount_special(at: Callable[[str], str], spec: Spec) -> None:
    """``at(p)`` opens the mount point again at each call: after a mount, the new mount."""
    sc.mount("proc", at("proc"), "proc", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    sys_flags = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
    if not spec.get("privileged"):
        sys_flags |= sc.MS_RDONLY
    try:
        sc.mount("sysfs", at("sys"), "sysfs", sys_flags)
    except OSError:
        # With the host's network namespace sysfs cannot be mounted anew: bind it.
        sc.mount("/sys", at("sys"), None, sc.MS_BIND | sc.MS_REC)
        if sys_flags & sc.MS_RDONLY:
            sc.mount(None, at("sys"), None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
    try:
        _mount_cgroups(at, bool(spec.get("privileged")))
    except (OSError, ValueError):
        pass  # a host whose cgroups we cannot read: the container runs without the view
    sc.mount("tmpfs", at("dev"), "tmpfs", sc.MS_NOSUID | sc.MS_STRICTATIME,
             "mode=755,size=65536k")
    dev = at("dev")  # the fresh tmpfs, which only we can see yet
    old = os.umask(0)
    try:
        for name, major, minor in DEVICES:
            os.mknod(os.path.join(dev, name), stat.S_IFCHR | 0o666, os.makedev(major, minor))
        if spec.get("privileged"):
            _copy_host_devices(dev)
    finally:
        os.umask(old)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("ptmx", "pts/ptmx"), ("core", "/proc/kcore")):
        if name == "core" and not os.path.exists("/proc/kcore"):
            continue  # a kernel without CONFIG_PROC_KCORE: runc makes no /dev/core either
        os.symlink(target, os.path.join(dev, name))
    sc.mount("devpts", at("dev/pts"), "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620,gid=5")
    if spec.get("dev_shm", True):
        shm = spec.get("shm_size") or 64 * 1024 * 1024
        sc.mount("shm", at("dev/shm"), "tmpfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC,
                 f"mode=1777,size={shm}")
    sc.mount("mqueue", at("dev/mqueue"), "mqueue", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)


def _own_cgroups() -> list[tuple[str, str]]:
    """(host directory of this process's cgroup, name under /sys/fs/cgroup) for each
    hierarchy: cgroup v1 ones by their mount point's name (``memory``, ``cpu,cpuacct``,
    ``systemd``), or the one cgroup2 tree when it is mounted on /sys/fs/cgroup itself.
    Read in the process, once it is in its cgroup, before pivot_root."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            paths[controllers] = path
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            root, point, fstype, options = fields[3], fields[4], fields[sep + 1], fields[sep + 3]
            if fstype == "cgroup":
                wanted = {o for o in options.split(",") if o not in ("rw", "ro")}
                key = next((k for k in paths if set(k.split(",")) == wanted), None)
                name = os.path.basename(point)
            elif fstype == "cgroup2" and point == "/sys/fs/cgroup":
                key, name = "", ""
            else:
                continue
            if key is not None and key in paths and paths[key].startswith(root):
                own = os.path.relpath(paths[key], root)
                found.append((os.path.normpath(os.path.join(point, own)), name))
    return found


def _mount_cgroups(at: Callable[[str], str], privileged: bool) -> None:
    """/sys/fs/cgroup as runc shows it: the container's own cgroup of each hierarchy,
    read-only unless privileged (programs read their memory and CPU limits there)."""
    ro = 0 if privileged else sc.MS_RDONLY
    flags = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC
    own = _own_cgroups()
    if any(name == "" for _, name in own):  # cgroup v2: the one tree, our part of it
        source = next(path for path, name in own if name == "")
        sc.mount(source, at("sys/fs/cgroup"), None, sc.MS_BIND)
        sc.mount(None, at("sys/fs/cgroup"), None, sc.MS_BIND | sc.MS_REMOUNT | flags | ro)
        return
    sc.mount("tmpfs", at("sys/fs/cgroup"), "tmpfs", flags, "mode=755")
    top = at("sys/fs/cgroup")
    for source, name in own:
        os.mkdir(os.path.join(top, name), 0o755)
        if os.path.dirname(source) == "/sys/fs/cgroup":
            continue  # a hierarchy we put it in no cgroup of (name=systemd): not the host's
        sc.mount(source, at(f"sys/fs/cgroup/{name}"), None, sc.MS_BIND)
        sc.mount(None, at(f"sys/fs/cgroup/{name}"), None,
                 sc.MS_BIND | sc.MS_REMOUNT | flags | ro)
        for controller in name.split(","):
            if controller != name and not os.path.lexists(os.path.join(top, controller)):
                os.symlink(name, os.path.join(top, controller))  # cpu -> cpu,cpuacct
    sc.mount(None, at("sys/fs/cgroup"), None, sc.MS_REMOUNT | flags | ro, "mode=755")


# Never copied from the host's /dev: runc's HostDevices skips these (mounts or links of
# their own, made here too).
_HOST_DEV_SKIPPED = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", "console", "ptmx"}


def _copy_host_devices(dev: str) -> None:
    """--privileged: every character and block device of the host's /dev, with its mode
    and owner (runc's HostDevices); read before pivot_root, while /dev is the host's."""
    for top, dirs, files in os.walk("/dev"):
        dirs[:] = [d for d in dirs if d not in _HOST_DEV_SKIPPED]
        rel = os.path.relpath(top, "/dev")
        for name in files:
            if rel == "." and name in _HOST_DEV_SKIPPED:
                continue
            st = os.lstat(os.path.join(top, name))
            if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
                continue
            where = os.path.normpath(os.path.join(dev, rel, name))
            os.makedirs(os.path.dirname(where), 0o755, exist_ok=True)
            if not os.path.lexists(where):
                os.mknod(where, st.st_mode, st.st_rdev)
                os.chown(where, st.st_uid, st.st_gid)


def mount_user(root: str, m: Mount) -> None:
    """A bind or tmpfs mount from the spec (volumes, binds, /etc files, --tmpfs).

    The mount point is resolved and created inside the root by the kernel
    (``RESOLVE_IN_ROOT``) and mounted on through its fd, never by a path a volume shared
    with a running container could turn into a symlink meanwhile."""
    flags, propagation, data = parse_options(list(m.get("options") or []))
    kind = m.get("type") or "bind"
    dest = m["destination"]
    rootfd = inroot.open_root(root)
    try:
        is_dir = kind != "bind" or os.path.isdir(m["source"])
        with inroot.closing_fd(inroot.open_mount_point(rootfd, dest, is_dir)) as point:
            target = f"/proc/self/fd/{point}"
            if kind == "bind":
                sc.mount(m["source"], target, None,
                         flags & (sc.MS_BIND | sc.MS_REC) or sc.MS_BIND)
            else:
                sc.mount(m.get("source") or kind, target, kind, flags, data or None)
        # Flags and propagation apply to the new mount, now on top at that place.
        with inroot.closing_fd(inroot.openat2(rootfd, dest, os.O_PATH)) as mounted:
            target = f"/proc/self/fd/{mounted}"
            if kind == "bind" and flags & ~(sc.MS_BIND | sc.MS_REC):
                sc.mount(None, target, None,
                         sc.MS_BIND | sc.MS_REMOUNT | (flags & ~(sc.MS_BIND | sc.MS_REC)))
            if propagation:
                sc.mount(None, target, None, propagation)
    finally:
        os.close(rootfd)


def pivot(root: str) -> None:
    os.chdir(root)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


# statvfs flags kept on a read-only remount: a remount that drops a locked flag is EPERM.
_KEPT_FLAGS = ((os.ST_NOSUID, sc.MS_NOSUID), (os.ST_NODEV, sc.MS_NODEV),
               (os.ST_NOEXEC, sc.MS_NOEXEC), (os.ST_NOATIME, sc.MS_NOATIME),
               (os.ST_NODIRATIME, sc.MS_NODIRATIME), (os.ST_RELATIME, sc.MS_RELATIME))


def mask_paths(masked: list[str], readonly: list[str]) -> None:
    """ReadonlyPaths, then MaskedPaths, as runc does after pivot_root (so inside the
    container's root). A path the image lacks is skipped; any other failure fails the
    start: a path the client asked to hide must never stay visible."""
    for path in readonly:
        try:
            sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        except FileNotFoundError:
            continue
        kept = os.statvfs(path).f_flag
        flags = sum(ms for st, ms in _KEPT_FLAGS if kept & st)
        sc.mount(None, path, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC | flags)
    for path in masked:
        try:
            sc.mount("/dev/null", path, None, sc.MS_BIND)  # a file reads as empty
        except FileNotFoundError:
            continue
        except NotADirectoryError:  # a directory: an empty read-only tmpfs over it
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)


def readonly_root() -> None:
    sc.mount(None, "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC)
