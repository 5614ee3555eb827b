"""Container bodies (create, update, commit, exec create/start) and answers (inspect, list):
moby api/types/container.

``ContainerConfig`` is the portable half of a container (also the body of ``POST /commit``);
``HostConfig`` (in :mod:`.hostconfig`, re-exported here) the host-specific half.
"""

from __future__ import annotations

from pydantic import Field

from .common import (
    DockerModel,
    EmptyObjectMap,
    Int,
    Int64,
    JsonObject,
    StrictBool,
    StrictStr,
    StrList,
    StrMap,
    StrSlice,
    UInt16,
    UInt64,
)
from .hostconfig import HostConfig, Mount, Resources, RestartPolicy
from .networks import EndpointSettings, NetworkingConfig, NetworkSettings

__all__ = [
    "ContainerCommitConfig",
    "ContainerConfig",
    "ContainerCreateRequest",
    "ContainerInspectResponse",
    "ContainerState",
    "ContainerSummary",
    "ContainerUpdateRequest",
    "DriverData",
    "EndpointSettings",
    "ExecCreateRequest",
    "ExecStartRequest",
    "Health",
    "HealthConfig",
    "HealthcheckResult",
    "HostConfig",
    "Mount",
    "MountPoint",
    "NetworkSettings",
    "NetworkingConfig",
    "Port",
    "Resources",
    "RestartPolicy",
]


class HealthConfig(DockerModel):
    """``Healthcheck``: durations are nanoseconds; Test is ["NONE"], ["CMD", ...] or
    ["CMD-SHELL", cmd] (a bare string is taken too, as the engine did before)."""

    test: StrSlice | None = None
    interval: Int64 | None = None
    timeout: Int64 | None = None
    retries: Int | None = None
    start_period: Int64 | None = None
    start_interval: Int64 | None = None


class ContainerConfig(DockerModel):
    """container.Config: what an image default or a create body says about the process."""

    hostname: StrictStr | None = None
    domainname: StrictStr | None = None
    user: StrictStr | None = None
    attach_stdin: StrictBool | None = None
    attach_stdout: StrictBool | None = None
    attach_stderr: StrictBool | None = None
    exposed_ports: EmptyObjectMap | None = None
    tty: StrictBool | None = None
    open_stdin: StrictBool | None = None
    stdin_once: StrictBool | None = None
    env: StrList | None = None
    cmd: StrSlice | None = None
    healthcheck: HealthConfig | None = None
    args_escaped: StrictBool | None = None
    image: StrictStr | None = None
    volumes: EmptyObjectMap | None = None
    working_dir: StrictStr | None = None
    entrypoint: StrSlice | None = None
    network_disabled: StrictBool | None = None
    mac_address: StrictStr | None = None  # deprecated since API 1.44: per endpoint now
    on_build: StrList | None = None
    labels: StrMap | None = None
    stop_signal: StrictStr | None = None
    stop_timeout: Int | None = None
    shell: StrSlice | None = None


class ContainerCommitConfig(ContainerConfig):
    """``POST /commit``: the body is a ContainerConfig merged over the container's own."""


class ContainerCreateRequest(ContainerConfig):
    """``POST /containers/create``: ContainerConfig plus HostConfig and NetworkingConfig."""

    host_config: HostConfig | None = None
    networking_config: NetworkingConfig | None = None


class ContainerUpdateRequest(Resources):
    """``POST /containers/{id}/update``: Resources plus RestartPolicy."""

    restart_policy: RestartPolicy | None = None


class ExecCreateRequest(DockerModel):
    """``POST /containers/{id}/exec`` (container.ExecOptions)."""

    attach_stdin: StrictBool | None = None
    attach_stdout: StrictBool | None = None
    attach_stderr: StrictBool | None = None
    console_size: list[UInt64] | None = None  # [height, width]
    detach_keys: StrictStr | None = None
    detach: StrictBool | None = None
    tty: StrictBool | None = None
    env: StrList | None = None
    cmd: StrList | None = None
    privileged: StrictBool | None = None
    user: StrictStr | None = None
    working_dir: StrictStr | None = None
    # docker-py sends these two: the container (dockerd takes it from the path) and detachKeys
    # in camelCase (which Go's case-insensitive key match reads as DetachKeys).
    container: StrictStr | None = None
    docker_py_detach_keys: StrictStr | None = Field(None, alias="detachKeys")


class ExecStartRequest(DockerModel):
    """``POST /exec/{id}/start``."""

    detach: StrictBool | None = None
    tty: StrictBool | None = None
    console_size: list[UInt64] | None = None


# --- answers ------------------------------------------------------------------------------


class HealthcheckResult(DockerModel):
    start: StrictStr | None = None
    end: StrictStr | None = None
    exit_code: Int | None = None
    output: StrictStr | None = None


class Health(DockerModel):
    status: StrictStr | None = None  # none, starting, healthy, unhealthy
    failing_streak: Int | None = None
    log: list[HealthcheckResult] | None = None


class ContainerState(DockerModel):
    status: StrictStr  # created, running, paused, restarting, removing, exited, dead
    running: StrictBool | None = None
    paused: StrictBool | None = None
    restarting: StrictBool | None = None
    oom_killed: StrictBool | None = Field(None, alias="OOMKilled")
    dead: StrictBool | None = None
    pid: Int | None = None
    exit_code: Int | None = None
    error: StrictStr | None = None
    started_at: StrictStr | None = None
    finished_at: StrictStr | None = None
    health: Health | None = None


class MountPoint(DockerModel):
    """One entry of ``Mounts`` in inspect and list: a mount as it was set up."""

    type: StrictStr | None = None
    name: StrictStr | None = None
    source: StrictStr | None = None
    destination: StrictStr | None = None
    driver: StrictStr | None = None
    mode: StrictStr | None = None
    rw: StrictBool | None = Field(None, alias="RW")
    propagation: StrictStr | None = None


class DriverData(DockerModel):
    name: StrictStr | None = None
    data: StrMap | None = None


class ContainerInspectResponse(DockerModel):
    """``GET /containers/{id}/json``."""

    id: StrictStr = Field(alias="Id")
    created: StrictStr | None = None
    path: StrictStr | None = None
    args: StrList | None = None
    state: ContainerState | None = None
    image: StrictStr | None = None
    resolv_conf_path: StrictStr | None = None
    hostname_path: StrictStr | None = None
    hosts_path: StrictStr | None = None
    log_path: StrictStr | None = None
    name: StrictStr
    restart_count: Int | None = None
    driver: StrictStr | None = None
    platform: StrictStr | None = None
    image_manifest_descriptor: JsonObject | None = None
    mount_label: StrictStr | None = None
    process_label: StrictStr | None = None
    app_armor_profile: StrictStr | None = None
    exec_ids: StrList | None = Field(None, alias="ExecIDs")
    host_config: HostConfig | None = None
    graph_driver: DriverData | None = None
    size_rw: Int64 | None = None
    size_root_fs: Int64 | None = None
    mounts: list[MountPoint] | None = None
    config: ContainerConfig | None = None
    network_settings: NetworkSettings | None = None


class Port(DockerModel):
    """A published or exposed port in the container list."""

    ip: StrictStr | None = Field(None, alias="IP")
    private_port: UInt16
    public_port: UInt16 | None = None
    type: StrictStr


class SummaryHostConfig(DockerModel):
    network_mode: StrictStr | None = None
    annotations: StrMap | None = None


class SummaryNetworkSettings(DockerModel):
    networks: dict[str, EndpointSettings] | None = None


class ContainerSummary(DockerModel):
    """One item of ``GET /containers/json``."""

    id: StrictStr = Field(alias="Id")
    names: StrList | None = None
    image: StrictStr | None = None
    image_id: StrictStr | None = Field(None, alias="ImageID")
    image_manifest_descriptor: JsonObject | None = None
    command: StrictStr | None = None
    created: Int64 | None = None
    ports: list[Port] | None = None
    size_rw: Int64 | None = None
    size_root_fs: Int64 | None = None
    labels: StrMap | None = None
    state: StrictStr | None = None
    status: StrictStr | None = None
    host_config: SummaryHostConfig | None = None
    network_settings: SummaryNetworkSettings | None = None
    mounts: list[MountPoint] | None = None
