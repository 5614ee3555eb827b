"""Where a container's files live on the host: the one place that spells these paths.

Two roots: the state directory under the data root (the record, the json log, the
/etc files the daemon writes), which survives reboots, and the exec root (runtime
bundles, network namespaces), which is per boot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ContainerPaths:
    state_root: Path   # <data-root>/containers
    exec_root: Path    # the daemon's --exec-root

    def state_dir(self, container_id: str) -> Path:
        return self.state_root / container_id

    def json_log(self, container_id: str) -> Path:
        return self.state_dir(container_id) / f"{container_id}-json.log"

    def resolv_conf(self, container_id: str) -> Path:
        return self.state_dir(container_id) / "resolv.conf"

    def hosts(self, container_id: str) -> Path:
        return self.state_dir(container_id) / "hosts"

    def hostname(self, container_id: str) -> Path:
        return self.state_dir(container_id) / "hostname"

    def shm(self, container_id: str) -> Path:
        """The /dev/shm tmpfs of an ``IpcMode: shareable`` container, mounted on the host
        so that the containers joining its IPC namespace bind the same one (dockerd's
        mounts/shm)."""
        return self.state_dir(container_id) / "mounts" / "shm"

    def init_layer(self, container_id: str) -> Path:
        """The mount points the engine needs, below the writable layer (initlayer.py)."""
        return self.state_dir(container_id) / "init"

    def bundle(self, container_id: str) -> Path:
        """The runtime bundle (the shim's socket, spec and exit status)."""
        return self.exec_root / "containers" / container_id

    @property
    def netns_dir(self) -> Path:
        return self.exec_root / "netns"

    def netns(self, container_id: str) -> Path:
        """The bind-mounted network namespace of a container on a bridge network."""
        return self.netns_dir / container_id

    def inspect_paths(self, container_id: str, etc_owner: str | None = None
                      ) -> dict[str, str]:
        """The paths ``docker inspect`` shows, keyed as views.inspect reads them.
        ``etc_owner``: whose /etc files the container uses (its own unless it joins
        another's network namespace; "" before such a container first starts)."""
        owner = container_id if etc_owner is None else etc_owner
        return {"resolv": str(self.resolv_conf(owner)) if owner else "",
                "hostname": str(self.hostname(owner)) if owner else "",
                "hosts": str(self.hosts(owner)) if owner else "",
                "log": str(self.json_log(container_id))}
