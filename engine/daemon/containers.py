"""The container endpoints' methods: lifecycle by delegation, plus the views and streams
(logs, attach, stats, archive, export, commit) assembled from the container services."""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, BinaryIO

from pydocker.api.models.containers import (
    ContainerCommitConfig,
    ContainerCreateRequest,
    ContainerUpdateRequest,
)
from pydocker.engine.archive import Archives
from pydocker.engine.config import DaemonConfig
from pydocker.engine.containers import links, listing, logconfig, views
from pydocker.engine.containers.attach import ClientConn, attach, parse_detach_keys
from pydocker.engine.containers.logs import LogOptions, LogSource, read_logs
from pydocker.engine.containers.model import Container
from pydocker.engine.containers.namespaces import etc_owner
from pydocker.engine.containers.service import ContainerService
from pydocker.engine.containers.state import ContainerState
from pydocker.engine.containers.usage import rw_size
from pydocker.engine.errors import Conflict, InvalidParameter, NotFound, Unimplemented
from pydocker.engine.events import EventBus
from pydocker.engine.filesystem import Filesystem
from pydocker.engine.filters import prune_filter
from pydocker.images.store import ImageStore

JSON = dict[str, Any]


class ContainerMethods:
    _config: DaemonConfig
    _events: EventBus
    _containers: ContainerService
    _image_store: ImageStore
    _filesystem: Filesystem
    _archives: Archives

    # --- lifecycle: the container service's verbs ------------------------------------

    async def container_create(self, name: str | None, body: ContainerCreateRequest,
                               platform: str | None) -> tuple[str, list[str]]:
        c, warnings = await self._containers.create(name, body.wire(), platform)
        return c.id, warnings

    async def container_start(self, ref: str) -> None:
        await self._containers.start(ref)

    async def container_stop(self, ref: str, timeout: int | None, signal: str | None) -> None:
        await self._containers.stop(ref, timeout, signal)

    async def container_restart(self, ref: str, timeout: int | None, signal: str | None
                                ) -> None:
        await self._containers.restart(ref, timeout, signal)

    async def container_kill(self, ref: str, signal: str | None) -> None:
        await self._containers.kill(ref, signal)

    async def container_pause(self, ref: str) -> None:
        await self._containers.pause(ref)

    async def container_unpause(self, ref: str) -> None:
        await self._containers.unpause(ref)

    async def container_wait(self, ref: str, condition: str) -> Awaitable[int]:
        return await self._containers.wait(ref, condition)

    async def container_remove(self, ref: str, *, force: bool, volumes: bool) -> None:
        await self._containers.remove(ref, force=force, volumes=volumes)

    async def container_remove_link(self, ref: str) -> None:
        """``DELETE /containers/{container}/{alias}?link=1``: the link goes, not a container."""
        parent, sep, alias = ref.strip("/").rpartition("/")
        if not sep:
            raise Conflict(links.DEFAULT_LINK_REMOVAL)
        try:
            c = self._containers.store.get(parent)
        except NotFound:
            raise NotFound(f"No such container: {ref}") from None
        if not links.remove(c, alias):
            raise NotFound(f"No such container: {ref}")
        self._containers.store.save(c)

    async def container_rename(self, ref: str, new_name: str) -> None:
        await self._containers.rename(ref, new_name)

    async def container_update(self, ref: str, body: ContainerUpdateRequest) -> list[str]:
        return await self._containers.update(ref, body.wire())

    async def container_resize(self, ref: str, height: int, width: int) -> None:
        c = self._containers.store.get(ref)
        shim = self._containers.shims.get(c.id)
        if shim is None:
            raise Conflict(f"container {c.id} is not running")
        await shim.resize(height, width)
        self._containers.event(c, "resize", height=str(height), width=str(width))

    # --- views ------------------------------------------------------------------------

    async def container_inspect(self, ref: str, size: bool) -> JSON:
        c = self._containers.store.get(ref)
        sizes = await self._sizes(c) if size else None
        paths = self._containers.paths.inspect_paths(c.id, etc_owner(c),
                                                     logconfig.driver_of(c.host_config))
        return views.inspect(c, paths, sizes)

    async def _sizes(self, c: Container) -> dict[str, int]:
        """SizeRw (the writable layer's files) and SizeRootFs (that plus the image)."""
        rw = await asyncio.to_thread(rw_size, c)
        return {"rw": rw, "rootfs": rw + self._image_size(c.image_id)}

    def _image_size(self, image_id: str) -> int:
        try:
            return self._image_store.get(image_id).size
        except (NotFound, InvalidParameter):
            return 0

    def _image_matches(self, ref: str, c: Container) -> bool:
        if c.config.get("Image") == ref or c.image_id == ref or c.image_id.startswith(
                "sha256:" + ref):
            return True
        try:
            return self._image_store.get(ref).id == c.image_id
        except (NotFound, InvalidParameter):  # dockerd ignores an ancestor it cannot find
            return fnmatch.fnmatch(c.config.get("Image", ""), ref)

    async def container_list(self, *, all_: bool, limit: int | None, size: bool,
                             filters: dict[str, list[str]]) -> list[JSON]:
        everything = list(self._containers.store.all())
        selected = listing.select(everything, filters, all_=all_,
                                  limit=limit, image_matches=self._image_matches)
        out = listing.summaries(selected, lambda c: c.config.get("Image", ""),
                                self._containers.now_ns())
        link_names = links.names_by_target(everything)  # dockerd lists them among Names
        for c, summary in zip(selected, out, strict=True):
            summary["Names"] += link_names.get(summary["Id"], [])
            if size:
                sizes = await self._sizes(c)
                summary["SizeRw"], summary["SizeRootFs"] = sizes["rw"], sizes["rootfs"]
        return out

    async def containers_prune(self, filters: dict[str, list[str]]) -> JSON:
        selects = prune_filter(filters)
        deleted, reclaimed = [], 0
        for c in list(self._containers.store.all()):
            if c.state.running or not selects(c.config.get("Labels") or {}, c.created):
                continue
            size = await asyncio.to_thread(rw_size, c)  # measured before it is gone
            try:
                await self._containers.remove(c.id)
            except (Conflict, NotFound):
                continue
            deleted.append(c.id)
            reclaimed += size
        self._events.publish("container", "prune", "", {"reclaimed": str(reclaimed)})
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    async def container_top(self, ref: str, ps_args: str) -> JSON:
        from pydocker.engine.containers.top import top
        c = self._containers.store.get(ref)
        if not c.state.running:
            raise Conflict(f"container {c.id} is not running")
        processes = await top(c.state.pid, ps_args)
        self._containers.event(c, "top")
        return processes

    async def container_changes(self, ref: str) -> list[JSON] | None:
        return await self._filesystem.changes(ref)

    # --- streams ----------------------------------------------------------------------

    def container_logs(self, ref: str, *, stdout: bool, stderr: bool, since: float,
                       until: float, tail: int, timestamps: bool, follow: bool,
                       details: bool = False
                       ) -> tuple[bool, AsyncGenerator[bytes, None]]:
        """docker logs: (tty, chunks to send). Errors come before the first byte."""
        c = self._containers.store.get(ref)
        if not (stdout or stderr):
            raise InvalidParameter("Bad parameters: you must choose at least one stream")
        if not logconfig.keeps_logs(c.host_config):
            raise Unimplemented(logconfig.NOT_READABLE)
        tty = bool(c.config.get("Tty"))
        opts = LogOptions(stdout=stdout, stderr=stderr, since_ns=int(since * 1e9),
                          until_ns=int(until * 1e9), tail=tail, timestamps=timestamps,
                          follow=follow, tty=tty, details=details)
        return tty, read_logs(self._log_source(c), opts, lambda: c.state.running)

    def _log_source(self, c: Container) -> LogSource:
        driver = logconfig.driver_of(c.host_config)
        return LogSource.of(driver, self._containers.paths.log(c.id, driver))

    def container_attach_target(self, ref: str, detach_keys: str | None
                                ) -> tuple[str, bool, bytes]:
        c = self._containers.store.get(ref)
        if c.state.status is ContainerState.PAUSED:
            raise Conflict(f"container {c.id} is paused, unpause the container before attach.")
        return c.id, bool(c.config.get("Tty")), parse_detach_keys(detach_keys)

    async def container_attach(self, container_id: str, conn: ClientConn, *, logs: bool,
                               stream: bool, stdin: bool, stdout: bool, stderr: bool,
                               detach_keys: bytes) -> None:
        """The logged output first (``logs``), then the live streams (``stream``)."""
        c = self._containers.store.get(container_id)
        if logs:
            opts = LogOptions(stdout=stdout, stderr=stderr, tty=bool(c.config.get("Tty")))
            async for chunk in read_logs(self._log_source(c), opts, lambda: False):
                await conn.write(chunk)
        if stream:
            await attach(self._containers, c, conn, stdin=stdin, stdout=stdout, stderr=stderr,
                         detach_keys=detach_keys)

    def container_stats(self, ref: str, *, stream: bool, one_shot: bool
                        ) -> AsyncGenerator[JSON, None]:
        """Samples a second apart while ``stream`` and the container runs; else one.
        The lookup happens now, so an unknown container is a 404 before the stream."""
        return self._stats_samples(self._containers.store.get(ref), stream, one_shot)

    async def _stats_samples(self, c: Container, stream: bool, one_shot: bool
                             ) -> AsyncGenerator[JSON, None]:
        previous = None
        if not stream and not one_shot and c.state.running:
            previous = await self._stats_sample(c, None)  # so precpu_stats is filled
            await asyncio.sleep(1)
        while True:
            current = await self._stats_sample(c, previous)
            yield current
            if not stream or not c.state.running:
                return
            previous = current
            await asyncio.sleep(1)

    async def _stats_sample(self, c: Container, previous: JSON | None) -> JSON:
        from pydocker.engine.containers.stats import sample
        shim = self._containers.shims.get(c.id)
        raw = await asyncio.to_thread(shim.stats) if shim is not None else None
        return sample(c, raw, previous)

    # --- filesystem -------------------------------------------------------------------

    async def container_export(self, ref: str) -> Callable[[BinaryIO], Awaitable[None]]:
        self._containers.store.get(ref)  # a 404 before the stream starts
        return lambda out: self._filesystem.export(ref, out)

    async def container_archive_stat(self, ref: str, path: str) -> JSON:
        return await self._archives.stat(ref, path)

    async def container_archive_get(self, ref: str, path: str,
                                    start: Callable[[JSON], Awaitable[None]], out: BinaryIO
                                    ) -> None:
        await self._archives.get(ref, path, start, out)

    async def container_archive_put(self, ref: str, path: str, stream: BinaryIO, *,
                                    copy_uid_gid: bool, no_overwrite_dir_non_dir: bool
                                    ) -> None:
        await self._archives.put(ref, path, stream, copy_uid_gid=copy_uid_gid,
                                 no_overwrite_dir_non_dir=no_overwrite_dir_non_dir)

    async def container_commit(self, ref: str, *, repo: str, tag: str, comment: str,
                               author: str, pause: bool, changes: list[str],
                               config: ContainerCommitConfig) -> str:
        return await self._filesystem.commit(ref, repo=repo, tag=tag, comment=comment,
                                             author=author, pause=pause, changes=changes,
                                             config=config.wire() or None)
