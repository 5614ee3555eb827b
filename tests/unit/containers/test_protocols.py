"""The real collaborators satisfy the Protocols engine.containers declares.

The check is mypy's (the lint gate runs it over tests/): each assignment below is a
type error the moment a real class drifts from what the container service calls.
"""

from __future__ import annotations

from pydocker.engine.containers import protocols
from pydocker.engine.networking import ContainerNetworking
from pydocker.engine.runtime.client import ExecProcess, ExitStatus, Runtime, Shim
from pydocker.engine.volumes import VolumeService
from pydocker.images.store import Image, ImageStore


def conform(images: ImageStore, image: Image, runtime: Runtime, shim: Shim,
            process: ExecProcess, status: ExitStatus, networking: ContainerNetworking,
            volumes: VolumeService) -> None:
    image_source: protocols.ImageSource = images
    image_record: protocols.ImageRecord = image
    container_runtime: protocols.ContainerRuntime = runtime
    shim_handle: protocols.ShimHandle = shim
    process_handle: protocols.ProcessHandle = process
    exit_info: protocols.ExitInfo = status
    network: protocols.Networking = networking
    volume_service: protocols.Volumes = volumes
    del (image_source, image_record, container_runtime, shim_handle, process_handle,
         exit_info, network, volume_service)


def test_protocols_are_importable() -> None:
    assert conform.__annotations__  # the check itself is static (see the docstring)
