"""docker commit pauses a running container; one that exits meanwhile is committed anyway."""

from __future__ import annotations

import docker
import pytest

from .harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def test_commit_of_a_container_exiting_under_it(daemon: Daemon, client: docker.DockerClient,
                                                busybox: str) -> None:
    images = []
    try:
        for i in range(10):
            c = client.containers.run("busybox", ["touch", f"/file{i}"], detach=True)
            try:
                image = c.commit(repository="pydt-commit-race", tag=str(i))  # pause=True
                images.append(image.id)
                assert c.wait(timeout=10)["StatusCode"] == 0
                c.reload()
                assert c.status == "exited"  # not left paused
            finally:
                c.remove(force=True)
    finally:
        for image_id in images:
            client.images.remove(image_id, force=True)
