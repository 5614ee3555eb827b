"""The image endpoints' methods, delegated to the image service."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, BinaryIO

from pydocker.api.models.auth import AuthConfig
from pydocker.engine.errors import InvalidParameter
from pydocker.engine.images import ImageService
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
                   auth: str | None) -> AsyncGenerator[JSON, None]:
        return self._images.distribution.pull(from_image, tag, platform, auth)

    def image_push(self, name: str, *, tag: str, auth: str | None
                   ) -> AsyncGenerator[JSON, None]:
        return self._images.distribution.push(name, tag, auth)

    async def auth_login(self, body: AuthConfig) -> dict[str, str]:
        return await self._images.distribution.login(registry_auth(body))

    async def distribution_inspect(self, name: str, *, auth: str | None) -> JSON:
        return await self._images.distribution.inspect(name, auth)

    async def images_search(self, term: str, *, limit: int, filters: dict[str, list[str]]
                            ) -> list[JSON]:
        return await self._images.distribution.search(term, limit, filters)


def registry_auth(body: AuthConfig) -> RegistryAuth:
    """The API's credentials as the registry client's; ``auth`` is base64 user:password."""
    username, password = body.username or "", body.password or ""
    if body.auth and not username:
        try:
            username, _, password = base64.b64decode(body.auth).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidParameter(f"invalid auth configuration: {exc}") from exc
    return RegistryAuth(username=username, password=password,
                        serveraddress=body.serveraddress or "",
                        identitytoken=body.identitytoken or "",
                        registrytoken=body.registrytoken or "")
