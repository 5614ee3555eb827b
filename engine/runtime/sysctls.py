"""Which sysctls a container may set, by the namespaces it is in: runc's validator rules
and wording (libcontainer/configs/validate), which dockerd relies on. /proc/sys is only
partly namespaced: a key outside the container's own namespaces would change the host.

They are written by the container's first process once it is in its namespaces, so a
key reaches the namespace the process joined: ``net.*`` the pod's network namespace
when it joins a sandbox's, ``kernel.shm*`` its IPC namespace.
"""

from __future__ import annotations

from .spec import Namespaces

IPC_KEYS = frozenset({"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                      "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                      "kernel.shm_rmid_forced"})


def refusal(key: str, ns: Namespaces) -> str | None:
    """Why ``key`` may not be set in these namespaces (runc's message), or None."""
    key = key.replace("/", ".")
    if key in IPC_KEYS or key.startswith("fs.mqueue."):
        if ns.get("ipc", "new") == "host":
            return f'sysctl "{key}" is not allowed in the hosts ipc namespace'
        return None
    if key.startswith("net."):
        if ns.get("net", "none") == "host":
            return f'sysctl "{key}" not allowed in host network namespace'
        return None
    if ns.get("uts", "new") != "host":
        if key == "kernel.domainname":
            return None
        if key == "kernel.hostname":
            return f'sysctl "{key}" is not allowed as it conflicts with the OCI "hostname" field'
    return f'sysctl "{key}" is not in a separate kernel namespace'


def write(sysctls: dict[str, str]) -> None:
    """In the container, after its /proc is mounted and before /proc/sys goes read-only."""
    for key, value in sysctls.items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(str(value))


def disable_ipv6() -> None:
    """IPv6 off in the calling thread's (new) network namespace, for every interface
    and the ones to come, as dockerd's sandbox starts: a container shows no ::1 unless a
    network with IPv6 turns it back on for lo and its interface (network.netlink), or
    its own --sysctl does. Nothing to do on a kernel without IPv6."""
    for scope in ("all", "default"):
        try:
            with open(f"/proc/sys/net/ipv6/conf/{scope}/disable_ipv6", "w") as f:
                f.write("1")
        except FileNotFoundError:
            return
