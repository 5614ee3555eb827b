"""The daemon's settings, from ``pydockerd`` flags: one frozen value passed everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# The newest Engine API version we speak, and the oldest path prefix we accept.
# 1.50 is what the docker CLI 28.2 on these machines speaks; docker-py 7.x follows
# whatever /version reports.
API_VERSION = "1.50"
MIN_API_VERSION = "1.24"
ENGINE_VERSION = "0.1.0"
DEFAULT_SOCKET = "unix:///var/run/pydocker.sock"


@dataclass(frozen=True)
class DaemonConfig:
    hosts: tuple[str, ...] = (DEFAULT_SOCKET,)
    data_root: Path = Path("/var/lib/pydocker")
    exec_root: Path = Path("/run/pydocker")
    pidfile: Path | None = None
    group: str = "docker"
    debug: bool = False
    log_level: str = "info"
    bridge: str = "pydocker0"
    bip: str | None = None
    iptables: bool = True
    ip6tables: bool = True
    ip_forward: bool = True
    iptables_chain_prefix: str = "PYDOCKER"
    cgroup_parent: str = "pydocker"
    labels: tuple[str, ...] = field(default_factory=tuple)
    max_concurrent_downloads: int = 3
    max_concurrent_uploads: int = 5
    insecure_registries: tuple[str, ...] = field(default_factory=tuple)
    registry_mirrors: tuple[str, ...] = field(default_factory=tuple)
    default_ipc_mode: str = "private"  # for containers created without an IpcMode
    # The log driver and options of containers that name no driver (--log-driver, --log-opt)
    log_driver: str = "json-file"
    log_opts: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def socket_paths(self) -> list[Path]:
        """The unix sockets this daemon binds (and removes); ``fd://`` ones are systemd's."""
        return [Path(h.removeprefix("unix://")) for h in self.hosts if h.startswith("unix://")]
