"""The image endpoints' methods, delegated to the image service."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from pydocker.api.models.auth import AuthConfig
from pydocker.engine.images import ImageService

if TYPE_CHECKING:  # the registry client is imported by the first registry call
    from pydocker.images.registry import RegistryAuth

JSON = dict[str, Any]


class ImageMethods:
    _images: ImageService

    def image_import(self, stream: BinaryIO, *, repo: str | None, tag: str,
                     changes: list[str], message: str, platform: str | None
                     ) -> AsyncGenerator[JSON, None]:
        return self._images.import_progress(stream, repo=repo, tag=tag, changes=changes,
                                            message=message, platform=platform)

    def images_load(self, stream: BinaryIO, *, quiet: bool) -> AsyncGenerator[JSON, None]:
        return self._images.load(stream, quiet=quiet)

    async def images_save(self, refs: list[str]) -> Callable[[BinaryIO], Awaitable[None]]:
        return await self._images.saver(refs)

    async def images_list(self, *, all_: bool, filters: dict[str, list[str]], digests: bool
                          ) -> list[JSON]:
        return await self._images.list(all_=all_, filters=filters, digests=digests)

    async def image_inspect(self, ref: str) -> JSON:
        return await self._images.inspect(ref)

    async def image_history(self, ref: str) -> list[JSON]:
        return await self._images.history(ref)

    async def image_tag(self, ref: str, repo: str, tag: str) -> None:
        await self._images.tag(ref, repo, tag)

    async def image_delete(self, ref: str, *, force: bool, noprune: bool
                           ) -> list[dict[str, str]]:
        return await self._images.delete(ref, force=force, noprune=noprune)

    async def images_prune(self, filters: dict[str, list[str]]) -> JSON:
        return await self._images.prune(filters)

    def image_pull(self, from_image: str, *, tag: str, platform: str,
                   auth: AuthConfig) -> AsyncGenerator[JSON, None]:
        return self._images.distribution.pull(from_image, tag, platform, registry_auth(auth))

    def image_push(self, name: str, *, tag: str, auth: AuthConfig
                   ) -> AsyncGenerator[JSON, None]:
        return self._images.distribution.push(name, tag, registry_auth(auth))

    async def auth_login(self, body: AuthConfig) -> dict[str, str]:
        return await self._images.distribution.login(registry_auth(body))

    async def distribution_inspect(self, name: str, *, auth: AuthConfig) -> JSON:
        return await self._images.distribution.inspect(name, registry_auth(auth))

    async def images_search(self, term: str, *, limit: int, filters: dict[str, list[str]]
                            ) -> list[JSON]:
        return await self._images.distribution.search(term, limit, filters)


def registry_auth(config: AuthConfig) -> RegistryAuth:
    """The API's credentials (decoded at the API boundary) as the registry client's."""
    from pydocker.images.registry import RegistryAuth
    return RegistryAuth(username=config.username or "", password=config.password or "",
                        serveraddress=config.serveraddress or "",
                        identitytoken=config.identitytoken or "",
                        registrytoken=config.registrytoken or "")
