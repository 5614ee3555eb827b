"""/info's RegistryConfig follows the daemon's registry flags as dockerd's does."""

from __future__ import annotations

from pydocker.engine.system import registry_config


def test_loopback_is_always_insecure_and_nothing_else_by_default() -> None:
    conf = registry_config((), ())
    assert conf["InsecureRegistryCIDRs"] == ["127.0.0.0/8"]
    assert conf["IndexConfigs"] == {"docker.io": {"Name": "docker.io", "Mirrors": [],
                                                  "Secure": True, "Official": True}}


def test_cidrs_names_and_mirrors() -> None:
    conf = registry_config(("10.1.2.0/24", "registry.local:5000"), ("https://mirror.local",))
    assert conf["InsecureRegistryCIDRs"] == ["127.0.0.0/8", "10.1.2.0/24"]
    assert conf["IndexConfigs"]["registry.local:5000"]["Secure"] is False
    assert conf["Mirrors"] == ["https://mirror.local/"]
    assert conf["IndexConfigs"]["docker.io"]["Mirrors"] == ["https://mirror.local/"]
