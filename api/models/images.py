"""Image answers: ``GET /images/{name}/json`` and the items of ``GET /images/json``."""

from __future__ import annotations

from pydantic import Field

from .common import DockerModel, Int, Int64, JsonObject, StrictStr, StrList, StrMap
from .containers import ContainerConfig, DriverData

__all__ = ["ImageInspect", "ImageMetadata", "ImageSummary", "RootFS"]


class RootFS(DockerModel):
    type: StrictStr | None = None
    layers: StrList | None = None


class ImageMetadata(DockerModel):
    last_tag_time: StrictStr | None = None


class ImageInspect(DockerModel):
    id: StrictStr = Field(alias="Id")
    descriptor: JsonObject | None = None
    manifests: list[JsonObject] | None = None
    repo_tags: StrList | None = None
    repo_digests: StrList | None = None
    parent: StrictStr | None = None
    comment: StrictStr | None = None
    created: StrictStr | None = None
    # Container and ContainerConfig: API < 1.45 only (dockerd 20.10 still sends them).
    container: StrictStr | None = None
    container_config: ContainerConfig | None = None
    docker_version: StrictStr | None = None
    author: StrictStr | None = None
    config: ContainerConfig | None = None  # swagger's ImageConfig, a subset
    architecture: StrictStr | None = None
    variant: StrictStr | None = None
    os: StrictStr | None = None
    os_version: StrictStr | None = None
    size: Int64 | None = None
    virtual_size: Int64 | None = None
    graph_driver: DriverData | None = None
    root_fs: RootFS | None = Field(None, alias="RootFS")
    metadata: ImageMetadata | None = None


class ImageSummary(DockerModel):
    id: StrictStr = Field(alias="Id")
    parent_id: StrictStr | None = None
    repo_tags: StrList | None = None
    repo_digests: StrList | None = None
    created: Int64 | None = None
    size: Int64 | None = None
    shared_size: Int64 | None = None
    virtual_size: Int64 | None = None
    labels: StrMap | None = None
    containers: Int | None = None
    manifests: list[JsonObject] | None = None
    descriptor: JsonObject | None = None
