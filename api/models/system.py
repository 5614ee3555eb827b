"""System answers: ``GET /version`` and ``GET /info``.

SystemInfo names the fields clients read; the long tail (plugins, swarm, registry config,
runtimes, ...) is kept as plain JSON objects.
"""

from __future__ import annotations

from pydantic import Field

from .common import DockerModel, Int, Int64, JsonObject, StrictBool, StrictStr, StrList

__all__ = ["ComponentVersion", "SystemInfo", "SystemVersion", "VersionPlatform"]


class VersionPlatform(DockerModel):
    name: StrictStr | None = None


class ComponentVersion(DockerModel):
    name: StrictStr
    version: StrictStr
    details: JsonObject | None = None


class SystemVersion(DockerModel):
    platform: VersionPlatform | None = None
    components: list[ComponentVersion] | None = None
    version: StrictStr
    api_version: StrictStr
    min_api_version: StrictStr | None = Field(None, alias="MinAPIVersion")
    git_commit: StrictStr | None = None
    go_version: StrictStr | None = None
    os: StrictStr | None = None
    arch: StrictStr | None = None
    kernel_version: StrictStr | None = None
    experimental: StrictBool | None = None
    build_time: StrictStr | None = None


class SystemInfo(DockerModel):
    id: StrictStr | None = Field(None, alias="ID")
    containers: Int | None = None
    containers_running: Int | None = None
    containers_paused: Int | None = None
    containers_stopped: Int | None = None
    images: Int | None = None
    driver: StrictStr | None = None
    driver_status: list[StrList] | None = None
    plugins: JsonObject | None = None
    memory_limit: StrictBool | None = None
    swap_limit: StrictBool | None = None
    kernel_memory_tcp: StrictBool | None = Field(None, alias="KernelMemoryTCP")
    cpu_cfs_period: StrictBool | None = None
    cpu_cfs_quota: StrictBool | None = None
    cpu_shares: StrictBool | None = Field(None, alias="CPUShares")
    cpu_set: StrictBool | None = Field(None, alias="CPUSet")
    pids_limit: StrictBool | None = None
    kernel_memory: StrictBool | None = None  # API < 1.42
    bridge_nf_iptables: StrictBool | None = Field(None, alias="BridgeNfIptables")
    bridge_nf_ip6tables: StrictBool | None = Field(None, alias="BridgeNfIp6tables")
    oom_kill_disable: StrictBool | None = None
    ipv4_forwarding: StrictBool | None = Field(None, alias="IPv4Forwarding")
    debug: StrictBool | None = None
    n_fd: Int | None = Field(None, alias="NFd")
    n_goroutines: Int | None = Field(None, alias="NGoroutines")
    system_time: StrictStr | None = None
    logging_driver: StrictStr | None = None
    cgroup_driver: StrictStr | None = None
    cgroup_version: StrictStr | None = None
    n_events_listener: Int | None = Field(None, alias="NEventsListener")
    kernel_version: StrictStr | None = None
    operating_system: StrictStr | None = None
    os_version: StrictStr | None = Field(None, alias="OSVersion")
    os_type: StrictStr | None = Field(None, alias="OSType")
    architecture: StrictStr | None = None
    index_server_address: StrictStr | None = None
    registry_config: JsonObject | None = None
    ncpu: Int | None = Field(None, alias="NCPU")
    mem_total: Int64 | None = None
    generic_resources: list[JsonObject] | None = None
    docker_root_dir: StrictStr | None = None
    http_proxy: StrictStr | None = None
    https_proxy: StrictStr | None = None
    no_proxy: StrictStr | None = None
    name: StrictStr | None = None
    labels: StrList | None = None
    experimental_build: StrictBool | None = None
    server_version: StrictStr | None = None
    runtimes: dict[str, JsonObject] | None = None
    default_runtime: StrictStr | None = None
    swarm: JsonObject | None = None
    live_restore_enabled: StrictBool | None = None
    isolation: StrictStr | None = None
    init_binary: StrictStr | None = None
    containerd_commit: JsonObject | None = None
    runc_commit: JsonObject | None = None
    init_commit: JsonObject | None = None
    security_options: StrList | None = None
    product_license: StrictStr | None = None
    default_address_pools: list[JsonObject] | None = None
    firewall_backend: JsonObject | None = None
    cdi_spec_dirs: StrList | None = Field(None, alias="CDISpecDirs")
    containerd: JsonObject | None = None
    discovered_devices: list[JsonObject] | None = None
    warnings: StrList | None = None
