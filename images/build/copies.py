"""COPY and ADD steps: sources resolved and hashed, the cache probed, the layer written."""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import re
import shutil
import stat
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydocker.engine.errors import EngineError, InvalidParameter
from pydocker.images.store import ImageStore

from . import commit
from .context import Context, CopySource, image_context
from .copier import CopyPlan, write_copy
from .dispatch import shell_of
from .host import BuildHost
from .instructions import NEEDS_BUILDKIT, parse_flags
from .messages import short_id, stream
from .parser import Node
from .shell import expand_word

if TYPE_CHECKING:
    from .steps import StageState, Steps

_URL = re.compile(r"^https?://", re.IGNORECASE)


class CopyStep:
    def __init__(self, store: ImageStore, host: BuildHost, ctx: Context, steps: Steps) -> None:
        self.store, self.host, self.ctx, self.steps = store, host, ctx, steps
        self.opened: list[Context] = []

    def _from_dir(self) -> Path:
        """Where ``--from`` images are unpacked: next to the context, named after it."""
        return self.ctx.root.with_name(self.ctx.root.name + ".from")

    def close(self) -> None:
        for ctx in self.opened:
            ctx.close()
        self.opened.clear()
        shutil.rmtree(self._from_dir(), ignore_errors=True)

    async def _source_context(self, ref: str) -> Context:
        image_id = self.steps.stage_image(ref)
        if image_id is None:
            try:
                image_id = await self.host.image_id(ref, pull=False, platform="")
            except EngineError as exc:
                raise InvalidParameter(f"invalid from flag value {ref}: {exc}") from None
        if not image_id:
            return Context(self.ctx.root.parent / "empty-nonexistent")
        layers = self.store.lower_dirs(image_id)
        ctx = await asyncio.to_thread(image_context, layers, self._from_dir())
        self.opened.append(ctx)
        return ctx

    async def copy(self, state: StageState, node: Node) -> AsyncIterator[dict[str, object]]:
        name = node.cmd.upper()
        flags = parse_flags(node)
        if "chmod" in flags:
            raise InvalidParameter(NEEDS_BUILDKIT.format("chmod"))
        env = self.steps.env(state)
        words = [expand_word(a, env, self.steps.escape) for a in node.args]
        srcs, dest = words[:-1], words[-1]
        if name == "ADD" and any(_URL.match(s) for s in srcs):
            raise InvalidParameter("ADD of a remote URL is not supported by pydocker")
        ctx = await self._source_context(flags["from"]) if flags.get("from") else self.ctx
        sources = await asyncio.to_thread(self._resolve, ctx, srcs, name)
        if len(sources) > 1 and not dest.endswith("/"):
            raise InvalidParameter(f"When using {name} with more than one source file, the "
                                   "destination must be a directory and end with a /")
        src_hash = await asyncio.to_thread(self._hash, ctx, sources)
        cc, hit = self.steps.probe(
            state, shell_of(state.config) + [f"#(nop) {name} {src_hash} in {dest} "])
        if hit:
            for obj in self.steps.reuse(state, hit):
                yield obj
            return
        plan = CopyPlan(sources, self._dest(state, dest), self._dest_is_dir(state, dest, sources),
                        self._owner(state, flags.get("chown", "")), unpack=name == "ADD")
        image_id = state.image_id
        diff_id = await asyncio.to_thread(
            commit.add_layer, self.store, image_id,
            lambda tar: write_copy(tar, plan, ctx,
                                   lambda p: commit.lower_stat(self.store, image_id, p)))
        state.image_id = await self.steps.new_image(state, cc, diff_id=diff_id)
        yield stream(f" ---> {short_id(state.image_id)}\n")

    @staticmethod
    def _resolve(ctx: Context, srcs: list[str], name: str) -> list[CopySource]:
        out = []
        for pattern in srcs:
            for rel, real in ctx.sources(pattern, name):
                out.append(CopySource(rel, real, posixpath.isdir(real)))
        return out

    @staticmethod
    def _hash(ctx: Context, sources: list[CopySource]) -> str:
        hashes = [("dir:" if s.is_dir else "file:") + ctx.content_hash(s.real, s.rel)
                  for s in sources]
        if len(hashes) == 1:
            return hashes[0]
        return "multi:" + hashlib.sha256("\n".join(hashes).encode()).hexdigest()

    @staticmethod
    def _dest(state: StageState, dest: str) -> str:
        base = state.config.get("WorkingDir") or "/"
        return posixpath.normpath(posixpath.join(base, dest))

    def _dest_is_dir(self, state: StageState, dest: str, sources: list[CopySource]) -> bool:
        if dest.endswith("/") or len(sources) > 1 or any(s.is_dir for s in sources):
            return True
        st = commit.lower_stat(self.store, state.image_id, self._dest(state, dest))
        return st is not None and stat.S_ISDIR(st.st_mode)

    def _owner(self, state: StageState, chown: str) -> tuple[int, int] | None:
        if not chown:
            return None
        user, _, group = chown.partition(":")
        passwd = commit.read_image_file(self.store, state.image_id, "/etc/passwd")
        groups = commit.read_image_file(self.store, state.image_id, "/etc/group")
        uid, primary = _lookup(passwd, user, "user")
        gid = _lookup(groups, group, "group")[0] if group else (
            primary if not user.isdigit() else uid)
        return uid, gid

    def mkdir_layer(self, image_id: str, path: str) -> str:
        def write(tar: tarfile.TarFile) -> None:
            parts = [p for p in path.split("/") if p]
            for i in range(1, len(parts) + 1):
                sub = "/".join(parts[:i])
                st = commit.lower_stat(self.store, image_id, sub)
                info = tarfile.TarInfo(sub)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755 if st is None else st.st_mode & 0o7777
                if st is not None:
                    info.uid, info.gid, info.mtime = st.st_uid, st.st_gid, int(st.st_mtime)
                tar.addfile(info)
        return commit.add_layer(self.store, image_id, write)


def _lookup(table: str, name: str, kind: str) -> tuple[int, int]:
    """``name`` (or a number) in /etc/passwd or /etc/group: (id, primary gid)."""
    if name.isdigit():
        return int(name), int(name)
    for line in table.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == name and fields[2].isdigit():
            gid = int(fields[3]) if kind == "user" and len(fields) > 3 and fields[3].isdigit() \
                else int(fields[2])
            return int(fields[2]), gid
    raise InvalidParameter(f"unable to convert uid/gid chown string to host mapping: can't "
                           f"find {'uid' if kind == 'user' else 'gid'} for {kind} {name}: "
                           f"no such {kind}: {name}")
