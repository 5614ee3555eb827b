"""``POST /build``: the query parameters, parsed (api.server.routes.build fills it)."""

from __future__ import annotations

from pydantic import Field

from .common import DockerModel


class BuildQuery(DockerModel):
    tags: list[str] = Field(default_factory=list)
    dockerfile: str = ""
    build_args: dict[str, str | None] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    cache_from: list[str] = Field(default_factory=list)
    no_cache: bool = False
    rm: bool = True
    force_rm: bool = False
    quiet: bool = False
    pull: bool = False
    target: str = ""
    platform: str = ""
    remote: str = ""
    network_mode: str = ""
    extra_hosts: list[str] = Field(default_factory=list)
    shm_size: int = 0
    memory: int = 0
    memory_swap: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    cpu_period: int = 0
    cpu_quota: int = 0
    ulimits: list[dict[str, object]] = Field(default_factory=list)
