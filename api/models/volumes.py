"""Volume bodies and answers: moby's api/types/volume."""

from __future__ import annotations

from .common import DockerModel, Int64, JsonObject, StrictStr, StrMap

__all__ = ["Volume", "VolumeCreateRequest", "VolumeListResponse", "VolumeUsageData"]


class VolumeCreateRequest(DockerModel):
    """``POST /volumes/create``. ClusterVolumeSpec (swarm CSI volumes) is accepted and ignored."""

    name: StrictStr | None = None
    driver: StrictStr | None = None
    driver_opts: StrMap | None = None
    labels: StrMap | None = None
    cluster_volume_spec: JsonObject | None = None


class VolumeUsageData(DockerModel):
    size: Int64
    ref_count: Int64


class Volume(DockerModel):
    """``GET /volumes/{name}``, the answer of create, and the items of the volume list."""

    name: StrictStr
    driver: StrictStr
    mountpoint: StrictStr
    created_at: StrictStr | None = None
    status: JsonObject | None = None
    labels: StrMap | None = None
    scope: StrictStr
    cluster_volume: JsonObject | None = None
    options: StrMap | None = None
    usage_data: VolumeUsageData | None = None


class VolumeListResponse(DockerModel):
    volumes: list[Volume] | None = None
    warnings: list[StrictStr] | None = None
