"""Pure unit tests: challenges, platforms, manifests, endpoints, errors."""

from __future__ import annotations

import json

import pytest
from pydocker.engine.errors import InvalidParameter, NotFound, Unauthorized
from pydocker.images.registry import (
    Platform,
    parse_challenges,
    parse_manifest,
    parse_platform,
    retry_message,
)
from pydocker.images.registry.errcode import error_for
from pydocker.images.registry.manifest import (
    DOCKER_CONFIG,
    DOCKER_FOREIGN_LAYER,
    DOCKER_LAYER,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_LAYER,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
    ManifestIndex,
    build_image_manifest,
)
from pydocker.images.registry.platforms import compatible, select
from pydocker.images.registry.transport import INDEX_SERVER, resolve_endpoint

D1, D2, D3 = ("sha256:" + c * 64 for c in "abc")


# --- WWW-Authenticate -----------------------------------------------------------------

def test_bearer_challenge() -> None:
    [challenge] = parse_challenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"')
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.docker.io/token"
    assert challenge.service == "registry.docker.io"
    assert challenge.params["scope"] == "repository:library/busybox:pull"


def test_basic_challenge_and_several_in_one_header() -> None:
    basic, bearer = parse_challenges(
        'Basic realm="basic-realm", Bearer realm="http://t/token", error="insufficient_scope"')
    assert (basic.scheme, basic.realm) == ("basic", "basic-realm")
    assert (bearer.scheme, bearer.params["error"]) == ("bearer", "insufficient_scope")


def test_challenge_quoting_and_case() -> None:
    [challenge] = parse_challenges('BEARER Realm="a \\"quoted\\" realm" , service=svc')
    assert challenge.scheme == "bearer"
    assert challenge.realm == 'a "quoted" realm' and challenge.service == "svc"
    assert parse_challenges("") == []


# --- platforms ------------------------------------------------------------------------

def test_platform_normalisation_and_parsing() -> None:
    assert Platform("linux", "x86_64").normalized() == Platform("linux", "amd64")
    assert Platform("linux", "aarch64", "v8").normalized() == Platform("linux", "arm64")
    assert Platform("linux", "armhf").normalized() == Platform("linux", "arm", "v7")
    assert Platform("linux", "arm").normalized() == Platform("linux", "arm", "v7")
    assert parse_platform("linux/arm/v6") == Platform("linux", "arm", "v6")
    assert str(parse_platform("Linux/AMD64")) == "linux/amd64"
    with pytest.raises(InvalidParameter):
        parse_platform("linux//")


def test_compatible_platforms_in_preference_order() -> None:
    assert [str(p) for p in compatible(Platform("linux", "arm", "v7"))] == \
        ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]
    assert [str(p) for p in compatible(Platform("linux", "amd64", "v3"))] == \
        ["linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"]
    assert str(compatible(Platform("linux", "arm64"))[1]) == "linux/arm/v8"


def test_select_prefers_the_exact_match_then_the_closest() -> None:
    entries = [Platform("linux", "arm", "v6"), None, Platform("linux", "arm", "v7"),
               Platform("windows", "amd64"), Platform("linux", "amd64")]
    assert select(entries, Platform("linux", "amd64")) == 4
    assert select(entries, Platform("linux", "arm", "v7")) == 2
    assert select(entries, Platform("linux", "arm", "v8")) == 2
    assert select(entries[:1], Platform("linux", "arm", "v7")) == 0
    with pytest.raises(NotFound) as caught:
        select(entries[:3], Platform("linux", "amd64"))
    assert str(caught.value) == "no matching manifest for linux/amd64 in the manifest list entries"
    with pytest.raises(NotFound, match="linux/arm/v5 in"):
        select(entries, Platform("linux", "arm", "v5"))


# --- manifests ------------------------------------------------------------------------

def test_schema2_round_trip_with_foreign_layer() -> None:
    config = Descriptor(DOCKER_CONFIG, D1, 10)
    layers = [Descriptor(DOCKER_LAYER, D2, 20),
              Descriptor(DOCKER_FOREIGN_LAYER, D3, 30, urls=("https://example.com/l",))]
    parsed = parse_manifest(build_image_manifest(config, layers), DOCKER_MANIFEST)
    assert isinstance(parsed, ImageManifest)
    assert parsed.media_type == DOCKER_MANIFEST and parsed.config == config
    assert parsed.layers == tuple(layers)
    assert [layer.foreign for layer in parsed.layers] == [False, True]
    assert parsed.layers[1].urls == ("https://example.com/l",)
    assert parsed.layers[0].short_id == "b" * 12


def test_oci_manifest_without_media_type_and_its_compressions() -> None:
    doc = {"schemaVersion": 2, "config": {"mediaType": "x", "digest": D1, "size": 1},
           "layers": [{"mediaType": OCI_LAYER, "digest": D2, "size": 2},
                      {"mediaType": OCI_LAYER_ZSTD, "digest": D3, "size": 3}]}
    parsed = parse_manifest(json.dumps(doc).encode(), "application/octet-stream")
    assert isinstance(parsed, ImageManifest) and parsed.media_type == OCI_MANIFEST
    assert [layer.compression for layer in parsed.layers] == ["", "zstd"]


def test_index_with_platforms() -> None:
    doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": D1, "size": 5,
         "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        {"mediaType": OCI_MANIFEST, "digest": D2, "size": 5,
         "platform": {"os": "unknown", "architecture": "unknown"}}]}
    parsed = parse_manifest(json.dumps(doc).encode(), OCI_INDEX)
    assert isinstance(parsed, ManifestIndex)
    assert parsed.platforms() == [Platform("linux", "arm", "v7"),
                                  Platform("unknown", "unknown")]


@pytest.mark.parametrize(("doc", "media_type", "message"), [
    ({"schemaVersion": 1}, DOCKER_MANIFEST, "unsupported manifest schema version 1"),
    ({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": []}, DOCKER_MANIFEST,
     "mediaType in manifest should be"),
    ({"schemaVersion": 2, "config": {"digest": "sha256:zz", "size": 1}, "layers": []},
     DOCKER_MANIFEST, "invalid checksum digest format"),
    ({"schemaVersion": 2, "config": {"digest": D1, "size": -1}, "layers": []},
     DOCKER_MANIFEST, "invalid descriptor size"),
    ({"schemaVersion": 2}, "text/plain", "unsupported manifest media type"),
])
def test_invalid_manifests(doc, media_type, message) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_manifest(json.dumps(doc).encode(), media_type)


def test_manifest_too_large() -> None:
    with pytest.raises(InvalidParameter, match="manifest too large"):
        parse_manifest(b" " * (4 << 20) + b"{}", DOCKER_MANIFEST)


# --- endpoints and errors -------------------------------------------------------------

def test_endpoints() -> None:
    hub = resolve_endpoint("docker.io")
    assert [b.url for b in hub.bases] == ["https://registry-1.docker.io"]
    assert hub.auth_key == INDEX_SERVER and hub.bases[0].verify_tls
    local = resolve_endpoint("127.0.0.2:5000")
    assert [b.url for b in local.bases] == ["http://127.0.0.2:5000", "https://127.0.0.2:5000"]
    assert resolve_endpoint("localhost:5000").bases[0].url == "http://localhost:5000"
    assert resolve_endpoint("[::1]:5000").bases[0].url == "http://[::1]:5000"
    remote = resolve_endpoint("registry.example.com")
    assert [(b.url, b.verify_tls) for b in remote.bases] == \
        [("https://registry.example.com", True)]
    insecure = resolve_endpoint("10.1.2.3:5000", ["10.0.0.0/8"])
    assert [(b.url, b.verify_tls) for b in insecure.bases] == \
        [("https://10.1.2.3:5000", False), ("http://10.1.2.3:5000", False)]
    assert len(resolve_endpoint("reg.lan:5000", ["reg.lan:5000"]).bases) == 2


def test_error_wording() -> None:
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
    error = error_for(404, body, "manifest for x:y not found")
    assert isinstance(error, NotFound)
    assert str(error) == "manifest for x:y not found: manifest unknown: manifest unknown"
    denied = error_for(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication '
                            b'required"}]}')
    assert isinstance(denied, Unauthorized)
    assert str(denied) == "unauthorized: authentication required"
    assert str(error_for(500, b"")) == "received unexpected HTTP status: 500 Internal Server Error"


def test_retry_message() -> None:
    assert retry_message(5) == "Retrying in 5 seconds"
    assert retry_message(1) == "Retrying in 1 second"
