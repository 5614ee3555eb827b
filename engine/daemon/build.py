"""POST /build: the classic builder (images.build) run over the engine's services.

``EngineBuildHost`` is what the builder asks of the engine: containers made, started,
followed, waited for and removed through the container service (our runtime), their
writable layer to commit from, images found in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pydocker.api.models.auth import AuthConfig
from pydocker.api.models.build import BuildQuery
from pydocker.engine.config import DaemonConfig
from pydocker.engine.containers.logs import LogOptions, LogSource, read_logs
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.errors import NotFound, Unimplemented
from pydocker.engine.images import ImageService
from pydocker.engine.runtime.wire import FRAME
from pydocker.images import reference
from pydocker.images.archive import du
from pydocker.images.store import ImageStore

from .images import registry_auth

if TYPE_CHECKING:  # the builder is imported by the first build, not at daemon start
    from pydocker.images.build.builder import Builder
    from pydocker.images.build.context import Context
    from pydocker.images.build.host import BuildOptions

JSON = dict[str, Any]
# Context directories of the builds under way (their names in data_root/builder).
_ACTIVE: set[str] = set()


# Pulls one image (a normalised reference, a platform or "") and streams its progress.
Puller = Callable[[str, str], AsyncIterator[JSON]]


class EngineBuildHost:
    def __init__(self, containers: ContainerService, store: ImageStore, pull: Puller) -> None:
        self.containers, self.store, self._pull = containers, store, pull

    async def image_id(self, ref: str, *, pull: bool, platform: str) -> str:
        """A FROM image: the local one, or pulled (dockerd's classic builder pulls what it
        lacks, and everything with ``pull=1``)."""
        img = None if pull else await asyncio.to_thread(self.store.find, ref)
        if img is None:
            async for _ in self._pull(str(reference.parse(ref)), platform):
                pass  # the builder's own stream says which step pulls
            img = await asyncio.to_thread(self.store.find, ref)
            if img is None:
                raise NotFound(f"No such image: {ref}")
        return img.id

    async def create(self, image_id: str, config: JSON, host_config: JSON) -> str:
        # The step's output is read back from its log: json-file, whatever the daemon's
        # default driver (a "none" default would lose it).
        body = {**config, "Image": image_id,
                "HostConfig": {"LogConfig": {"Type": "json-file"}, **host_config},
                "AttachStdout": True, "AttachStderr": True}
        c, _ = await self.containers.create(None, body, None)
        return c.id

    async def run(self, container_id: str) -> AsyncIterator[tuple[int, bytes]]:
        await self.containers.start(container_id)
        c = self.containers.store.get(container_id)
        source = LogSource.of("json-file", self.containers.paths.json_log(container_id))
        pending = b""
        async for chunk in read_logs(source, LogOptions(follow=True), lambda: c.state.running):
            pending += chunk
            while len(pending) >= FRAME.size:
                fd, size = FRAME.unpack_from(pending)
                if len(pending) < FRAME.size + size:
                    break
                yield fd, pending[FRAME.size:FRAME.size + size]
                pending = pending[FRAME.size + size:]

    async def wait(self, container_id: str) -> int:
        return await (await self.containers.wait(container_id, "not-running"))

    def upper_dir(self, container_id: str) -> str:
        return str(self.containers.store.get(container_id).rootfs["upper"])

    async def remove(self, container_id: str) -> None:
        await self.containers.remove(container_id, force=True, volumes=True)


class BuildMethods:
    _config: DaemonConfig
    _containers: ContainerService
    _image_store: ImageStore
    _images: ImageService

    async def build(self, context: BinaryIO, query: BuildQuery
                    ) -> AsyncGenerator[JSON, None]:
        """Unpacks and checks first (a bad Dockerfile is a 400), then the stream."""
        from pydocker.images.build.builder import Builder
        from pydocker.images.build.context import Context
        options = build_options(query)
        scratch = self._config.data_root / "builder"
        ctx = await asyncio.to_thread(Context.unpack, context, scratch)
        _ACTIVE.add(ctx.root.name)
        try:
            host = EngineBuildHost(self._containers, self._image_store,
                                   self._puller(query.registry_config))
            builder = await asyncio.to_thread(Builder, self._image_store, host, ctx, options)
        except BaseException:
            _ACTIVE.discard(ctx.root.name)
            ctx.close()
            raise
        return _closing(builder, ctx)

    def _puller(self, auths: dict[str, AuthConfig]) -> Puller:
        """Pulls with the credentials X-Registry-Config holds for the image's registry."""
        def pull(ref: str, platform: str) -> AsyncIterator[JSON]:
            domain = reference.parse(ref).domain
            keys = [domain, f"https://{domain}", f"http://{domain}"] + (
                ["https://index.docker.io/v1/"] if domain == reference.DEFAULT_DOMAIN else [])
            auth = next((auths[k] for k in keys if k in auths), AuthConfig.model_validate({}))
            return self._images.distribution.pull(ref, "", platform, registry_auth(auth))
        return pull

    async def build_prune(self) -> JSON:
        """The classic builder's cache is its images (``docker image prune`` removes the
        dangling ones); what it can leave on its own is a context directory a killed daemon
        did not remove. Those go; a running build's stays."""
        return await asyncio.to_thread(prune_scratch, self._config.data_root / "builder")


def prune_scratch(scratch: Path) -> JSON:
    deleted: list[str] = []
    reclaimed = 0
    for entry in sorted(scratch.iterdir()) if scratch.is_dir() else []:
        if entry.name.split(".", 1)[0] in _ACTIVE:  # "<ctx>" and "<ctx>.from"
            continue  # a build under way: its context, and its COPY --from copies
        reclaimed += du(entry) if entry.is_dir() else entry.lstat().st_size
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        deleted.append(entry.name)
    return {"CachesDeleted": deleted or None, "SpaceReclaimed": reclaimed}


async def _closing(builder: Builder, ctx: Context) -> AsyncGenerator[JSON, None]:
    async def release() -> None:
        await asyncio.to_thread(ctx.close)
        _ACTIVE.discard(ctx.root.name)

    try:
        async with contextlib.aclosing(builder.run()) as items:
            async for obj in items:
                if "errorDetail" in obj:
                    # The context goes before the error does: a client that checks the disk
                    # on it (a full one) finds the space given back.
                    await release()
                yield obj
    finally:
        await release()


def build_options(query: BuildQuery) -> BuildOptions:
    """The wire query as the builder's options; RUN containers get its HostConfig."""
    from pydocker.images.build.host import BuildOptions
    if query.remote:
        raise Unimplemented("remote build contexts are not supported yet by pydocker")
    host_config: JSON = {"NetworkMode": query.network_mode or "default",
                         "ExtraHosts": query.extra_hosts or None}
    for key, value in (("ShmSize", query.shm_size), ("Memory", query.memory),
                       ("MemorySwap", query.memory_swap), ("CpuShares", query.cpu_shares),
                       ("CpusetCpus", query.cpuset_cpus), ("CpuPeriod", query.cpu_period),
                       ("CpuQuota", query.cpu_quota), ("Ulimits", query.ulimits or None)):
        if value:
            host_config[key] = value
    return BuildOptions(
        tags=query.tags, dockerfile=query.dockerfile, build_args=query.build_args,
        labels=query.labels, no_cache=query.no_cache, rm=query.rm, force_rm=query.force_rm,
        quiet=query.quiet, pull=query.pull, target=query.target, platform=query.platform,
        cache_from=query.cache_from, host_config=host_config)
