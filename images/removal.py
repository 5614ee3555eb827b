"""``docker rmi`` and ``docker image prune``: which names go, and when an image goes.

An image named by a reference loses that name; by ID, it loses every name. It is deleted
once nothing names it, no container uses it and no image is built on it, with Docker's exact
refusals (docker-py and the CLI show them as they are) when a container is in the way. Its
parents the builder left (untagged, unused, no other child) go with it unless ``noprune``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pydocker.engine.errors import Conflict, InvalidParameter
from pydocker.engine.filters import PRUNE_KEYS, prune_filter

from . import reference
from .image import Image

# image ID -> (container ID, running) for each container made from it
ImageUsers = Callable[[str], list[tuple[str, bool]]]
Report = list[dict[str, str]]  # {"Untagged": name} and {"Deleted": id} entries, in order


class Catalog(Protocol):
    """The image store, as far as removing images needs it."""

    def resolve(self, ref: str) -> str: ...
    def get(self, ref: str) -> Image: ...
    def ids(self) -> list[str]: ...
    def is_tagged(self, ref: str) -> bool: ...
    def refs_of(self, image_id: str) -> list[str]: ...
    def untag(self, ref: str) -> str: ...
    def remove_image(self, image_id: str) -> Report: ...
    def children(self, image_id: str) -> list[str]: ...


def delete(images: Catalog, ref: str, *, force: bool, users: ImageUsers,
           prune: bool = True) -> Report:
    """docker rmi: untag, and delete the image once nothing names or uses it."""
    image_id = images.resolve(ref)
    img = images.get(image_id)
    in_use = users(image_id)
    if not (reference.looks_like_id(ref) and not _is_name(images, ref)):
        return _delete_by_name(images, ref, img, in_use, force, prune, users)
    if images.children(image_id):
        raise Conflict(f"conflict: unable to delete {img.short_id} (cannot be forced) - "
                       "image has dependent child images")
    running = [cid for cid, run in in_use if run]
    if running:
        raise Conflict(f"conflict: unable to delete {img.short_id} (cannot be forced) - "
                       f"image is being used by running container {running[0][:12]}")
    if in_use and not force:
        raise Conflict(f"conflict: unable to delete {img.short_id} (must be forced) - "
                       f"image is being used by stopped container {in_use[0][0][:12]}")
    refs = images.refs_of(image_id)
    if len(refs) > 1 and not force:
        raise Conflict(f"conflict: unable to delete {img.short_id} (must be forced) - "
                       "image is referenced in multiple repositories")
    out = _untag_all(images, image_id)
    if in_use:
        return out
    return out + _remove(images, img, prune, users)


def _remove(images: Catalog, img: Image, prune: bool, users: ImageUsers) -> Report:
    """Delete an image, then (``prune``) each parent in turn while it is untagged, unused
    and childless: dockerd's quiet parent pruning, which stops at the first that is not."""
    out = images.remove_image(img.id)
    parent = img.document.get("parent") or ""
    while prune and parent and parent in images.ids():
        if images.refs_of(parent) or users(parent) or images.children(parent):
            break
        above = images.get(parent)
        out += images.remove_image(parent)
        parent = above.document.get("parent") or ""
    return out


def _delete_by_name(images: Catalog, ref: str, img: Image, in_use: list[tuple[str, bool]],
                    force: bool, prune: bool, users: ImageUsers) -> Report:
    parsed = reference.parse(ref)
    if in_use and not force and len(images.refs_of(img.id)) <= 1:
        raise Conflict(
            f'conflict: unable to remove repository reference "{ref}" (must force) - '
            f"container {in_use[0][0][:12]} is using its referenced image {img.short_id}")
    images.untag(str(parsed))
    out = [{"Untagged": parsed.familiar()}] + _untag_orphan_digests(images, img.id, parsed)
    if images.refs_of(img.id) or in_use or images.children(img.id):
        return out  # the last name went; an image built on it keeps it, as in dockerd
    return out + _remove(images, img, prune, users)


def _untag_orphan_digests(images: Catalog, image_id: str,
                          removed: reference.Reference) -> Report:
    """dockerd: once a repository's last tag of an image goes, so do that repository's
    digest references to it (what a pull recorded)."""
    if removed.digest:
        return []
    same_repo = [reference.parse(r) for r in images.refs_of(image_id)]
    same_repo = [r for r in same_repo if r.repository == removed.repository]
    if any(not r.digest for r in same_repo):
        return []
    out: Report = []
    for digested in same_repo:
        images.untag(str(digested))
        out.append({"Untagged": digested.familiar()})
    return out


def _is_name(images: Catalog, ref: str) -> bool:
    """Whether ``ref``, though it looks like an ID prefix, is a tag ("docker rmi abc123")."""
    try:
        return images.is_tagged(str(reference.parse(ref)))
    except InvalidParameter:
        return False


def _untag_all(images: Catalog, image_id: str) -> Report:
    out: Report = []
    for ref in images.refs_of(image_id):
        images.untag(ref)
        out.append({"Untagged": reference.parse(ref).familiar()})
    return out


def prune(images: Catalog, *, dangling_only: bool, filters: dict[str, list[str]],
          users: ImageUsers) -> dict[str, Any]:
    """docker image prune: unused images (only untagged ones unless ``dangling_only`` is
    off) whose labels match; reports what went and the bytes it freed. Untagged images
    with children are the build cache of the images built on them: like dockerd, prune
    leaves them to go with their last child."""
    selects = prune_filter(filters, PRUNE_KEYS | {"dangling"})
    deleted: Report = []
    reclaimed = 0
    for image_id in images.ids():
        if image_id not in images.ids():
            continue  # pruned already as a parent of an image before it
        img = images.get(image_id)
        if users(image_id) or (dangling_only and img.repo_tags):
            continue
        if not img.repo_tags and images.children(image_id):
            continue
        if not selects(img.config.get("Labels") or {}, img.created):
            continue
        deleted += _untag_all(images, image_id)
        if images.children(image_id):
            continue  # prune -a: a tagged image under another loses its names only
        reclaimed += img.size
        deleted += _remove(images, img, True, users)
    return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}
