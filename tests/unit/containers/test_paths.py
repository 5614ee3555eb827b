"""ContainerPaths: every path of a container spelled in one place."""

from __future__ import annotations

from pathlib import Path

from pydocker.engine.containers.paths import ContainerPaths


def test_paths() -> None:
    paths = ContainerPaths(Path("/data/containers"), Path("/run/pydocker"))
    assert paths.state_dir("abc") == Path("/data/containers/abc")
    assert paths.json_log("abc") == Path("/data/containers/abc/abc-json.log")
    assert paths.netns("abc") == Path("/run/pydocker/netns/abc")
    assert paths.netns_dir == Path("/run/pydocker/netns")
    assert paths.bundle("abc") == Path("/run/pydocker/containers/abc")
    assert paths.local_log("abc") == Path("/data/containers/abc/local-logs/container.log")
    assert paths.log("abc", "local") == paths.local_log("abc")
    assert paths.log("abc", "json-file") == paths.json_log("abc")
    assert paths.inspect_paths("abc") == {
        "resolv": "/data/containers/abc/resolv.conf", "hostname": "/data/containers/abc/hostname",
        "hosts": "/data/containers/abc/hosts", "log": "/data/containers/abc/abc-json.log"}
    assert paths.inspect_paths("abc", log_driver="local")["log"] == ""  # json-file only
