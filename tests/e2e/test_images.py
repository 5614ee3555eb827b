"""The image store through the docker CLI and docker-py: import, save/load, tags, rmi."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import docker
import pytest

from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_import_with_changes_and_inspect(daemon: Daemon, busybox_tar: bytes,
                                         tmp_path: Path) -> None:
    path = tmp_path / "rootfs.tar"
    path.write_bytes(busybox_tar)
    daemon.cli("import", "-c", "ENV FOO=bar", "-c", 'CMD ["sh"]', "-c", "WORKDIR /tmp",
               "-m", "imported for a test", str(path), "imported:v1")
    info = json.loads(daemon.cli("image", "inspect", "imported:v1").stdout)[0]
    assert info["RepoTags"] == ["imported:v1"]
    assert info["Config"]["Env"] == ["FOO=bar"]
    assert info["Config"]["WorkingDir"] == "/tmp"
    assert info["RootFS"]["Type"] == "layers" and len(info["RootFS"]["Layers"]) == 1
    assert info["Os"] == "linux"
    history = daemon.cli("history", "--format", "{{.Comment}}", "imported:v1").stdout
    assert "imported for a test" in history
    out = daemon.cli("run", "--rm", "imported:v1", "sh", "-c", "echo $FOO; pwd")
    assert out.stdout == "bar\n/tmp\n"
    daemon.cli("rmi", "imported:v1")


def test_tag_list_filter_and_rmi(daemon: Daemon, client: docker.DockerClient,
                                 busybox: str) -> None:
    daemon.cli("tag", "busybox", "mybox:one")
    daemon.cli("tag", "busybox", "registry.local:5000/team/mybox:two")
    listed = daemon.cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert {"busybox:latest", "mybox:one", "registry.local:5000/team/mybox:two"} <= set(listed)
    refs = daemon.cli("images", "--filter", "reference=mybox", "-q").stdout.split()
    assert len(refs) == 1
    out = daemon.cli("rmi", "mybox:one").stdout
    assert "Untagged: mybox:one" in out
    assert "Deleted" not in out  # still tagged elsewhere
    daemon.cli("rmi", "registry.local:5000/team/mybox:two")
    assert client.images.get("busybox").id == busybox


def test_rmi_refuses_an_image_a_container_uses(daemon: Daemon, client: docker.DockerClient,
                                               busybox: str) -> None:
    daemon.cli("tag", "busybox", "inuse:latest")
    c = client.containers.create("inuse", "true")
    try:
        daemon.cli("rmi", "inuse")  # another name remains: untag only
        with pytest.raises(docker.errors.APIError) as err:
            client.images.remove(busybox)
        assert err.value.status_code == 409
    finally:
        c.remove()


def test_unknown_image_and_bad_reference(daemon: Daemon) -> None:
    status, _, body = daemon.request("GET", "/images/nosuch:tag/json")
    assert status == 404
    assert json.loads(body)["message"] == "No such image: nosuch:tag"
    status, _, body = daemon.request("POST", "/images/busybox/tag?repo=Bad%20Name")
    assert status == 400
    assert "invalid reference format" in json.loads(body)["message"]


def test_save_and_load_roundtrip_keeps_ids(daemon: Daemon, client: docker.DockerClient,
                                           busybox: str, tmp_path: Path) -> None:
    archive = tmp_path / "busybox.tar"
    daemon.cli("tag", "busybox", "roundtrip:latest")
    daemon.cli("save", "-o", str(archive), "roundtrip:latest")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "index.json", "oci-layout", "repositories"} <= names
    daemon.cli("rmi", "roundtrip:latest")
    out = daemon.cli("load", "-i", str(archive)).stdout
    assert "Loaded image: roundtrip:latest" in out
    assert client.images.get("roundtrip:latest").id == busybox
    daemon.cli("rmi", "roundtrip:latest")


def test_load_of_an_oci_layout_made_by_skopeo(daemon: Daemon, busybox: str,
                                              tmp_path: Path) -> None:
    ours = tmp_path / "ours.tar"
    daemon.cli("save", "-o", str(ours), "busybox")
    oci = tmp_path / "oci"
    subprocess.run(["skopeo", "copy", "--quiet", f"docker-archive:{ours}",
                    f"oci:{oci}:skopeo/box:1"], check=True, capture_output=True)
    packed = tmp_path / "oci.tar"
    with tarfile.open(packed, "w") as tar:
        for entry in oci.iterdir():
            tar.add(entry, arcname=entry.name)
    out = daemon.cli("load", "-i", str(packed)).stdout
    assert "Loaded image" in out
    assert daemon.cli("run", "--rm", busybox[7:19], "true").returncode == 0


def test_corrupt_and_hostile_archives_leave_nothing(daemon: Daemon, client: docker.DockerClient,
                                                    busybox: str, tmp_path: Path) -> None:
    before = {i.id for i in client.images.list(all=True)}
    hostile = layer_tar({"../../escape": b"x", "ok": b"y"})
    with pytest.raises(docker.errors.APIError):
        client.api.import_image_from_data(hostile, repository="hostile")
    truncated = layer_tar({"a": b"z" * 4096})[:1500]
    with pytest.raises(docker.errors.APIError):
        client.api.import_image_from_data(truncated, repository="truncated")
    manifest = json.dumps([{"Config": "blobs/sha256/" + "0" * 64, "RepoTags": ["x:y"],
                            "Layers": []}]).encode()
    bad = layer_tar({"manifest.json": manifest})
    with pytest.raises(docker.errors.ImageLoadError):  # dockerd's 200 + in-band error
        list(client.images.load(bad))
    assert {i.id for i in client.images.list(all=True)} == before
    assert not (daemon.base / "escape").exists()
    tmp = daemon.data_root / "image" / "tmp"
    assert not any(tmp.iterdir())


def test_prune_removes_dangling_only(daemon: Daemon, client: docker.DockerClient,
                                     busybox: str) -> None:
    data = layer_tar({"hello.txt": b"hi"})
    client.api.import_image_from_data(data)  # no name: dangling
    result = client.images.prune()
    assert result["ImagesDeleted"]
    assert client.images.get("busybox").id == busybox


def test_load_of_the_legacy_layout_docker_20_writes(daemon: Daemon, busybox_tar: bytes,
                                                   client: docker.DockerClient,
                                                   tmp_path: Path) -> None:
    """<layer id>/layer.tar + <config digest>.json + manifest.json, as `docker save` of
    Docker 20.10 writes it (and as later versions still load it)."""
    import hashlib
    layer = layer_tar({"legacy.txt": b"from docker 20\n"})
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["cat", "/legacy.txt"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "history": [{"created": "2024-01-01T00:00:00Z"}]}).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    layer_dir = "a" * 64
    archive = layer_tar({
        f"{layer_dir}/layer.tar": layer, f"{layer_dir}/VERSION": b"1.0",
        f"{config_hex}.json": config,
        "manifest.json": json.dumps([{"Config": f"{config_hex}.json",
                                      "RepoTags": ["legacy:20"],
                                      "Layers": [f"{layer_dir}/layer.tar"]}]).encode(),
        "repositories": json.dumps({"legacy": {"20": layer_dir}}).encode()})
    path = tmp_path / "legacy.tar"
    path.write_bytes(archive)
    assert "Loaded image: legacy:20" in daemon.cli("load", "-i", str(path)).stdout
    assert client.images.get("legacy:20").id == "sha256:" + config_hex
    daemon.cli("rmi", "legacy:20")


def test_layer_digest_mismatch_is_refused(daemon: Daemon, client: docker.DockerClient,
                                          tmp_path: Path) -> None:
    layer = layer_tar({"f": b"x"})
    config = json.dumps({"os": "linux", "rootfs": {"type": "layers",
                                                   "diff_ids": ["sha256:" + "0" * 64]}}).encode()
    import hashlib
    config_hex = hashlib.sha256(config).hexdigest()
    archive = layer_tar({"blobs/sha256/" + config_hex: config, "layer.tar": layer,
                         "manifest.json": json.dumps([{"Config": "blobs/sha256/" + config_hex,
                                                       "RepoTags": ["mismatch:1"],
                                                       "Layers": ["layer.tar"]}]).encode()})
    before = {i.id for i in client.images.list(all=True)}
    (tmp_path / "m.tar").write_bytes(archive)
    out = daemon.cli("load", "-i", str(tmp_path / "m.tar"), check=False)
    assert out.returncode != 0
    assert "digest mismatch" in out.stderr
    assert {i.id for i in client.images.list(all=True)} == before


def test_load_streams_layers_shared_and_odd_blobs(daemon: Daemon, client: docker.DockerClient,
                                                  tmp_path: Path) -> None:
    """Layers are extracted as the archive streams past: one blob used at two places in
    two chains, an empty (all-zero) layer, and a gzip blob no manifest names all load; the
    saved images give back the very same layer bytes."""
    import gzip
    import hashlib
    base, top = layer_tar({"base": b"b\n"}), layer_tar({"top": b"t\n"})
    empty = b"\0" * 1024
    blobs = {"base.tar": base, "top.tar": top, "empty.tar": empty,
             "attestation.gz": gzip.compress(b"not a tar")}

    def config(*layers: bytes) -> bytes:
        return json.dumps({"os": "linux", "architecture": "amd64",
                           "config": {"Cmd": ["cat", "/top"]},
                           "rootfs": {"type": "layers", "diff_ids": [
                               "sha256:" + hashlib.sha256(x).hexdigest() for x in layers]}
                           }).encode()

    first, second = config(base, top, empty), config(top, base)
    files = dict(blobs)
    manifest = []
    for tag, cfg, layers in (("stream:one", first, ["base.tar", "top.tar", "empty.tar"]),
                             ("stream:two", second, ["top.tar", "base.tar"])):
        name = hashlib.sha256(cfg).hexdigest() + ".json"
        files[name] = cfg
        manifest.append({"Config": name, "RepoTags": [tag], "Layers": layers})
    files["manifest.json"] = json.dumps(manifest).encode()
    (tmp_path / "s.tar").write_bytes(layer_tar(files))
    out = daemon.cli("load", "-i", str(tmp_path / "s.tar")).stdout
    assert "Loaded image: stream:one" in out and "Loaded image: stream:two" in out
    try:
        saved = b"".join(client.images.get("stream:two").save(named=True))
        with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
            layers = json.load(tar.extractfile("manifest.json"))[0]["Layers"]  # type: ignore[arg-type]
            got = [tar.extractfile(name).read() for name in layers]  # type: ignore[union-attr]
        assert got == [top, base]
    finally:
        daemon.cli("rmi", "stream:one", "stream:two")


def test_load_skips_layers_the_store_holds(daemon: Daemon, client: docker.DockerClient,
                                           busybox: str, tmp_path: Path) -> None:
    """A blob named by the digest of a layer we hold is not extracted again (as when
    loading an image that shares base layers): even its bytes are not read. At another
    chain position the stored copy is rebuilt into place."""
    import hashlib
    top = layer_tar({"top": b"t\n"})
    top_hex = hashlib.sha256(top).hexdigest()
    busybox_diffs = client.images.get(busybox).attrs["RootFS"]["Layers"]

    def archive(tag: str, blobs: dict[str, bytes], diff_ids: list[str]) -> Path:
        cfg = json.dumps({"os": "linux", "architecture": "amd64",
                          "config": {"Cmd": ["cat", "/top"]},
                          "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        cfg_name = "blobs/sha256/" + hashlib.sha256(cfg).hexdigest()
        files = {**blobs, cfg_name: cfg, "manifest.json": json.dumps([{
            "Config": cfg_name, "RepoTags": [tag], "Layers": list(blobs)}]).encode()}
        path = tmp_path / f"{tag.replace(':', '-')}.tar"
        path.write_bytes(layer_tar(files))
        return path

    # busybox's layers, then top: top is extracted once, at chain (busybox, top).
    first = archive("known:one", {**{f"blobs/sha256/{d[7:]}": b"never read" for d in
                                     busybox_diffs}, f"blobs/sha256/{top_hex}": top},
                    [*busybox_diffs, f"sha256:{top_hex}"])
    # top alone: held at another position, named by digest, bytes garbage.
    second = archive("known:two", {f"blobs/sha256/{top_hex}": b"garbage, never read"},
                     [f"sha256:{top_hex}"])
    try:
        daemon.cli("load", "-i", str(first))
        daemon.cli("load", "-i", str(second))
        assert daemon.cli("run", "--rm", "known:one").stdout == "t\n"
        saved = b"".join(client.images.get("known:two").save(named=True))
        with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
            layers = json.load(tar.extractfile("manifest.json"))[0]["Layers"]  # type: ignore[arg-type]
            assert tar.extractfile(layers[0]).read() == top  # type: ignore[union-attr]
    finally:
        daemon.cli("rmi", "known:one", "known:two")


def test_xz_layers_load_import_run_and_save_as_tars(daemon: Daemon, client: docker.DockerClient,
                                                     busybox: str, busybox_tar: bytes,
                                                     tmp_path: Path) -> None:
    """An xz-compressed layer (docker load and import accept xz, like gzip, bzip2 and zstd)
    is extracted, runs, and is saved as the uncompressed tar its diff ID is the digest of."""
    import hashlib
    import lzma
    top = layer_tar({"hello": b"from xz\n"})
    top_id = "sha256:" + hashlib.sha256(top).hexdigest()
    base_ids = client.images.get(busybox).attrs["RootFS"]["Layers"]
    cfg = json.dumps({"os": "linux", "architecture": "amd64", "config": {"Cmd": ["cat", "/hello"]},
                      "rootfs": {"type": "layers", "diff_ids": [*base_ids, top_id]}}).encode()
    cfg_name = "blobs/sha256/" + hashlib.sha256(cfg).hexdigest()
    blobs = {f"blobs/sha256/{d[7:]}": b"held already, never read" for d in base_ids}
    blobs["top.tar.xz"] = lzma.compress(top, format=lzma.FORMAT_XZ)
    (tmp_path / "xz.tar").write_bytes(layer_tar({**blobs, cfg_name: cfg, "manifest.json": json.dumps(
        [{"Config": cfg_name, "RepoTags": ["xzlayer:1"], "Layers": list(blobs)}]).encode()}))
    (tmp_path / "rootfs.tar.xz").write_bytes(lzma.compress(busybox_tar, format=lzma.FORMAT_XZ))
    try:
        assert "Loaded image: xzlayer:1" in daemon.cli("load", "-i", str(tmp_path / "xz.tar")).stdout
        assert daemon.cli("run", "--rm", "xzlayer:1").stdout == "from xz\n"
        saved = b"".join(client.images.get("xzlayer:1").save(named=True))
        with tarfile.open(fileobj=io.BytesIO(saved)) as tar:
            layers = json.load(tar.extractfile("manifest.json"))[0]["Layers"]  # type: ignore[arg-type]
            assert tar.extractfile(layers[-1]).read() == top  # type: ignore[union-attr]
        daemon.cli("import", str(tmp_path / "rootfs.tar.xz"), "xzroot:1")
        out = daemon.cli("run", "--rm", "xzroot:1", "sh", "-c", "echo imported")
        assert out.stdout == "imported\n"
        assert client.images.get("xzroot:1").attrs["RootFS"]["Layers"] == base_ids
    finally:
        daemon.cli("rmi", "xzlayer:1", "xzroot:1", check=False)
