"""Fixtures for tests against a real pydockerd: a shared daemon and the busybox image."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.e2e.differential import Side, two_engines
from tests.e2e.harness import Daemon, leftovers
from tests.fixtures import pause
from tests.fixtures.busybox import rootfs_tar_bytes

pytestmark = pytest.mark.root


def _start(base: Path) -> Daemon:
    d = Daemon(base)
    d.start()
    return d


def _remove_all_containers(d: Daemon) -> None:
    if d.request("GET", "/containers/json")[0] == 404:
        return  # this build serves no containers yet
    client = d.client()
    try:
        for c in client.containers.list(all=True):
            c.remove(force=True)
    finally:
        client.close()


def _stop_and_check(d: Daemon) -> None:
    code = d.stop()
    assert code == 0, f"pydockerd exited {code}:\n{d.log()}"
    left = leftovers(d)
    assert not left, f"pydockerd left kernel state behind: {left}\n{d.log()}"


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the session; tests remove what they create."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    d = _start(tmp_path_factory.mktemp("pydockerd"))
    yield d
    _remove_all_containers(d)
    _stop_and_check(d)


@pytest.fixture
def fresh_daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon of the test's own, for restarts and kills."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    d = _start(tmp_path)
    yield d
    if d.proc is not None and d.proc.poll() is not None:
        d.start()  # the test killed it: a new one must clean up what it left
    _remove_all_containers(d)
    _stop_and_check(d)


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return rootfs_tar_bytes(tmp_path_factory.mktemp("busybox-tar"))


def import_busybox(d: Daemon, tar: bytes, name: str = "busybox") -> str:
    client = d.client()
    try:
        client.api.import_image_from_data(tar, repository=name, tag="latest",
                                          changes=['CMD ["sh"]'])
        return client.images.get(f"{name}:latest").id
    finally:
        client.close()


@pytest.fixture(scope="session")
def busybox(daemon: Daemon, busybox_tar: bytes) -> str:
    """The busybox image imported into the shared daemon; its ID."""
    return import_busybox(daemon, busybox_tar)


@pytest.fixture
def client(daemon: Daemon) -> Iterator[docker.DockerClient]:
    c = daemon.client()
    yield c
    c.close()


@pytest.fixture(scope="session")
def pause_image(daemon: Daemon, busybox: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A pod sandbox image: the static pause program, built here (tests/fixtures/pause.c)."""
    tar = pause.rootfs_tar_bytes(tmp_path_factory.mktemp("pause"))
    client = daemon.client()
    try:
        client.api.import_image_from_data(tar, repository="pydt-pause", tag="3.10",
                                          changes=['ENTRYPOINT ["/pause"]'])
    finally:
        client.close()
    return "pydt-pause:3.10"


@pytest.fixture(scope="module")
def sides(daemon: Daemon, busybox_tar: bytes, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Side, Side]]:
    """pydockerd and a reference dockerd, for the differential tests (skipped without)."""
    yield from two_engines(daemon, busybox_tar, tmp_path_factory)
