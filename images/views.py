"""The JSON clients read: image list entries, inspect, history; and list filters."""

from __future__ import annotations

import fnmatch
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.filters import check_keys, labels_match

from . import reference
from .image import Image

LIST_FILTERS = {"dangling", "label", "reference", "before", "since", "until"}


def _created_s(img: Image) -> int:
    from pydocker.engine.timeutil import parse_rfc3339_ns
    return parse_rfc3339_ns(img.created) // 1_000_000_000


def list_entry(img: Image, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "Id": img.id,
        "ParentId": img.document.get("parent", ""),
        "RepoTags": img.repo_tags if tags is None else tags,
        "RepoDigests": img.repo_digests,
        "Created": _created_s(img),
        "Size": img.size,
        "SharedSize": -1,
        "VirtualSize": img.size,
        "Labels": img.config.get("Labels") or {},
        "Containers": -1,
    }


def matches(img: Image, f: dict[str, list[str]], by_ref: dict[str, Image]) -> bool:
    check_keys(f, LIST_FILTERS)
    if f.get("dangling"):
        want = f["dangling"][0].lower() in ("true", "1")
        if want != (not img.repo_tags):
            return False
    if not labels_match(img.config.get("Labels") or {}, f.get("label", [])):
        return False
    if f.get("reference") and not matching_tags(img, f["reference"]):
        return False
    for key, newer in (("before", False), ("since", True)):
        for ref in f.get(key, []):
            other = by_ref.get(ref) or by_ref.get(_normal(ref))
            if other is None:
                other = next((i for r, i in by_ref.items()
                              if r.startswith("sha256:" + ref.removeprefix("sha256:"))), None)
            if other is None:
                raise InvalidParameter(f"No such image: {ref}")
            if (img.created > other.created) != newer or img.id == other.id:
                return False
    return True


def matching_tags(img: Image, patterns: list[str]) -> list[str]:
    """The tags a ``reference`` filter selects (by name:tag or by name alone)."""
    return [t for t in img.repo_tags
            if any(fnmatch.fnmatchcase(t, p) or fnmatch.fnmatchcase(t.rpartition(":")[0], p)
                   for p in patterns)]


def _normal(ref: str) -> str:
    try:
        return reference.parse(ref).familiar()
    except InvalidParameter:
        return ref


# The keys dockerd's image inspect always shows in Config, with their zero values (clients
# index ``Config["Env"]`` and the like without a default).
CONFIG_ZERO_VALUES: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False,
    "AttachStdout": False, "AttachStderr": False, "Tty": False, "OpenStdin": False,
    "StdinOnce": False, "Env": None, "Cmd": None, "Image": "", "Volumes": None,
    "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": None}


def inspect(img: Image, lower_dirs: list[str]) -> dict[str, Any]:
    doc = img.document
    out = {
        "Id": img.id,
        "RepoTags": img.repo_tags,
        "RepoDigests": img.repo_digests,
        "Parent": doc.get("parent", ""),
        "Comment": (doc.get("history") or [{}])[-1].get("comment", ""),
        "Created": img.created,
        "DockerVersion": doc.get("docker_version", ""),
        "Author": doc.get("author", ""),
        "Config": {**CONFIG_ZERO_VALUES, **img.config},
        "Architecture": doc.get("architecture", ""),
        "Variant": doc.get("variant") or None,
        "Os": doc.get("os", "linux"),
        "Size": img.size,
        "VirtualSize": img.size,
        # dockerd leaves LowerDir out for a one-layer image (Data is a string map).
        "GraphDriver": {"Name": "overlay2", "Data": {
            **({"LowerDir": ":".join(lower_dirs[1:])} if len(lower_dirs) > 1 else {}),
            "UpperDir": lower_dirs[0] if lower_dirs else "",
            "WorkDir": "", "MergedDir": ""}},
        "RootFS": {"Type": "layers", "Layers": img.diff_ids},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }
    if out["Variant"] is None:
        del out["Variant"]  # omitempty in dockerd's answer
    return out


def history(img: Image, sizes: list[int]) -> list[dict[str, Any]]:
    from pydocker.engine.timeutil import parse_rfc3339_ns
    entries = list(img.document.get("history") or [])
    layer_sizes = iter(sizes)
    out = []
    for i, h in enumerate(entries):
        size = 0 if h.get("empty_layer") else next(layer_sizes, 0)
        out.append({
            "Id": img.id if i == len(entries) - 1 else "<missing>",
            "Created": parse_rfc3339_ns(h.get("created", "")) // 1_000_000_000,
            "CreatedBy": h.get("created_by", ""),
            "Tags": img.repo_tags if i == len(entries) - 1 else None,
            "Size": size,
            "Comment": h.get("comment", ""),
        })
    out.reverse()
    return out
