"""The images a classic build leaves under its result, as dockerd treats them: hidden from
``docker images`` (shown with -a), kept by ``image prune``, not deletable while a child
stands, and deleted with the last image above them unless ``noprune``."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docker
import pytest
from docker.errors import APIError

from tests.e2e.conftest import import_busybox
from tests.e2e.harness import Daemon

pytestmark = [pytest.mark.root, pytest.mark.e2e]

THREE_STEPS = b"FROM busybox\nENV STEP=1\nLABEL step=2\nENV STEP=3\n"


def _build(client: docker.DockerClient, tag: str) -> list[str]:
    """Build; the image IDs from the result down to (not including) busybox."""
    image, _ = client.images.build(fileobj=io.BytesIO(THREE_STEPS), tag=tag, rm=True)
    chain = [image.id]
    while True:
        parent = client.api.inspect_image(chain[-1])["Parent"]
        if not parent or parent == client.images.get("busybox").id:
            return chain
        chain.append(parent)


@pytest.fixture
def client(fresh_daemon: Daemon, busybox_tar: bytes) -> Iterator[docker.DockerClient]:
    """A daemon of its own: each build step's container events stay out of the shared
    daemon's 256-event history, which other tests read."""
    import_busybox(fresh_daemon, busybox_tar)
    c = fresh_daemon.client()
    yield c
    c.close()


def _ids(client: docker.DockerClient, **kwargs: object) -> set[str]:
    return {i.id for i in client.images.list(**kwargs)}  # type: ignore[arg-type]


def test_step_images_hidden_kept_by_prune_and_pruned_with_their_child(
        client: docker.DockerClient) -> None:
    top, *steps = _build(client, "parents:one")
    try:
        assert len(steps) == 2
        assert top in _ids(client) and not set(steps) & _ids(client)
        assert set(steps) <= _ids(client, all=True)
        assert not set(steps) & _ids(client, filters={"dangling": True})
        with pytest.raises(APIError) as err:
            client.images.remove(steps[0], force=True)
        assert err.value.status_code == 409
        assert err.value.explanation == (
            f"conflict: unable to delete {steps[0][7:19]} (cannot be forced) - "
            "image has dependent child images")
        client.images.prune()
        assert set(steps) <= _ids(client, all=True)

        client.images.get(steps[0]).tag("parents", "mid")
        assert client.api.remove_image("parents:mid") == [{"Untagged": "parents:mid"}]
        assert set(steps) <= _ids(client, all=True)  # its child keeps it

        deleted = client.api.remove_image("parents:one")
        assert [d.get("Deleted") for d in deleted if d.get("Deleted") in {top, *steps}] == [
            top, *steps]
        assert not {top, *steps} & _ids(client, all=True)
    finally:
        for image_id in (top, *steps):
            if image_id in _ids(client, all=True):
                client.api.remove_image(image_id, force=True)


def test_noprune_keeps_the_steps_as_dangling_images(client: docker.DockerClient) -> None:
    top, *steps = _build(client, "parents:two")
    try:
        client.api.remove_image("parents:two", noprune=True)
        assert top not in _ids(client, all=True)
        assert _ids(client, filters={"dangling": True}) & set(steps) == {steps[0]}
    finally:
        client.api.remove_image(steps[0], force=True)  # and, pruned, the one under it
    assert not set(steps) & _ids(client, all=True)
