"""The volume endpoints' backend and the containers' mounts.

API side: create, inspect, list (filters dangling/driver/label/name), remove (409 while
any container refers to the volume), prune (anonymous volumes only unless ``all``), and
the ``/system/df`` usage. Container side: resolving Binds/Mounts/Tmpfs/VOLUME/
--volumes-from into runtime mounts at create (creating volumes and copying image content
into new ones), mounting volumes that have driver options on the host while containers
run (reference-counted per volume, like Docker's local driver), and ``docker rm -v``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from pydocker.engine.errors import InvalidParameter, NotFound, SystemFailure
from pydocker.engine.events import EventBus
from pydocker.engine.filters import check_keys, labels_select
from pydocker.volumes import hostmount
from pydocker.volumes import mounts as parse
from pydocker.volumes.copyup import populate
from pydocker.volumes.store import ANONYMOUS_LABEL, VALID_NAME, VolumeStore, needs_mount

log = logging.getLogger(__name__)

LIST_FILTERS = {"dangling", "driver", "label", "label!", "name"}
PRUNE_FILTERS = {"label", "label!", "all"}


def _bool_filter(key: str, values: list[str]) -> bool:
    """Docker's ExactMatch on true/1 and false/0; anything else is an invalid filter."""
    if "true" in values or "1" in values:
        return True
    if "false" in values or "0" in values:
        return False
    raise InvalidParameter(f"invalid filter '{key}=[{' '.join(values)}]'")


def _name_matches(patterns: list[str], name: str) -> bool:
    """Docker's filters.Match: any pattern found in the name as a regular expression."""
    for pattern in patterns:
        try:
            if re.search(pattern, name):
                return True
        except re.error:
            continue
    return False


class VolumeUser(Protocol):
    """What the volume service reads of a container (engine.containers' Container).
    ``mounts`` holds the entries prepare_mounts returned: {"spec": runtime mount,
    "inspect": docker inspect's entry, "volume": name, "anonymous": bool}."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def host_config(self) -> dict[str, Any]: ...
    @property
    def mounts(self) -> list[dict[str, Any]]: ...
    @property
    def rootfs(self) -> dict[str, Any]: ...


class VolumeService:
    def __init__(self, store: VolumeStore, events: EventBus,
                 containers: Callable[[], Iterable[VolumeUser]]) -> None:
        self.store = store
        self.events = events
        self._containers = containers
        # volume name -> ids of the running containers using it (Docker's refcount).
        self._active: dict[str, set[str]] = {}
        self._mount_lock = asyncio.Lock()

    def users(self, name: str) -> list[str]:
        """Every container (running or not) whose mounts name the volume."""
        return [c.id for c in self._containers()
                if any(m.get("volume") == name for m in c.mounts)]

    def _event(self, action: str, name: str, **attrs: str) -> None:
        self.events.publish("volume", action, name, {"driver": "local", **attrs})

    # --- API --------------------------------------------------------------------------

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        opts, labels = body.get("DriverOpts"), body.get("Labels")
        if opts is not None and not isinstance(opts, dict):
            raise InvalidParameter("invalid DriverOpts: expected an object")
        if labels is not None and not isinstance(labels, dict):
            raise InvalidParameter("invalid Labels: expected an object")
        vol, created = await asyncio.to_thread(
            self.store.create, body.get("Name") or None, body.get("Driver") or "local",
            opts, labels)
        if created:
            self._event("create", vol["Name"])
        return vol

    async def inspect(self, name: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.store.get, name)

    async def list_volumes(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        check_keys(filters, LIST_FILTERS)
        dangling = _bool_filter("dangling", filters["dangling"]) \
            if filters.get("dangling") else None
        vols = await asyncio.to_thread(self._all)
        used = self._referenced()
        out = [v for v in vols if self._matches(v, filters)
               and (dangling is None or dangling == (v["Name"] not in used))]
        return {"Volumes": out, "Warnings": []}

    def _all(self) -> list[dict[str, Any]]:
        vols = []
        for name in self.store.names():
            try:
                vols.append(self.store.get(name))
            except NotFound:  # removed meanwhile
                continue
        return vols

    def _referenced(self) -> set[str]:
        return {m["volume"] for c in self._containers() for m in c.mounts if m.get("volume")}

    @staticmethod
    def _matches(v: dict[str, Any], f: dict[str, list[str]]) -> bool:
        if f.get("name") and not _name_matches(f["name"], v["Name"]):
            return False
        if f.get("driver") and v["Driver"] not in f["driver"]:
            return False
        return labels_select(v.get("Labels") or {}, f)

    async def remove(self, name: str, force: bool) -> None:
        if force and not self.store.exists(name) and VALID_NAME.match(name):
            return  # a name that cannot be a volume is a 404 even with force (below)
        await asyncio.to_thread(self.store.remove, name, self.users(name), force)
        self._active.pop(name, None)
        self._event("destroy", name)

    async def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        """Unused volumes; only anonymous ones unless ``all`` (API < 1.42 sets it)."""
        check_keys(filters, PRUNE_FILTERS)
        prune_all = _bool_filter("all", filters["all"]) if filters.get("all") else False
        deleted, reclaimed = [], 0
        used = self._referenced()
        for vol in await asyncio.to_thread(self._all):
            name = vol["Name"]
            if name in used or not self._matches(vol, filters):
                continue
            if not prune_all and ANONYMOUS_LABEL not in (vol.get("Labels") or {}):
                continue
            size = await asyncio.to_thread(self.store.size, name)
            try:
                await self.remove(name, force=False)
            except (NotFound, InvalidParameter):
                continue
            reclaimed += size
            deleted.append(name)
        self.events.publish("volume", "prune", "", {"reclaimed": str(reclaimed)})
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    async def usage(self) -> list[dict[str, Any]]:
        """Volumes with ``UsageData`` for ``/system/df``."""
        refs: dict[str, int] = {}
        for c in self._containers():
            for name in {m["volume"] for m in c.mounts if m.get("volume")}:
                refs[name] = refs.get(name, 0) + 1
        out = []
        for vol in await asyncio.to_thread(self._all):
            name = vol["Name"]
            size = -1 if needs_mount(vol.get("Options")) and name not in self._active \
                else await asyncio.to_thread(self.store.size, name)
            vol["UsageData"] = {"Size": size, "RefCount": refs.get(name, 0)}
            out.append(vol)
        return out

    # --- containers: create and remove -------------------------------------------------

    async def prepare_mounts(self, c: VolumeUser) -> list[dict[str, Any]]:
        """At create: resolve every mount, create volumes, copy image content into new ones.

        Precedence as dockerd: image VOLUMEs < --volumes-from < Binds/Mounts < Tmpfs.
        """
        requests = parse.requests_for(c.config, c.host_config)
        inherited = self._volumes_from(c)
        explicit = {r.destination for r in requests if not r.from_image}
        resolved = [m for m in inherited if m["inspect"]["Destination"] not in explicit]
        taken = {m["inspect"]["Destination"] for m in resolved}
        layers = list(c.rootfs.get("lower", []))
        for req in requests:
            if req.from_image and req.destination in taken:
                continue
            resolved.append(await asyncio.to_thread(self._resolve, req, layers))
        return sorted(resolved, key=lambda m: m["inspect"]["Destination"].count("/"))

    def _resolve(self, req: parse.MountRequest, layers: list[str]) -> dict[str, Any]:
        if req.type == "bind":
            if not os.path.exists(req.source):
                if not req.create_host_path:
                    raise InvalidParameter("invalid mount config for type \"bind\": bind "
                                           f"source path does not exist: {req.source}")
                try:
                    os.makedirs(req.source, exist_ok=True)  # -v creates it, as dockerd does
                except OSError as exc:
                    raise SystemFailure(f"error while creating mount source path "
                                        f"'{req.source}': {exc}") from None
            return {"spec": parse.runtime_mount(req, req.source),
                    "inspect": parse.inspect_entry(req, req.source)}
        if req.type == "tmpfs":
            return {"spec": parse.runtime_mount(req, ""),
                    "inspect": parse.inspect_entry(req, "")}
        vol, created = self.store.create(req.source or None, "local", req.driver_opts,
                                         req.labels)
        name = vol["Name"]
        if created:
            self._event("create", name)
        if not req.nocopy and not needs_mount(vol.get("Options")):
            try:
                if self.store.is_empty(name):
                    populate(self.store.mountpoint(name), layers, req.destination)
            except OSError as exc:
                raise SystemFailure(f"failed to populate volume {name}: {exc}") from None
        out = {"spec": parse.runtime_mount(req, vol["Mountpoint"]),
               "inspect": parse.inspect_entry(req, vol["Mountpoint"], name),
               "volume": name, "anonymous": not req.source}
        if req.subpath:
            out["subpath"] = req.subpath  # checked at each start: the volume may change
        return out

    def _volumes_from(self, c: VolumeUser) -> list[dict[str, Any]]:
        out = []
        containers = list(self._containers())
        for spec in c.host_config.get("VolumesFrom") or []:
            ref, mode = parse.parse_volumes_from(spec)
            source = next((x for x in containers if ref in (x.id, x.name)), None) or next(
                (x for x in containers if x.id.startswith(ref)), None)
            if source is None:
                raise NotFound(f"No such container: {ref}")
            for m in source.mounts:
                entry = {**m, "anonymous": False}
                if mode in ("ro", "rw"):
                    options = [o for o in m["spec"]["options"] if o not in ("ro", "rw")]
                    if mode == "ro":
                        options.insert(1, "ro")
                    entry["spec"] = {**m["spec"], "options": options}
                    entry["inspect"] = {**m["inspect"], "RW": mode == "rw"}
                out.append(entry)
        return out

    async def release_mounts(self, c: VolumeUser, remove_anonymous: bool) -> None:
        """At removal: ``docker rm -v`` takes the container's anonymous volumes with it."""
        await self.unmount(c)
        if not remove_anonymous:
            return
        for m in c.mounts:
            name = m.get("volume")
            if name and m.get("anonymous") and self.users(name) in ([], [c.id]):
                try:
                    await asyncio.to_thread(self.store.remove, name, [], True)
                    self._active.pop(name, None)
                    self._event("destroy", name)
                except (NotFound, SystemFailure) as exc:
                    log.warning("volume %s: not removed with its container: %s", name, exc)

    # --- containers: start and stop ----------------------------------------------------

    async def mount(self, c: VolumeUser) -> None:
        """Before the container's process starts: take a reference on each volume, and
        mount those with driver options on the host at the first reference."""
        async with self._mount_lock:
            try:
                for m in c.mounts:
                    name = m.get("volume")
                    if not name or c.id in self._active.get(name, set()):
                        continue
                    await asyncio.to_thread(self._ensure_mounted, name)
                    self._active.setdefault(name, set()).add(c.id)
                    if m.get("subpath"):  # bind what it is now, not a link swapped in later
                        real = check_subpath(self.store.mountpoint(name), m["subpath"])
                        m["spec"] = {**m["spec"], "source": str(real)}
                    self._event("mount", name, container=c.id,
                                destination=m["inspect"]["Destination"],
                                propagation=m["inspect"].get("Propagation", ""),
                                **{"read/write": str(m["inspect"]["RW"]).lower()})
            except BaseException:
                await self._release(c)
                raise

    async def unmount(self, c: VolumeUser) -> None:
        """After the container stopped (idempotent): drop its references; the last one
        unmounts. The reference goes even if the unmount fails, as in Docker."""
        async with self._mount_lock:
            await self._release(c)

    async def _release(self, c: VolumeUser) -> None:
        for name in {m["volume"] for m in c.mounts if m.get("volume")}:
            holders = self._active.get(name)
            if holders is None or c.id not in holders:
                continue
            holders.discard(c.id)
            self._event("unmount", name, container=c.id)
            if not holders:
                del self._active[name]
                try:
                    await asyncio.to_thread(self._ensure_unmounted, name)
                except SystemFailure as exc:
                    log.error("volume %s: %s", name, exc)

    def _ensure_mounted(self, name: str) -> None:
        try:
            opts = self.store.options(name)
        except NotFound:
            raise NotFound(f"get {name}: no such volume") from None
        if not needs_mount(opts):
            return
        path = str(self.store.mountpoint(name))
        if hostmount.is_mounted(path):
            return
        if not opts.get("device"):
            raise SystemFailure(f"error while mounting volume '{path}': missing device in "
                              "volume options")
        try:
            hostmount.mount(opts["device"], path, opts.get("type", ""), opts.get("o", ""))
        except OSError as exc:
            raise SystemFailure(f"error while mounting volume '{path}': failed to mount local "
                              f"volume: {exc}") from None

    def _ensure_unmounted(self, name: str) -> None:
        path = self.store.mountpoint(name)
        try:
            if hostmount.is_mounted(path):
                hostmount.unmount(str(path))
        except OSError as exc:
            raise SystemFailure(f"error while unmounting volume '{path}': {exc}") from None

    # --- daemon start / stop -------------------------------------------------------------

    async def restore(self, running: Iterable[VolumeUser]) -> None:
        """After live restore: references from the containers still running; volumes a
        crash left mounted with no running user are unmounted."""
        async with self._mount_lock:
            self._active = {}
            for c in running:
                for m in c.mounts:
                    if m.get("volume"):
                        self._active.setdefault(m["volume"], set()).add(c.id)
            for name in await asyncio.to_thread(self.store.names):
                try:
                    if name in self._active:
                        await asyncio.to_thread(self._ensure_mounted, name)
                    else:
                        await asyncio.to_thread(self._ensure_unmounted, name)
                except (SystemFailure, NotFound) as exc:
                    log.error("volume %s: %s", name, exc)

    async def close(self) -> None:
        """Daemon shutdown: unmount what no running container holds (live ones keep theirs)."""
        async with self._mount_lock:
            for name in await asyncio.to_thread(self.store.names):
                if not self._active.get(name):
                    try:
                        await asyncio.to_thread(self._ensure_unmounted, name)
                    except SystemFailure as exc:
                        log.error("volume %s: %s", name, exc)


def check_subpath(root: Path, subpath: str) -> Path:
    """A volume's subpath must be there, a directory or file inside the volume: no link
    on the way may lead out of it (a container could have planted one)."""
    full = root / subpath
    try:
        real = full.resolve(strict=True)
    except OSError as exc:
        raise InvalidParameter(f"cannot access path {full}: {exc.strerror or exc}") from None
    if not real.is_relative_to(root.resolve()):
        raise InvalidParameter(f"cannot access path {full}: it leads out of the volume")
    return real
