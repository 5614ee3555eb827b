"""The build context: the client's tar unpacked into a private directory, and the sources
COPY/ADD name in it.

The tar is hostile input: the layer extractor (images.archive) unpacks it, refusing names
with ``..`` by the rule ``docker cp``'s extractor applies; symlinks stay as they are and
are followed only inside the context (an absolute target is read from the context's root,
as moby's FollowSymlinkInScope does), so nothing outside it is ever read.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydocker.engine.errors import InvalidParameter
from pydocker.images.archive import Extractor
from pydocker.images.compression import decompressing

from .dockerignore import Matcher, read_patterns

MAX_DOCKERFILE = 16 << 20
_MAX_LINKS = 255


class Context:
    """Owns its directory: ``close()`` removes it, whatever the build did."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ignore = Matcher([])

    @classmethod
    def unpack(cls, stream: BinaryIO, scratch: Path) -> Context:
        scratch.mkdir(parents=True, exist_ok=True)
        ctx = cls(Path(tempfile.mkdtemp(prefix="build-", dir=scratch)))
        try:
            with tarfile.open(fileobj=decompressing(stream), mode="r|", encoding="utf-8",
                              errors="surrogateescape") as tar:
                Extractor(ctx.root, whiteouts=False).extract(tar, _unpadded_members(tar))
            ignore = ctx.root / ".dockerignore"
            if ignore.is_file() and not ignore.is_symlink():
                ctx.ignore = Matcher(read_patterns(ignore.read_text(errors="replace")))
        except tarfile.TarError as exc:
            ctx.close()
            raise InvalidParameter(f"failed to read the build context: {exc}") from None
        except BaseException:
            ctx.close()
            raise
        return ctx

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def dockerfile(self, name: str) -> str:
        """The Dockerfile's text (``name`` relative to the context; symlinks stay inside)."""
        path = self.resolve(name or "Dockerfile")
        if not os.path.isfile(path) and not name:
            alt = self.resolve("dockerfile")
            path = alt if os.path.isfile(alt) else path
        if not os.path.isfile(path):
            raise InvalidParameter("Cannot locate specified Dockerfile: " + (name or "Dockerfile"))
        if os.path.getsize(path) > MAX_DOCKERFILE:
            raise InvalidParameter(f"Dockerfile {name or 'Dockerfile'} is too large "
                                   f"(more than {MAX_DOCKERFILE} bytes)")
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def resolve(self, rel: str, follow_last: bool = True) -> str:
        """``rel`` inside the context with every symlink followed within it (an absolute
        target starts again from the context's root)."""
        return self._follow(str(self.root), rel.split("/"), follow_last, 0)

    def _follow(self, at: str, names: list[str], follow_last: bool, hops: int) -> str:
        for i, name in enumerate(names):
            if name in ("", "."):
                continue
            if name == "..":
                at = at if at == str(self.root) else os.path.dirname(at)
                continue
            step = os.path.join(at, name)
            rest = names[i + 1:]
            if os.path.islink(step) and (follow_last or any(n not in ("", ".") for n in rest)):
                if hops >= _MAX_LINKS:
                    raise InvalidParameter(f"too many symbolic links in {'/'.join(names)}")
                target = os.readlink(step)
                origin = str(self.root) if target.startswith("/") else at
                return self._follow(origin, target.split("/") + rest, follow_last, hops + 1)
            at = step
        return at

    def sources(self, pattern: str, instruction: str) -> list[tuple[str, str]]:
        """(context-relative path, real path) for a COPY/ADD source, globs expanded."""
        clean = posixpath.normpath("/" + pattern).lstrip("/") or "."
        if not any(ch in clean for ch in "*?["):
            real = self.resolve(clean)
            if clean != "." and (not os.path.lexists(real) or self.ignore.excluded(clean)):
                raise InvalidParameter(
                    f"{instruction} failed: file not found in build context or excluded by "
                    f".dockerignore: stat {pattern}: file does not exist")
            return [(clean, real)]
        found = [(rel, self.resolve(rel)) for rel in self._walk()
                 if _path_match(clean, rel) and not self.ignore.excluded(rel)]
        if not found:
            raise InvalidParameter(f"{instruction} failed: no source files were specified")
        return found

    def _walk(self) -> list[str]:
        out: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, self.root)
            for name in sorted(dirnames + filenames):
                out.append(posixpath.normpath(posixpath.join(rel_dir, name)))
        return out

    def content_hash(self, real: str, rel: str) -> str:
        """Names, modes, owners, sizes and contents below ``real`` (never mtimes)."""
        h = hashlib.sha256()
        for path, name in _tree(real, rel, self.ignore):
            st = os.lstat(path)
            h.update(f"{name}\0{st.st_mode:o}\0{st.st_uid}\0{st.st_gid}\0{st.st_size}\0".encode(
                errors="surrogateescape"))
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(path).encode(errors="surrogateescape"))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
        return h.hexdigest()


def _path_match(pattern: str, path: str) -> bool:
    """Go's filepath.Match: ``*``, ``?`` and classes never cross a ``/``."""
    want, have = pattern.split("/"), path.split("/")
    return len(want) == len(have) and all(
        fnmatch.fnmatchcase(name, part) for part, name in zip(want, have, strict=True))


def _unpadded_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The members; a stream that stops right after a member's data (the docker CLI's
    ``-f -`` context has neither padding nor end blocks) ends there, as Go's reader lets
    it. A member cut short still fails when its data is read."""
    while True:
        try:
            member = tar.next()
        except tarfile.ReadError as exc:
            if str(exc) == "unexpected end of data":
                return
            raise
        if member is None:
            return
        yield member


def _tree(real: str, rel: str, ignore: Matcher) -> list[tuple[str, str]]:
    """``real`` and, for a directory, everything below it not excluded, in name order."""
    out = [(real, "")]
    if os.path.isdir(real) and not os.path.islink(real):
        for dirpath, dirnames, filenames in os.walk(real):
            dirnames.sort()
            sub = os.path.relpath(dirpath, real)
            for name in sorted(dirnames + filenames):
                inner = posixpath.normpath(posixpath.join(sub, name))
                if ignore.excluded(posixpath.normpath(posixpath.join(rel, inner))):
                    continue
                out.append((os.path.join(dirpath, name), inner))
    return out


@dataclass(frozen=True)
class CopySource:
    rel: str
    real: str
    is_dir: bool


def tree_of(src: CopySource, ignore: Matcher) -> list[tuple[str, str]]:
    return _tree(src.real, src.rel, ignore)


def image_context(layers_top_first: list[str], scratch: Path) -> Context:
    """An image's filesystem as a context, for ``COPY --from``: merged into a private
    directory (the files a stage produced are few; the layers stay untouched)."""
    from pydocker.images.layerdiff import merged_tar

    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=scratch) as spool:
        merged_tar(layers_top_first, spool)
        spool.seek(0)
        return Context.unpack(spool, scratch)
