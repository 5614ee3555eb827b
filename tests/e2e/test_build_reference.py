"""The same Dockerfile built by pydockerd and by a reference dockerd on this machine gives
images with the same config and history (runs only where that dockerd and its busybox are)."""

from __future__ import annotations

import io
import os
import re
from typing import Any

import docker
import pytest

pytestmark = [pytest.mark.root, pytest.mark.e2e]

REFERENCE = "/var/run/docker.sock"
DOCKERFILE = b"""\
FROM busybox
ARG LEVEL=2
LABEL a=1 "b c"="d e"
ENV ONE=1 TWO="two words"
ENV LEGACY legacy value
WORKDIR /srv/app
COPY Dockerfile ./
RUN echo $LEVEL > level
EXPOSE 80 53/udp
VOLUME /data /cache
USER nobody
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=2s --retries=4 CMD ["true"]
ONBUILD RUN echo child
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/echo"]
CMD hello
"""
KEYS = ("Cmd", "Entrypoint", "Labels", "ExposedPorts", "WorkingDir", "User", "Volumes",
        "Healthcheck", "StopSignal", "OnBuild", "Shell")


def _build(client: docker.DockerClient) -> tuple[dict[str, Any], list[str], list[str]]:
    base = client.images.get("busybox:latest")
    image, _ = client.images.build(fileobj=io.BytesIO(DOCKERFILE), rm=True, forcerm=True,
                                   nocache=True, network_mode="none")  # no bridge there
    try:
        history = [re.sub(r"file:[0-9a-f]{64}", "file:*", h["CreatedBy"])
                   for h in image.history()][:16]
        base_env = set(base.attrs["Config"].get("Env") or [])
        added = [e for e in image.attrs["Config"]["Env"] if e not in base_env]
        return {k: image.attrs["Config"].get(k) for k in KEYS}, added, history
    finally:
        client.images.remove(image.id, force=True)


def test_same_config_and_history_as_dockerd(client: docker.DockerClient, busybox: str) -> None:
    if not os.path.exists(REFERENCE):
        pytest.skip("no reference dockerd on this machine")
    reference = docker.DockerClient(base_url=f"unix://{REFERENCE}", version="1.41")
    try:
        try:
            reference.images.get("busybox:latest")
        except docker.errors.ImageNotFound:
            pytest.skip("the reference dockerd has no busybox:latest")
        ours, theirs = _build(client), _build(reference)
    finally:
        reference.close()
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]
    assert ours[2] == theirs[2]
