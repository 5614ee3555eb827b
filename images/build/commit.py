"""Build steps become images: a layer (or none) over the parent, the config, a history line.

The image document records ``container_config`` (the step's config with its ``#(nop)``
Cmd) and ``parent``, as dockerd's classic builder does: the cache finds a step's earlier
result among the parent's children by that config.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Callable
from typing import Any

from pydocker.engine.timeutil import rfc3339_now
from pydocker.images.image import import_document
from pydocker.images.store import ImageStore

JSON = dict[str, Any]
RUNTIME_FILES = ("etc/hosts", "etc/hostname", "etc/resolv.conf")
# The config fields a cached step must match (moby image/cache compare()).
CACHE_KEYS = ("Cmd", "Env", "Labels", "ExposedPorts", "Entrypoint", "Volumes", "User",
              "WorkingDir", "Shell", "Healthcheck", "StopSignal", "OnBuild", "OpenStdin",
              "Tty")


def child_document(store: ImageStore, parent_id: str, config: JSON, container_config: JSON,
                   *, created_by: str, diff_id: str | None, container: str = "",
                   author: str = "", platform: str | None = None) -> JSON:
    """The image of one step: ``diff_id`` None is an ``empty_layer`` history entry."""
    now = rfc3339_now()
    if parent_id:
        parent = store.get(parent_id)
        doc = {k: v for k, v in parent.document.items()
               if k in ("architecture", "os", "variant", "os.version", "author", "history",
                        "rootfs")}
        doc["parent"] = parent.id
    else:
        doc = import_document({}, "", "", platform)
        doc["rootfs"] = {"type": "layers", "diff_ids": []}
        doc["history"] = []
    entry: JSON = {"created": now, "created_by": created_by}
    if author:
        doc["author"] = author
    if diff_id is None:
        entry["empty_layer"] = True
    else:
        rootfs = dict(doc.get("rootfs") or {"type": "layers"})
        rootfs["diff_ids"] = list(rootfs.get("diff_ids") or []) + [diff_id]
        doc["rootfs"] = rootfs
    doc.update({"config": config, "container": container, "container_config": container_config,
                "created": now, "docker_version": "20.10.0",
                "history": list(doc.get("history") or []) + [entry]})
    return doc


def add_layer(store: ImageStore, parent_id: str, write: Callable[[tarfile.TarFile], None]
              ) -> str:
    """A layer whose tar ``write`` fills, over ``parent_id``'s chain; its diff ID."""
    with tempfile.TemporaryFile(dir=store.scratch) as spool:
        with tarfile.open(fileobj=spool, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            write(tar)
        spool.seek(0)
        diff_id, _ = store.add_layer(spool, store.top_chain(parent_id))
    return diff_id


def add_upper(store: ImageStore, parent_id: str, upper: str) -> str | None:
    """A layer from a RUN container's writable layer, None when it changed nothing.

    The runtime's own files (/etc/hosts, hostname, resolv.conf) are left out, as dockerd
    keeps them in its init layer."""
    return store.add_upper_layer(upper, parent_id, leave_out=RUNTIME_FILES,
                                 none_if_empty=True)


def cache_key(config: JSON) -> JSON:
    return {k: config.get(k) or None for k in CACHE_KEYS}


class CacheIndex:
    """Each image's parent, creation time and step config, read once per build from its
    raw config (images are content-addressed: what was read stays true)."""

    def __init__(self, store: ImageStore) -> None:
        self.store = store
        self._seen: dict[str, tuple[str, str, JSON]] = {}

    def _entry(self, image_id: str) -> tuple[str, str, JSON] | None:
        if image_id not in self._seen:
            try:
                doc = json.loads(self.store.configs.read(image_id))
            except (OSError, ValueError):
                return None
            self._seen[image_id] = (doc.get("parent") or "", doc.get("created") or "",
                                    cache_key(doc.get("container_config") or {}))
        return self._seen[image_id]

    def find(self, parent_id: str, container_config: JSON, sources: set[str] | None = None
             ) -> str | None:
        """The newest image built from ``parent_id`` with the same step config (among
        ``sources`` only, for ``cachefrom``)."""
        want = cache_key(container_config)
        best: tuple[str, str] | None = None
        for image_id in self.store.ids():
            if sources is not None and image_id not in sources:
                continue
            entry = self._entry(image_id)
            if entry is None or entry[0] != parent_id or entry[2] != want:
                continue
            if best is None or entry[1] > best[0]:
                best = (entry[1], image_id)
        return best[1] if best else None


def lower_stat(store: ImageStore, image_id: str, path: str) -> os.stat_result | None:
    """``path`` as the image has it (its top-most layer holding it), or None."""
    if not image_id:
        return None
    for layer in store.lower_dirs(image_id):
        try:
            return os.lstat(os.path.join(layer, path.lstrip("/")))
        except OSError:
            continue
    return None


def read_image_file(store: ImageStore, image_id: str, path: str, limit: int = 1 << 20) -> str:
    """A small file of the image (/etc/passwd for ``--chown`` and USER names), or ""."""
    if not image_id:
        return ""
    for layer in store.lower_dirs(image_id):
        full = os.path.join(layer, path.lstrip("/"))
        if os.path.isfile(full) and not os.path.islink(full):
            with open(full, "rb") as f:
                return f.read(limit).decode(errors="replace")
    return ""
