"""Shared pytest configuration: the ``root`` marker and the busybox rootfs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures.busybox import build_rootfs

IS_ROOT = os.geteuid() == 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT:
        return
    skip = pytest.mark.skip(reason="needs root (namespaces, mounts, iptables); CI runs as root")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only-by-convention busybox rootfs shared by the whole session."""
    return build_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")
