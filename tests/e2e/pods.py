"""A pod as cri-dockerd v0.4.3 makes it (core/sandbox_helpers.go makeSandboxDockerConfig,
core/container_create.go, libdocker's 64 MiB shm default), with the Go client's bodies."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from tests.e2e.goclient import call, create, go_config, go_host_config
from tests.e2e.harness import Daemon

PAUSE_IMAGE = "pydt-pause:3.10"
SHM_64M = 64 * 1024 * 1024
# What the kubelet sends for a container's default securityContext.
KUBELET_MASKED = ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                  "/sys/firmware"]
KUBELET_READONLY = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                    "/proc/sysrq-trigger"]
LOOP = ["sh", "-c", "echo hello from the pod; while true; do sleep 1; done"]


class Pod:
    """A pod as cri-dockerd makes it; everything created is force-removed at the end."""

    def __init__(self, d: Daemon, logs: Path) -> None:
        self.d = d
        self.logs = logs
        self.uid = secrets.token_hex(4)
        self.ids: list[str] = []
        self.sandbox = ""

    def run_sandbox(self, network_mode: str, hostname: str = "pydt-pod",
                    sysctls: dict[str, str] | None = None) -> dict[str, Any]:
        """RunPodSandbox: create (makeSandboxDockerConfig), start, inspect."""
        labels = {"io.kubernetes.pod.name": "pydt", "io.kubernetes.pod.namespace": "default",
                  "io.kubernetes.pod.uid": self.uid, "io.kubernetes.docker.type": "podsandbox",
                  "io.kubernetes.container.name": "POD"}
        hc = go_host_config(IpcMode="shareable", NetworkMode=network_mode, OomScoreAdj=-998,
                            CpuShares=2, PortBindings={}, ShmSize=SHM_64M,
                            SecurityOpt=["seccomp=unconfined"])
        if sysctls:
            hc["Sysctls"] = sysctls
        answer = create(self.d, f"k8s_POD_pydt_default_{self.uid}_0",
                        go_config(Hostname=hostname, Image=PAUSE_IMAGE, Labels=labels), hc)
        self.sandbox = answer["Id"]
        self.ids.append(self.sandbox)
        call(self.d, "POST", f"/containers/{self.sandbox}/start", None, 204)
        inspect: dict[str, Any] = call(self.d, "GET", f"/containers/{self.sandbox}/json")
        inspect["Warnings"] = answer["Warnings"]
        return inspect

    def create_container(self, name: str, cmd: list[str], pid: str = "pod",
                         **host_config: Any) -> str:
        """CreateContainer then StartContainer, joining the sandbox's namespaces."""
        joined = f"container:{self.sandbox}"
        labels = {"io.kubernetes.docker.type": "container",
                  "io.kubernetes.container.name": name, "io.kubernetes.pod.uid": self.uid,
                  "io.kubernetes.sandbox.id": self.sandbox,
                  "io.kubernetes.container.logpath": str(self.logs / f"{name}/0.log")}
        hc = go_host_config(Binds=[f"{self.logs}:/dev/termination-log-dir"],
                            RestartPolicy={"Name": "no", "MaximumRetryCount": 0},
                            NetworkMode=joined, IpcMode=joined,
                            PidMode=joined if pid == "pod" else "", Devices=[],
                            MaskedPaths=KUBELET_MASKED, ReadonlyPaths=KUBELET_READONLY,
                            SecurityOpt=["seccomp=unconfined"], ShmSize=SHM_64M)
        hc.update(host_config)
        config = go_config(Entrypoint=cmd[:1], Cmd=cmd[1:], Env=["POD=pydt"],
                           Image="busybox", Labels=labels,
                           Healthcheck={"Test": ["NONE"], "Interval": 0, "Timeout": 0,
                                        "StartPeriod": 0, "StartInterval": 0, "Retries": 0})
        container_id: str = create(self.d, f"k8s_{name}_pydt_default_{self.uid}_0", config,
                                   hc)["Id"]
        self.ids.append(container_id)
        call(self.d, "POST", f"/containers/{container_id}/start", None, 204)
        return container_id

    def remove_all(self) -> None:
        for container_id in reversed(self.ids):
            self.d.request("DELETE", f"/containers/{container_id}?v=1&force=1")
