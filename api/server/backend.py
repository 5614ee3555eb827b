"""What the API layer needs from the engine, one Protocol per area (moby's router/*/backend.go).

Routes call only these methods, through one app key per area; the engine's Daemon
implements them all and is handed to ``make_app`` by the entry point, so nothing in
api.server imports the engine beyond its error taxonomy and leaf helpers.

Request bodies arrive as validated wire models (api.models, a leaf both sides import);
answers are the JSON objects the engine builds (``JSON``). A method that starts a stream
checks what it can first (404, 409, 400 while a proper HTTP error can still be sent) and
then returns the stream: an async iterator, or a ``TarWriter`` that writes into the
response.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, BinaryIO, Protocol

from aiohttp import web
from pydocker.api.models.auth import AuthConfig
from pydocker.api.models.build import BuildQuery
from pydocker.api.models.containers import (
    ContainerCommitConfig,
    ContainerCreateRequest,
    ContainerUpdateRequest,
    ExecCreateRequest,
)
from pydocker.api.models.networks import (
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkDisconnectRequest,
)
from pydocker.api.models.volumes import VolumeCreateRequest

JSON = dict[str, Any]
Filters = dict[str, list[str]]
# Events, stats samples, progress: closed by the route when the client goes.
JSONStream = AsyncGenerator[JSON, None]
# Writes a tar into the (blocking, thread-side) file it is given: save and export.
TarWriter = Callable[[BinaryIO], Awaitable[None]]
# Sends the response headers once the archive's path is known: GET .../archive.
ArchiveStart = Callable[[JSON], Awaitable[None]]


class Connection(Protocol):
    """A hijacked client connection (attach, exec start): raw bytes both ways."""

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...


class ContainerBackend(Protocol):
    async def container_create(self, name: str | None, body: ContainerCreateRequest,
                               platform: str | None) -> tuple[str, list[str]]: ...

    async def container_list(self, *, all_: bool, limit: int | None, size: bool,
                             filters: Filters) -> list[JSON]: ...

    async def container_inspect(self, ref: str, size: bool) -> JSON: ...

    async def container_start(self, ref: str) -> None: ...

    async def container_stop(self, ref: str, timeout: int | None, signal: str | None
                             ) -> None: ...

    async def container_restart(self, ref: str, timeout: int | None, signal: str | None
                                ) -> None: ...

    async def container_kill(self, ref: str, signal: str | None) -> None: ...

    async def container_pause(self, ref: str) -> None: ...

    async def container_unpause(self, ref: str) -> None: ...

    async def container_wait(self, ref: str, condition: str) -> Awaitable[int]: ...

    async def container_remove(self, ref: str, *, force: bool, volumes: bool) -> None: ...
    async def container_remove_link(self, ref: str) -> None: ...

    async def container_rename(self, ref: str, new_name: str) -> None: ...

    async def containers_prune(self, filters: Filters) -> JSON: ...

    def container_logs(self, ref: str, *, stdout: bool, stderr: bool, since: float,
                       until: float, tail: int, timestamps: bool, follow: bool,
                       details: bool = False
                       ) -> tuple[bool, AsyncGenerator[bytes, None]]:
        """(tty, chunks). ``since``/``until`` in seconds, 0 for no bound; ``tail`` -1: all."""
        ...

    def container_attach_target(self, ref: str, detach_keys: str | None
                                ) -> tuple[str, bool, bytes]:
        """What attach checks before the connection is hijacked, so its errors are still
        HTTP answers: (container ID, tty, detach key sequence)."""
        ...

    async def container_attach(self, container_id: str, conn: Connection, *, logs: bool,
                               stream: bool, stdin: bool, stdout: bool, stderr: bool,
                               detach_keys: bytes) -> None: ...

    async def container_resize(self, ref: str, height: int, width: int) -> None: ...

    def container_stats(self, ref: str, *, stream: bool, one_shot: bool
                        ) -> JSONStream: ...

    async def container_update(self, ref: str, body: ContainerUpdateRequest) -> list[str]: ...

    async def container_changes(self, ref: str) -> list[JSON] | None: ...

    async def container_export(self, ref: str) -> TarWriter: ...

    async def container_archive_stat(self, ref: str, path: str) -> JSON: ...

    async def container_archive_get(self, ref: str, path: str, start: ArchiveStart,
                                    out: BinaryIO) -> None: ...

    async def container_archive_put(self, ref: str, path: str, stream: BinaryIO, *,
                                    copy_uid_gid: bool, no_overwrite_dir_non_dir: bool
                                    ) -> None: ...

    async def container_commit(self, ref: str, *, repo: str, tag: str, comment: str,
                               author: str, pause: bool, changes: list[str],
                               config: ContainerCommitConfig) -> str: ...

    async def container_top(self, ref: str, ps_args: str) -> JSON: ...


class ExecBackend(Protocol):
    async def exec_create(self, ref: str, body: ExecCreateRequest) -> str: ...

    def exec_check_start(self, exec_id: str) -> bool:
        """Raises if the exec cannot start; answers its own Tty setting."""
        ...

    async def exec_start(self, exec_id: str, conn: Connection | None, *, tty: bool,
                         console_size: list[int] | None) -> None: ...

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None: ...

    def exec_inspect(self, exec_id: str) -> JSON: ...


class ImageBackend(Protocol):
    def image_import(self, stream: BinaryIO, *, repo: str | None, tag: str,
                     changes: list[str], message: str, platform: str | None) -> JSONStream: ...

    def images_load(self, stream: BinaryIO, *, quiet: bool) -> JSONStream: ...

    async def images_save(self, refs: list[str]) -> TarWriter: ...

    async def images_list(self, *, all_: bool, filters: Filters, digests: bool
                          ) -> list[JSON]: ...

    async def image_inspect(self, ref: str) -> JSON: ...

    async def image_history(self, ref: str) -> list[JSON]: ...

    async def image_tag(self, ref: str, repo: str, tag: str) -> None: ...

    async def image_delete(self, ref: str, *, force: bool, noprune: bool
                           ) -> list[dict[str, str]]: ...

    async def images_prune(self, filters: Filters) -> JSON: ...

    def image_pull(self, from_image: str, *, tag: str, platform: str,
                   auth: AuthConfig) -> JSONStream: ...

    def image_push(self, name: str, *, tag: str, auth: AuthConfig) -> JSONStream: ...

    async def auth_login(self, body: AuthConfig) -> dict[str, str]: ...

    async def distribution_inspect(self, name: str, *, auth: AuthConfig) -> JSON: ...

    async def images_search(self, term: str, *, limit: int, filters: Filters
                            ) -> list[JSON]: ...


class NetworkBackend(Protocol):
    async def networks_list(self, filters: Filters) -> list[JSON]: ...

    async def network_inspect(self, ref: str) -> JSON: ...

    async def network_create(self, body: NetworkCreateRequest) -> JSON: ...

    async def network_remove(self, ref: str) -> None: ...

    async def network_connect(self, ref: str, body: NetworkConnectRequest) -> None: ...

    async def network_disconnect(self, ref: str, body: NetworkDisconnectRequest) -> None: ...

    async def networks_prune(self, filters: Filters) -> JSON: ...


class VolumeBackend(Protocol):
    async def volume_create(self, body: VolumeCreateRequest) -> JSON: ...

    async def volumes_list(self, filters: Filters) -> JSON: ...

    async def volume_inspect(self, name: str) -> JSON: ...

    async def volume_remove(self, name: str, force: bool) -> None: ...

    async def volumes_prune(self, filters: Filters) -> JSON: ...


class SystemBackend(Protocol):
    def version(self) -> JSON: ...

    async def info(self) -> JSON: ...

    async def system_df(self) -> JSON: ...

    def events_stream(self, since: float | None, until: float | None, filters: Filters
                      ) -> JSONStream:
        """History from ``since`` (when given), then live events until ``until``."""
        ...


class BuildBackend(Protocol):
    async def build(self, context: BinaryIO, query: BuildQuery) -> JSONStream:
        """Unpacks the context and reads the Dockerfile (errors: a 4xx), then the stream."""
        ...

    async def build_prune(self) -> JSON:
        """``{"CachesDeleted", "SpaceReclaimed"}``: what builds left behind, removed."""
        ...


class Backend(ContainerBackend, ExecBackend, ImageBackend, NetworkBackend, VolumeBackend,
              SystemBackend, BuildBackend, Protocol):
    """Every area at once: what the engine's Daemon is."""


CONTAINERS: web.AppKey[ContainerBackend] = web.AppKey("containers", ContainerBackend)
EXECS: web.AppKey[ExecBackend] = web.AppKey("execs", ExecBackend)
IMAGES: web.AppKey[ImageBackend] = web.AppKey("images", ImageBackend)
NETWORKS: web.AppKey[NetworkBackend] = web.AppKey("networks", NetworkBackend)
VOLUMES: web.AppKey[VolumeBackend] = web.AppKey("volumes", VolumeBackend)
SYSTEM: web.AppKey[SystemBackend] = web.AppKey("system", SystemBackend)
BUILD: web.AppKey[BuildBackend] = web.AppKey("build", BuildBackend)


def install(app: web.Application, backend: Backend) -> None:
    """The one backend under each area's key: a route sees only its area's methods."""
    app[CONTAINERS] = backend
    app[EXECS] = backend
    app[IMAGES] = backend
    app[NETWORKS] = backend
    app[VOLUMES] = backend
    app[SYSTEM] = backend
    app[BUILD] = backend
