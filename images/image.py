"""An image as the store hands it out, and the config documents import and commit write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydocker.engine.timeutil import rfc3339_now


@dataclass
class Image:
    """A stored config plus what the store knows about it (names, total layer size).
    ``config`` and ``document`` are parsed JSON: any shape a client or registry sent."""

    id: str
    raw: bytes
    config: dict[str, Any]          # the "config" section: Cmd, Env, ...
    document: dict[str, Any]        # the whole config JSON
    repo_tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def diff_ids(self) -> list[str]:
        return list((self.document.get("rootfs") or {}).get("diff_ids") or [])

    @property
    def created(self) -> str:
        return self.document.get("created") or "0001-01-01T00:00:00Z"

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


def import_document(config: dict[str, Any], diff_id: str, message: str,
                    platform: str | None) -> dict[str, Any]:
    """The image config ``docker import`` writes: one layer, the given container config,
    for the host's platform unless ``platform`` ("os[/arch]") names another."""
    os_name, arch = "linux", _host_arch()
    if platform:
        os_name, _, arch = platform.partition("/")
        arch = arch or _host_arch()
    now = rfc3339_now()
    return {
        "architecture": arch, "config": config, "created": now,
        "history": [{"created": now, "comment": message or "Imported from -"}],
        "os": os_name or "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }


def commit_layer_document(parent: Image, config: dict[str, Any], diff_id: str,
                          created_by: str, comment: str, author: str) -> dict[str, Any]:
    """The image config ``docker commit`` writes: the parent's, one layer more."""
    now = rfc3339_now()
    doc = dict(parent.document)
    doc["config"] = config
    doc["created"] = now
    doc["parent"] = parent.id
    if author:
        doc["author"] = author
    doc.pop("container_config", None)
    history = list(doc.get("history") or [])
    entry = {"created": now, "created_by": created_by}
    if author:
        entry["author"] = author
    if comment:
        entry["comment"] = comment
    doc["history"] = history + [entry]
    rootfs = dict(doc.get("rootfs") or {"type": "layers"})
    rootfs["diff_ids"] = list(rootfs.get("diff_ids") or []) + [diff_id]
    doc["rootfs"] = rootfs
    return doc


def _host_arch() -> str:
    from pydocker.engine.system import go_arch  # platform probing, only when importing
    return go_arch()
