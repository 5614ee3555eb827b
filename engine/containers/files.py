"""The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf, written by the daemon."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .model import Container
from .paths import ContainerPaths

HOST_RESOLV = Path("/etc/resolv.conf")
_LOOPBACK_NS = re.compile(r"^\s*nameserver\s+(127\.|::1\b|0\.0\.0\.0)")
DEFAULT_DNS = ["8.8.8.8", "8.8.4.4"]


def hosts_file(hostname: str, domainname: str, ip: str | None,
               extra_hosts: list[str] | None, aliases: Sequence[str] = (),
               linked: Sequence[tuple[str, list[str]]] = ()) -> str:
    lines = [
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "ff00::0\tip6-mcastprefix",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
    ]
    for entry in extra_hosts or []:
        name, _, addr = entry.partition(":")
        lines.append(f"{addr}\t{name}")
    lines += [f"{addr}\t{' '.join(names)}" for addr, names in linked]
    if ip:
        names = [f"{hostname}.{domainname}", hostname] if domainname else [hostname]
        lines.append(f"{ip}\t{' '.join(names + [a for a in aliases if a not in names])}")
    return "\n".join(lines) + "\n"


EMBEDDED_DNS = "127.0.0.11"


def resolv_conf(host_config: dict[str, Any], host_resolv: str | None = None,
                embedded_dns: bool = False) -> str:
    """The host's resolv.conf minus loopback resolvers (unreachable from the container's
    network namespace), overridden by --dns, --dns-search and --dns-option like Docker.
    On user-defined networks the one nameserver is the embedded resolver, which knows
    the other containers and forwards everything else upstream."""
    if host_resolv is None:
        try:
            host_resolv = HOST_RESOLV.read_text()
        except OSError:
            host_resolv = ""
    nameservers = list(host_config.get("Dns") or [])
    search = list(host_config.get("DnsSearch") or [])
    options = list(host_config.get("DnsOptions") or [])
    host_ns, host_search, host_opts = [], [], []
    for line in host_resolv.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith(("#", ";")):
            continue
        if fields[0] == "nameserver" and len(fields) > 1 and not _LOOPBACK_NS.match(line):
            host_ns.append(fields[1])
        elif fields[0] in ("search", "domain"):
            host_search = fields[1:]
        elif fields[0] == "options":
            host_opts += fields[1:]
    out = []
    if search or host_search:
        out.append("search " + " ".join(search or host_search))
    for ns in [EMBEDDED_DNS] if embedded_dns else nameservers or host_ns or DEFAULT_DNS:
        out.append(f"nameserver {ns}")
    if options or host_opts:
        out.append("options " + " ".join(options or host_opts))
    return "\n".join(out) + "\n"


def write_etc_files(c: Container, paths: ContainerPaths,
                    linked: Sequence[tuple[str, list[str]]] = ()) -> list[dict[str, Any]]:
    """Write the container's /etc/resolv.conf, hostname and hosts into its state
    directory; returns the runtime mounts that bind them in (read-only with the rootfs)."""
    hc = c.host_config
    primary = next(iter(c.networks.values()), {})
    hostname = c.config["Hostname"]
    if (hc.get("NetworkMode") or "bridge") == "host":
        hosts = Path("/etc/hosts").read_text()
        hostname_text = os.uname().nodename + "\n"
    else:
        hosts = hosts_file(hostname, c.config.get("Domainname") or "",
                           primary.get("IPAddress") or None, hc.get("ExtraHosts"),
                           linked=linked)
        hostname_text = hostname + "\n"
    embedded_dns = any(n not in ("bridge", "host", "none") for n in c.networks)
    paths.resolv_conf(c.id).write_text(resolv_conf(hc, embedded_dns=embedded_dns))
    paths.hostname(c.id).write_text(hostname_text)
    paths.hosts(c.id).write_text(hosts)
    return etc_mounts(c.id, paths, bool(hc.get("ReadonlyRootfs")))


def etc_mounts(owner: str, paths: ContainerPaths, readonly: bool) -> list[dict[str, Any]]:
    """The runtime mounts that bind ``owner``'s /etc files in (read-only with the rootfs):
    a container's own, or those of the container whose network namespace it joins."""
    files = {"/etc/resolv.conf": paths.resolv_conf(owner), "/etc/hostname": paths.hostname(owner),
             "/etc/hosts": paths.hosts(owner)}
    ro = ["ro"] if readonly else []
    return [{"destination": dest, "type": "bind", "source": str(path),
             "options": ["rbind", "rprivate", *ro]} for dest, path in files.items()]
