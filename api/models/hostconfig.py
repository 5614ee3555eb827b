"""HostConfig and its parts: moby's api/types/container/hostconfig.go and api/types/mount.

``Resources`` is its own model because ``POST /containers/{id}/update`` takes it (plus
RestartPolicy) as the whole body; ``HostConfig`` extends it as swagger's ``allOf`` does.
"""

from __future__ import annotations

from pydantic import Field

from .common import (
    DockerModel,
    Int,
    Int64,
    JsonObject,
    StrictBool,
    StrictStr,
    StrList,
    StrMap,
    StrSlice,
    UInt16,
    UInt32,
    UInt64,
)

__all__ = [
    "BindOptions",
    "DeviceMapping",
    "DeviceRequest",
    "HostConfig",
    "ImageOptions",
    "LogConfig",
    "Mount",
    "PortBinding",
    "PortMap",
    "Resources",
    "RestartPolicy",
    "ThrottleDevice",
    "TmpfsOptions",
    "Ulimit",
    "VolumeDriverConfig",
    "VolumeOptions",
    "WeightDevice",
]


class RestartPolicy(DockerModel):
    name: StrictStr | None = None  # "", "no", "always", "unless-stopped", "on-failure"
    maximum_retry_count: Int | None = None


class PortBinding(DockerModel):
    host_ip: StrictStr | None = Field(None, alias="HostIp")
    host_port: StrictStr | None = None


# nat.PortMap: "80/tcp" -> bindings (null when the port is exposed but not published).
PortMap = dict[str, list[PortBinding] | None]


class LogConfig(DockerModel):
    type: StrictStr | None = None
    config: StrMap | None = None


class DeviceMapping(DockerModel):
    path_on_host: StrictStr | None = None
    path_in_container: StrictStr | None = None
    cgroup_permissions: StrictStr | None = None


class DeviceRequest(DockerModel):
    driver: StrictStr | None = None
    count: Int | None = None  # -1 means all devices
    device_ids: StrList | None = Field(None, alias="DeviceIDs")
    capabilities: list[StrList] | None = None
    options: StrMap | None = None


class WeightDevice(DockerModel):
    path: StrictStr | None = None
    weight: UInt16 | None = None


class ThrottleDevice(DockerModel):
    path: StrictStr | None = None
    rate: UInt64 | None = None


class Ulimit(DockerModel):
    name: StrictStr | None = None
    soft: Int64 | None = None
    hard: Int64 | None = None


class BindOptions(DockerModel):
    propagation: StrictStr | None = None
    non_recursive: StrictBool | None = None
    create_mountpoint: StrictBool | None = None
    read_only_non_recursive: StrictBool | None = None
    read_only_force_recursive: StrictBool | None = None


class VolumeDriverConfig(DockerModel):
    name: StrictStr | None = None
    options: StrMap | None = None


class VolumeOptions(DockerModel):
    no_copy: StrictBool | None = None
    labels: StrMap | None = None
    subpath: StrictStr | None = None
    driver_config: VolumeDriverConfig | None = None


class ImageOptions(DockerModel):
    subpath: StrictStr | None = None


class TmpfsOptions(DockerModel):
    size_bytes: Int64 | None = None
    mode: UInt32 | None = None  # os.FileMode
    options: list[StrList] | None = None


class Mount(DockerModel):
    """One entry of ``HostConfig.Mounts`` (``--mount``)."""

    type: StrictStr | None = None  # bind, volume, tmpfs, image, npipe, cluster
    source: StrictStr | None = None
    target: StrictStr | None = None
    read_only: StrictBool | None = None
    consistency: StrictStr | None = None
    bind_options: BindOptions | None = None
    volume_options: VolumeOptions | None = None
    image_options: ImageOptions | None = None
    tmpfs_options: TmpfsOptions | None = None
    cluster_options: JsonObject | None = None


class Resources(DockerModel):
    """container.Resources: the limits ``docker update`` can change on a running container."""

    cpu_shares: Int64 | None = None
    memory: Int64 | None = None
    nano_cpus: Int64 | None = None
    cgroup_parent: StrictStr | None = None
    blkio_weight: UInt16 | None = None
    blkio_weight_device: list[WeightDevice] | None = None
    blkio_device_read_bps: list[ThrottleDevice] | None = None
    blkio_device_write_bps: list[ThrottleDevice] | None = None
    blkio_device_read_i_ops: list[ThrottleDevice] | None = Field(None, alias="BlkioDeviceReadIOps")
    blkio_device_write_i_ops: list[ThrottleDevice] | None = Field(
        None, alias="BlkioDeviceWriteIOps"
    )
    cpu_period: Int64 | None = None
    cpu_quota: Int64 | None = None
    cpu_realtime_period: Int64 | None = None
    cpu_realtime_runtime: Int64 | None = None
    # docker-py's spelling, which Go's case-insensitive key match takes for the two above. Kept
    # as fields of their own so that the body comes back with the keys the client sent.
    docker_py_cpu_realtime_period: Int64 | None = Field(None, alias="CPURealtimePeriod")
    docker_py_cpu_realtime_runtime: Int64 | None = Field(None, alias="CPURealtimeRuntime")
    cpuset_cpus: StrictStr | None = None
    cpuset_mems: StrictStr | None = None
    devices: list[DeviceMapping] | None = None
    device_cgroup_rules: StrList | None = None
    device_requests: list[DeviceRequest] | None = None
    kernel_memory: Int64 | None = None  # deprecated, still sent by docker-py
    kernel_memory_tcp: Int64 | None = Field(None, alias="KernelMemoryTCP")
    memory_reservation: Int64 | None = None
    memory_swap: Int64 | None = None
    memory_swappiness: Int64 | None = None
    oom_kill_disable: StrictBool | None = None
    init: StrictBool | None = None
    pids_limit: Int64 | None = None
    ulimits: list[Ulimit] | None = None
    cpu_count: Int64 | None = None
    cpu_percent: Int64 | None = None
    io_maximum_i_ops: UInt64 | None = Field(None, alias="IOMaximumIOps")
    io_maximum_bandwidth: UInt64 | None = Field(None, alias="IOMaximumBandwidth")


class HostConfig(Resources):
    """The non-portable half of container create: binds, ports, namespaces, security, limits."""

    binds: StrList | None = None
    container_id_file: StrictStr | None = Field(None, alias="ContainerIDFile")
    log_config: LogConfig | None = None
    network_mode: StrictStr | None = None
    port_bindings: PortMap | None = None
    restart_policy: RestartPolicy | None = None
    auto_remove: StrictBool | None = None
    volume_driver: StrictStr | None = None
    volumes_from: StrList | None = None
    console_size: list[UInt64] | None = None  # [height, width]
    annotations: StrMap | None = None
    cap_add: StrSlice | None = None
    cap_drop: StrSlice | None = None
    cgroupns_mode: StrictStr | None = None
    dns: StrList | None = None
    dns_options: StrList | None = None
    dns_search: StrList | None = None
    extra_hosts: StrList | None = None
    group_add: StrList | None = None
    ipc_mode: StrictStr | None = None
    cgroup: StrictStr | None = None
    links: StrList | None = None
    oom_score_adj: Int | None = None
    pid_mode: StrictStr | None = None
    privileged: StrictBool | None = None
    publish_all_ports: StrictBool | None = None
    readonly_rootfs: StrictBool | None = None
    security_opt: StrList | None = None
    storage_opt: StrMap | None = None
    tmpfs: StrMap | None = None
    uts_mode: StrictStr | None = Field(None, alias="UTSMode")
    userns_mode: StrictStr | None = None
    shm_size: Int64 | None = None
    sysctls: StrMap | None = None
    runtime: StrictStr | None = None
    isolation: StrictStr | None = None
    mounts: list[Mount] | None = None
    masked_paths: StrList | None = None
    readonly_paths: StrList | None = None
