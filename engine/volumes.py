"""The volume endpoints' backend and the containers' mounts: create, inspect, list,
remove, prune; resolving Binds/Mounts/Tmpfs/VOLUME/--volumes-from into runtime mounts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from pydocker.engine.errors import InvalidParameter, NotFound
from pydocker.engine.events import EventBus
from pydocker.engine.filters import labels_match
from pydocker.volumes import mounts as parse
from pydocker.volumes.copyup import populate
from pydocker.volumes.store import ANONYMOUS_LABEL, VolumeStore

FILTERS = {"dangling", "driver", "label", "name"}


class VolumeService:
    def __init__(self, store: VolumeStore, events: EventBus,
                 containers: Callable[[], list[Any]]) -> None:
        self.store = store
        self.events = events
        self._containers = containers

    def users(self, name: str) -> list[str]:
        return [c.id for c in self._containers()
                if any(m.get("volume") == name for m in c.mounts)]

    def _event(self, action: str, name: str, **attrs: str) -> None:
        self.events.publish("volume", action, name, {"driver": "local", **attrs})

    # --- API --------------------------------------------------------------------------

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        vol, created = await asyncio.to_thread(
            self.store.create, body.get("Name") or None, body.get("Driver") or "local",
            body.get("DriverOpts") or {}, body.get("Labels") or {})
        if created:
            self._event("create", vol["Name"])
        return vol

    async def inspect(self, name: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.store.get, name)

    async def list(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        for key in filters:
            if key not in FILTERS:
                raise InvalidParameter(f"invalid filter '{key}'")
        vols = [self.store.get(n) for n in await asyncio.to_thread(self.store.names)]
        return {"Volumes": [v for v in vols if self._matches(v, filters)], "Warnings": []}

    def _matches(self, v: dict[str, Any], f: dict[str, list[str]]) -> bool:
        if f.get("name") and not any(n in v["Name"] for n in f["name"]):
            return False
        if f.get("driver") and v["Driver"] not in f["driver"]:
            return False
        if not labels_match(v["Labels"], f.get("label", [])):
            return False
        if f.get("dangling"):
            want = f["dangling"][0].lower() in ("true", "1")
            if want != (not self.users(v["Name"])):
                return False
        return True

    async def remove(self, name: str, force: bool) -> None:
        await asyncio.to_thread(self.store.remove, name, self.users(name), force)
        self._event("destroy", name)

    async def prune(self, filters: dict[str, list[str]]) -> dict[str, Any]:
        prune_all = (filters.get("all") or ["false"])[0].lower() in ("true", "1")
        deleted, reclaimed = [], 0
        for name in await asyncio.to_thread(self.store.names):
            vol = self.store.get(name)
            if self.users(name) or (not prune_all and ANONYMOUS_LABEL not in vol["Labels"]):
                continue
            if not self._matches(vol, {"label": filters.get("label", [])}):
                continue
            reclaimed += await asyncio.to_thread(self.store.size, name)
            await self.remove(name, force=False)
            deleted.append(name)
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    async def usage(self) -> list[dict[str, Any]]:
        out = []
        for name in await asyncio.to_thread(self.store.names):
            vol = self.store.get(name)
            vol["UsageData"] = {"Size": await asyncio.to_thread(self.store.size, name),
                                "RefCount": len(self.users(name))}
            out.append(vol)
        return out

    # --- containers -------------------------------------------------------------------

    async def prepare_mounts(self, c: Any) -> list[dict[str, Any]]:
        """At create: resolve every mount, create volumes, copy image content into new ones."""
        requests = parse.requests_for(c.config, c.host_config)
        resolved = await self._volumes_from(c)
        taken = {m["inspect"]["Destination"] for m in resolved}
        layers = list(c.rootfs.get("lower", []))
        for req in requests:
            if req.destination in taken:
                continue
            resolved.append(await asyncio.to_thread(self._resolve, req, layers))
        return resolved

    def _resolve(self, req: parse.MountRequest, layers: list[str]) -> dict[str, Any]:
        if req.type == "bind":
            if not os.path.exists(req.source):
                if not req.create_host_path:
                    raise InvalidParameter("invalid mount config for type \"bind\": bind "
                                           f"source path does not exist: {req.source}")
                os.makedirs(req.source, exist_ok=True)  # -v creates it, as dockerd does
            return {"spec": parse.runtime_mount(req, req.source, None),
                    "inspect": parse.inspect_entry(req, req.source)}
        if req.type == "tmpfs":
            return {"spec": parse.runtime_mount(req, "", None),
                    "inspect": parse.inspect_entry(req, "")}
        vol, created = self.store.create(req.source or None, "local", req.driver_opts,
                                         req.labels)
        name = vol["Name"]
        if created:
            self._event("create", name)
        if not req.nocopy and not (vol.get("Options") or {}).get("type") and \
                self.store.is_empty(name):
            populate(self.store.mountpoint(name), layers, req.destination)
        return {"spec": parse.runtime_mount(req, vol["Mountpoint"], vol.get("Options")),
                "inspect": parse.inspect_entry(req, vol["Mountpoint"], name),
                "volume": name, "anonymous": not req.source}

    async def _volumes_from(self, c: Any) -> list[dict[str, Any]]:
        out = []
        by_ref = {x.id: x for x in self._containers()}
        by_ref.update({x.name: x for x in self._containers()})
        for spec in c.host_config.get("VolumesFrom") or []:
            ref, _, mode = spec.partition(":")
            source = by_ref.get(ref) or next(
                (x for x in self._containers() if x.id.startswith(ref)), None)
            if source is None:
                raise NotFound(f"No such container: {ref}")
            for m in source.mounts:
                entry = {**m, "anonymous": False}
                if mode == "ro":
                    entry["spec"] = {**m["spec"], "options": [*m["spec"]["options"], "ro"]}
                    entry["inspect"] = {**m["inspect"], "RW": False}
                out.append(entry)
        return out

    async def release_mounts(self, c: Any, remove_anonymous: bool) -> None:
        """At removal: ``docker rm -v`` takes the container's anonymous volumes with it."""
        if not remove_anonymous:
            return
        for m in c.mounts:
            name = m.get("volume")
            if name and m.get("anonymous") and self.users(name) in ([], [c.id]):
                try:
                    await asyncio.to_thread(self.store.remove, name, [], True)
                    self._event("destroy", name)
                except NotFound:
                    pass
