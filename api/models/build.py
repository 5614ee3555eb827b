"""``POST /build``: the query parameters, parsed (api.server.routes.build fills it)."""

from __future__ import annotations

from pydantic import Field

from .auth import AuthConfig
from .common import DockerModel


class BuildQuery(DockerModel):
    """In the order of the swagger's ImageBuild parameters."""

    dockerfile: str = ""
    tags: list[str] = Field(default_factory=list)
    extra_hosts: list[str] = Field(default_factory=list)
    remote: str = ""
    quiet: bool = False
    no_cache: bool = False
    cache_from: list[str] = Field(default_factory=list)
    pull: bool = False
    rm: bool = True
    force_rm: bool = False
    memory: int = 0
    memory_swap: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    cpu_period: int = 0
    cpu_quota: int = 0
    build_args: dict[str, str | None] = Field(default_factory=dict)
    shm_size: int = 0
    labels: dict[str, str] = Field(default_factory=dict)
    network_mode: str = ""
    platform: str = ""
    target: str = ""
    ulimits: list[dict[str, object]] = Field(default_factory=list)
    # The X-Registry-Config header, decoded: credentials for the images FROM pulls, by
    # registry (server address as the client stored it).
    registry_config: dict[str, AuthConfig] = Field(default_factory=dict)
