"""The image endpoints' backend: the store plus events and the containers' in-use view."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from pydocker.engine.config import DaemonConfig
from pydocker.engine.events import EventBus
from pydocker.images import reference, views
from pydocker.images.store import ImageStore, chain_ids

if TYPE_CHECKING:  # the registry side is imported by its first use, not at daemon start
    from pydocker.images.distribution.service import Distribution, RegistryOptions


class ImageService:
    def __init__(self, store: ImageStore, events: EventBus,
                 users: Callable[[str], list[tuple[str, bool]]],
                 config: DaemonConfig | None = None) -> None:
        self.store = store
        self.events = events
        self.users = users
        self._config = config or DaemonConfig()
        self._distribution: Distribution | None = None

    @property
    def distribution(self) -> Distribution:
        """Pull, push, login and search: made (and imported) on the first registry call, so
        a daemon that never talks to a registry does not carry the client."""
        if self._distribution is None:
            from pydocker.images.distribution.service import Distribution
            self._distribution = Distribution(self.store, registry_options(self._config),
                                              self._event_by_name)
        return self._distribution

    def reconfigure(self, config: DaemonConfig) -> None:
        self._config = config
        if self._distribution is not None:
            self._distribution.reconfigure(registry_options(config))

    async def close(self) -> None:
        """At daemon shutdown: the registry session goes."""
        if self._distribution is not None:
            await self._distribution.close()

    def _event_by_name(self, action: str, ref: str, repository: str) -> None:
        """dockerd's pull and push events: the reference as ID, its repository as name."""
        self._event(action, ref, repository)

    def _event(self, action: str, image_id: str, name: str = "") -> None:
        """dockerd's image events carry the image's labels too (``--filter label=``)."""
        self.events.publish("image", action, image_id,
                            {**self.store.labels(image_id), "name": name or image_id})

    async def import_rootfs(self, stream: BinaryIO, *, repo_tag: str | None,
                            changes: list[str], message: str, platform: str | None) -> str:
        image_id = await asyncio.to_thread(self.store.import_rootfs, stream, repo_tag=repo_tag,
                                           changes=changes, message=message, platform=platform)
        if repo_tag:  # dockerd tags first, then reports the import under the image's ID
            self._event("tag", image_id, repo_tag)
        self._event("import", image_id)
        return image_id

    async def import_progress(self, stream: BinaryIO, *, repo: str | None, tag: str,
                              changes: builtins.list[str], message: str, platform: str | None
                              ) -> AsyncGenerator[dict[str, Any], None]:
        """``docker import``'s answer: one progress object, the new image's ID."""
        repo_tag = f"{repo}:{tag}" if repo and tag else repo
        yield {"status": await self.import_rootfs(stream, repo_tag=repo_tag, changes=changes,
                                                  message=message, platform=platform)}

    async def inspect(self, ref: str) -> dict[str, Any]:
        img = await asyncio.to_thread(self.store.get, ref)
        return views.inspect(img, self.store.lower_dirs(img.id))

    async def history(self, ref: str) -> list[dict[str, Any]]:
        img = await asyncio.to_thread(self.store.get, ref)
        sizes = [self.store.layer_size(c) for c in chain_ids(img.diff_ids)]
        return views.history(img, sizes)

    async def list(self, *, all_: bool, filters: dict[str, list[str]], digests: bool
                   ) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.store.list, all=all_, filters=filters,
                                       digests=digests)

    async def tag(self, ref: str, repo: str, tag: str) -> None:
        image_id = await asyncio.to_thread(self.store.resolve, ref)
        await asyncio.to_thread(self.store.tag, image_id, repo, tag)
        self._event("tag", image_id, f"{repo}:{tag or 'latest'}")

    async def delete(self, ref: str, *, force: bool, noprune: bool
                     ) -> builtins.list[dict[str, str]]:
        images, names = set(self.store.ids()), self._names_by_image()
        out = await asyncio.to_thread(self.store.delete, ref, force=force, noprune=noprune,
                                      users=self.users)
        self._removal_events(out, images, names)
        return out

    async def prune(self, filters: dict[str, builtins.list[str]]) -> dict[str, Any]:
        dangling = (filters.get("dangling") or ["true"])[0].lower() not in ("false", "0")
        images, names = set(self.store.ids()), self._names_by_image()
        out = await asyncio.to_thread(self.store.prune, dangling_only=dangling,
                                      filters=filters, users=self.users)
        self._removal_events(out.get("ImagesDeleted") or [], images, names)
        self.events.publish("image", "prune", "",
                            {"reclaimed": str(out["SpaceReclaimed"])})
        return out

    def _names_by_image(self) -> dict[str, str]:
        """Every name and the image it points at, taken before a removal: once untagged, a
        name no longer tells which image it was."""
        return {reference.parse(ref).familiar(): image_id for image_id in self.store.ids()
                for ref in self.store.refs_of(image_id)}

    def _removal_events(self, report: builtins.list[dict[str, str]],
                        images: set[str], names: dict[str, str]) -> None:
        """``untag`` per name and ``delete`` per image of a removal report, both under the
        image's ID as dockerd reports them; the report's other ``Deleted`` entries are
        layers, which have no events."""
        for item in report:
            if "Untagged" in item:
                self._event("untag", names.get(item["Untagged"], item["Untagged"]))
            elif item.get("Deleted") in images:
                self._event("delete", item["Deleted"])

    async def load(self, stream: BinaryIO, *, quiet: bool
                   ) -> AsyncGenerator[dict[str, Any], None]:
        """``docker load``: the loader's progress as it happens (unless ``quiet``), then one
        ``{"stream": "Loaded image: ..."}`` per image. The loader runs in a thread and hands
        its progress to the loop through a queue."""
        from pydocker.images.transfer import load
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        def progress(obj: dict[str, Any]) -> None:
            if not quiet:
                loop.call_soon_threadsafe(queue.put_nowait, obj)

        loading = asyncio.ensure_future(asyncio.to_thread(load, self.store, stream, progress))
        # Queued after every progress object, which the thread queued before it returned.
        loading.add_done_callback(lambda _: queue.put_nowait(None))
        while (obj := await queue.get()) is not None:
            yield obj
        lines = await loading
        for line in lines:  # under the image's ID, whatever name it was loaded as
            loaded = self.store.find(line.split(": ", 1)[1])
            if loaded is not None:
                self._event("load", loaded.id)
        for line in lines:
            yield {"stream": line + "\n"}

    async def saver(self, refs: builtins.list[str]) -> Callable[[BinaryIO], Awaitable[None]]:
        """``docker save``, in two steps: every name is resolved now (a 404 while one can
        still be sent), and the tar is written by the function returned."""
        for ref in refs:
            await asyncio.to_thread(self.store.resolve, ref)
        return lambda out: self.save(refs, out)

    async def save(self, refs: builtins.list[str], out: BinaryIO) -> None:
        from pydocker.images.transfer import save
        for ref in refs:
            await asyncio.to_thread(self.store.resolve, ref)  # 404 before the stream starts
        await asyncio.to_thread(save, self.store, refs, out)
        for ref in refs:  # under the image's ID, whatever name it was saved by
            self._event("save", await asyncio.to_thread(self.store.resolve, ref))


def registry_options(config: DaemonConfig) -> RegistryOptions:
    from pydocker.images.distribution.service import RegistryOptions
    return RegistryOptions(max_concurrent_downloads=config.max_concurrent_downloads,
                           max_concurrent_uploads=config.max_concurrent_uploads,
                           insecure_registries=config.insecure_registries,
                           registry_mirrors=config.registry_mirrors)
