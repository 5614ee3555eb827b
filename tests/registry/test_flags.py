"""The daemon's registry flags, as dockerd names them."""

from __future__ import annotations

import pytest
from pydocker.engine.main import parse_args


def test_registry_flags_reach_the_config() -> None:
    config = parse_args(["--max-concurrent-downloads", "6", "--max-concurrent-uploads", "2",
                         "--insecure-registry", "10.0.0.0/8",
                         "--insecure-registry", "reg.local:5000",
                         "--registry-mirror", "https://mirror.example"])
    assert config.max_concurrent_downloads == 6
    assert config.max_concurrent_uploads == 2
    assert config.insecure_registries == ("10.0.0.0/8", "reg.local:5000")
    assert config.registry_mirrors == ("https://mirror.example",)


def test_defaults_are_dockerds() -> None:
    config = parse_args([])
    assert (config.max_concurrent_downloads, config.max_concurrent_uploads) == (3, 5)


def test_a_mirror_without_scheme_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--registry-mirror", "mirror.example"])
    assert 'invalid mirror: unsupported scheme in "mirror.example"' in capsys.readouterr().err
