"""Network bodies and answers: moby's api/types/network (EndpointSettings, IPAM, CreateRequest).

EndpointSettings is both a request part (``NetworkingConfig.EndpointsConfig`` of container
create, ``EndpointConfig`` of connect) and a response part (``NetworkSettings.Networks``).
"""

from __future__ import annotations

from pydantic import Field

from .common import DockerModel, Int, JsonObject, StrictBool, StrictStr, StrList, StrMap
from .hostconfig import PortBinding

__all__ = [
    "IPAM",
    "Address",
    "ConfigReference",
    "EndpointIPAMConfig",
    "EndpointResource",
    "EndpointSettings",
    "IPAMConfig",
    "Network",
    "NetworkConnectRequest",
    "NetworkCreateRequest",
    "NetworkCreateResponse",
    "NetworkDisconnectRequest",
    "NetworkSettings",
    "NetworkingConfig",
]


class EndpointIPAMConfig(DockerModel):
    ipv4_address: StrictStr | None = Field(None, alias="IPv4Address")
    ipv6_address: StrictStr | None = Field(None, alias="IPv6Address")
    link_local_ips: StrList | None = Field(None, alias="LinkLocalIPs")


class EndpointSettings(DockerModel):
    ipam_config: EndpointIPAMConfig | None = Field(None, alias="IPAMConfig")
    links: StrList | None = None
    mac_address: StrictStr | None = None
    aliases: StrList | None = None
    driver_opts: StrMap | None = None
    gw_priority: Int | None = None
    network_id: StrictStr | None = Field(None, alias="NetworkID")
    endpoint_id: StrictStr | None = Field(None, alias="EndpointID")
    gateway: StrictStr | None = None
    ip_address: StrictStr | None = Field(None, alias="IPAddress")
    ip_prefix_len: Int | None = Field(None, alias="IPPrefixLen")
    ipv6_gateway: StrictStr | None = Field(None, alias="IPv6Gateway")
    global_ipv6_address: StrictStr | None = Field(None, alias="GlobalIPv6Address")
    global_ipv6_prefix_len: Int | None = Field(None, alias="GlobalIPv6PrefixLen")
    dns_names: StrList | None = Field(None, alias="DNSNames")


class NetworkingConfig(DockerModel):
    endpoints_config: dict[str, EndpointSettings | None] | None = None


class Address(DockerModel):
    addr: StrictStr | None = None
    prefix_len: Int | None = None


class NetworkSettings(DockerModel):
    """A container's ``NetworkSettings`` in inspect (the top-level fields mirror the default
    bridge endpoint, as dockerd reports them)."""

    bridge: StrictStr | None = None
    sandbox_id: StrictStr | None = Field(None, alias="SandboxID")
    hairpin_mode: StrictBool | None = None
    link_local_ipv6_address: StrictStr | None = Field(None, alias="LinkLocalIPv6Address")
    link_local_ipv6_prefix_len: Int | None = Field(None, alias="LinkLocalIPv6PrefixLen")
    ports: dict[str, list[PortBinding] | None] | None = None
    sandbox_key: StrictStr | None = None
    secondary_ip_addresses: list[Address] | None = Field(None, alias="SecondaryIPAddresses")
    secondary_ipv6_addresses: list[Address] | None = Field(None, alias="SecondaryIPv6Addresses")
    endpoint_id: StrictStr | None = Field(None, alias="EndpointID")
    gateway: StrictStr | None = None
    global_ipv6_address: StrictStr | None = Field(None, alias="GlobalIPv6Address")
    global_ipv6_prefix_len: Int | None = Field(None, alias="GlobalIPv6PrefixLen")
    ip_address: StrictStr | None = Field(None, alias="IPAddress")
    ip_prefix_len: Int | None = Field(None, alias="IPPrefixLen")
    ipv6_gateway: StrictStr | None = Field(None, alias="IPv6Gateway")
    mac_address: StrictStr | None = None
    networks: dict[str, EndpointSettings] | None = None


class IPAMConfig(DockerModel):
    subnet: StrictStr | None = None
    ip_range: StrictStr | None = Field(None, alias="IPRange")
    gateway: StrictStr | None = None
    auxiliary_addresses: StrMap | None = None


class IPAM(DockerModel):
    driver: StrictStr | None = None
    config: list[IPAMConfig] | None = None
    options: StrMap | None = None


class ConfigReference(DockerModel):
    network: StrictStr | None = None


class NetworkCreateRequest(DockerModel):
    """``POST /networks/create``."""

    name: StrictStr | None = None
    driver: StrictStr | None = None
    scope: StrictStr | None = None
    internal: StrictBool | None = None
    attachable: StrictBool | None = None
    ingress: StrictBool | None = None
    config_only: StrictBool | None = None
    config_from: ConfigReference | None = None
    ipam: IPAM | None = Field(None, alias="IPAM")
    enable_ipv4: StrictBool | None = Field(None, alias="EnableIPv4")
    enable_ipv6: StrictBool | None = Field(None, alias="EnableIPv6")
    options: StrMap | None = None
    labels: StrMap | None = None
    check_duplicate: StrictBool | None = None  # removed in API 1.44; docker-py still sends it


class NetworkConnectRequest(DockerModel):
    """``POST /networks/{id}/connect``."""

    container: StrictStr | None = None
    endpoint_config: EndpointSettings | None = None


class NetworkDisconnectRequest(DockerModel):
    """``POST /networks/{id}/disconnect``."""

    container: StrictStr | None = None
    force: StrictBool | None = None


class NetworkCreateResponse(DockerModel):
    id: StrictStr = Field(alias="Id")
    warning: StrictStr | None = None


class EndpointResource(DockerModel):
    """One entry of ``Network.Containers``."""

    name: StrictStr | None = None
    endpoint_id: StrictStr | None = Field(None, alias="EndpointID")
    mac_address: StrictStr | None = None
    ipv4_address: StrictStr | None = Field(None, alias="IPv4Address")
    ipv6_address: StrictStr | None = Field(None, alias="IPv6Address")


class Network(DockerModel):
    """``GET /networks/{id}`` and the items of ``GET /networks``."""

    name: StrictStr
    id: StrictStr = Field(alias="Id")
    created: StrictStr | None = None
    scope: StrictStr | None = None
    driver: StrictStr | None = None
    enable_ipv4: StrictBool | None = Field(None, alias="EnableIPv4")
    enable_ipv6: StrictBool | None = Field(None, alias="EnableIPv6")
    ipam: IPAM | None = Field(None, alias="IPAM")
    internal: StrictBool | None = None
    attachable: StrictBool | None = None
    ingress: StrictBool | None = None
    config_from: ConfigReference | None = None
    config_only: StrictBool | None = None
    containers: dict[str, EndpointResource] | None = None
    options: StrMap | None = None
    labels: StrMap | None = None
    peers: list[JsonObject] | None = None
