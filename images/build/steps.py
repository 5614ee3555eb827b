"""One build step at a time: the cache probe, the container (RUN and the ``#(nop)`` steps),
the layer (RUN, COPY/ADD, WORKDIR), the committed image and the lines dockerd prints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydocker.engine.errors import EngineError, InvalidParameter, SystemFailure
from pydocker.images.store import ImageStore

from . import commit
from .context import Context
from .copies import CopyStep
from .dispatch import apply_metadata, command_of, shell_of
from .host import BuildHost, BuildOptions
from .instructions import NEEDS_BUILDKIT, parse_flags
from .messages import short_id, stream
from .parser import Node
from .shell import env_map, expand_word

JSON = dict[str, Any]
# Accepted as --build-arg without an ARG, and passed to RUN (moby's builtinAllowedBuildArgs).
PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
              "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


class StepFailed(SystemFailure):
    """A RUN that exited non-zero: in-band only (``code`` is errorDetail.code)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class StageState:
    image_id: str
    meta: dict[str, str]
    config: JSON = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    cmd_set: bool = False
    author: str = ""
    busted: bool = False


class Steps:
    def __init__(self, store: ImageStore, host: BuildHost, ctx: Context,
                 options: BuildOptions, escape: str) -> None:
        self.store, self.host, self.ctx, self.options = store, host, ctx, options
        self.escape = escape
        self.used_args: set[str] = set()
        self.stages: list[tuple[str, str]] = []
        self.live: set[str] = set()        # containers not removed yet
        self.failed: set[str] = set()      # a failed RUN's: kept unless forcerm (dockerd)
        self.final_id = ""
        self.cache_sources = self._cache_sources(options.cache_from)
        self.cache = commit.CacheIndex(store)
        self.copies = CopyStep(store, host, ctx, self)

    # --- the build's bookkeeping -------------------------------------------------------

    def _cache_sources(self, refs: list[str]) -> set[str] | None:
        """``cachefrom``: only those images and their ancestors may be reused (an unknown
        name contributes nothing, as in dockerd); None: any image built here."""
        if not refs:
            return None
        out: set[str] = set()
        for ref in refs:
            img = self.store.find(ref)
            while img is not None and img.id not in out:
                out.add(img.id)
                parent = img.document.get("parent") or ""
                img = self.store.find(parent) if parent else None
        return out

    def finish_stage(self, name: str, state: StageState) -> None:
        self.stages.append((name, state.image_id))

    def stage_image(self, ref: str) -> str | None:
        for i, (name, image_id) in enumerate(self.stages):
            if (name and name == ref.lower()) or str(i) == ref:
                return image_id
        return None

    async def cleanup(self) -> None:
        """Containers the build made and still holds: all of them if it did not finish
        (the client left, or ``forcerm``); a failed RUN's stays with plain ``rm``."""
        keep = set() if self.options.force_rm else self.failed
        for cid in sorted(self.live - keep):
            with contextlib.suppress(EngineError, OSError):
                await self.host.remove(cid)
        self.live.clear()
        self.copies.close()

    def env(self, state: StageState) -> dict[str, str]:
        """What instructions expand with: the stage's ARGs, overridden by ENV."""
        values = {k: v for k, v in state.args.items() if v is not None}
        values.update(env_map(list(state.config.get("Env") or [])))
        return values

    def probe(self, state: StageState, cmd: list[str]) -> tuple[JSON, str | None]:
        """The step's container config (its Cmd: ``cmd``) and an earlier image of it."""
        container_config = {**state.config, "Cmd": cmd}
        if self.options.no_cache or state.busted:
            return container_config, None
        hit = self.cache.find(state.image_id, container_config, self.cache_sources)
        if hit is None:
            state.busted = True  # the first miss: nothing after it can hit
        return container_config, hit

    @staticmethod
    def reuse(state: StageState, hit: str) -> list[JSON]:
        """A cache hit: the step's image is the earlier one."""
        state.image_id = hit
        return [stream(" ---> Using cache\n"), stream(f" ---> {short_id(hit)}\n")]

    async def new_image(self, state: StageState, container_config: JSON, *,
                        diff_id: str | None, container: str = "") -> str:
        config = dict(state.config)
        config["Image"] = state.image_id
        doc = commit.child_document(
            self.store, state.image_id, config, container_config,
            created_by=" ".join(container_config.get("Cmd") or []), diff_id=diff_id,
            container=container, author=state.author, platform=self.options.platform or None)
        return await asyncio.to_thread(self.store.add_image, doc)

    async def create(self, state: StageState, config: JSON) -> str:
        body = {k: v for k, v in config.items() if k != "Volumes"}
        cid = await self.host.create(state.image_id, body, self.options.host_config)
        self.live.add(cid)
        return cid

    async def remove(self, cid: str) -> AsyncIterator[JSON]:
        if self.options.rm or self.options.force_rm:
            await self.host.remove(cid)
            self.live.discard(cid)
            yield stream(f"Removing intermediate container {cid[:12]}\n")

    # --- dispatch ----------------------------------------------------------------------

    async def dispatch(self, state: StageState, node: Node) -> AsyncIterator[JSON]:
        cmd = node.cmd
        if cmd == "run":
            steps = self.run(state, node)
        elif cmd in ("copy", "add"):
            steps = self.copies.copy(state, node)
        elif cmd == "arg":
            steps = self.arg(state, node)
        elif cmd == "maintainer":
            state.author = node.args[0]
            steps = self.nop(state, shell_of(state.config) + ["#(nop) ",
                                                             "MAINTAINER " + node.args[0]])
        else:
            comment = apply_metadata(node, state.config, self.env(state), self.escape,
                                     state.cmd_set)
            state.cmd_set = state.cmd_set or cmd == "cmd"
            if cmd == "workdir":
                steps = self.workdir(state, comment)
            else:
                steps = self.nop(state, shell_of(state.config) + ["#(nop) ", comment])
        async for obj in steps:
            yield obj

    async def nop(self, state: StageState, cmd: list[str], diff_id: str | None = None
                  ) -> AsyncIterator[JSON]:
        """A config-only step: a container is made (and removed) as dockerd does."""
        cc, hit = self.probe(state, cmd)
        if hit:
            for obj in self.reuse(state, hit):
                yield obj
            return
        cid = ""
        if state.image_id:
            cid = await self.create(state, cc)
            yield stream(f" ---> Running in {cid[:12]}\n")
        state.image_id = await self.new_image(state, cc, diff_id=diff_id, container=cid)
        if cid:
            async for obj in self.remove(cid):
                yield obj
        yield stream(f" ---> {short_id(state.image_id)}\n")

    async def workdir(self, state: StageState, comment: str) -> AsyncIterator[JSON]:
        path = state.config["WorkingDir"]
        diff_id = None
        if commit.lower_stat(self.store, state.image_id, path) is None:
            diff_id = await asyncio.to_thread(self.copies.mkdir_layer, state.image_id, path)
        async for obj in self.nop(state, shell_of(state.config) + ["#(nop) " + comment],
                                  diff_id):
            yield obj

    async def arg(self, state: StageState, node: Node) -> AsyncIterator[JSON]:
        texts = []
        for key, default in node.pairs:
            self.used_args.add(key)
            value = default
            if default is not None:
                value = expand_word(default, self.env(state), self.escape)
            elif key in state.meta:
                value = state.meta[key]
            given = self.options.build_args.get(key)
            state.args[key] = given if given is not None else value
            texts.append(f"{key}={default}" if default is not None else key)
        async for obj in self.nop(state, shell_of(state.config)
                                  + ["#(nop) ", "ARG " + " ".join(texts)]):
            yield obj

    def build_env(self, state: StageState) -> list[str]:
        """``k=v`` of the stage's ARGs that have a value and no ENV of the same name."""
        env_keys = set(env_map(list(state.config.get("Env") or [])))
        return sorted(f"{k}={v}" for k, v in state.args.items()
                      if v is not None and k not in env_keys)

    async def run(self, state: StageState, node: Node) -> AsyncIterator[JSON]:
        if "mount" in parse_flags(node):
            raise InvalidParameter(NEEDS_BUILDKIT.format("mount"))
        cmd = command_of(node, state.config)
        if not cmd:
            raise InvalidParameter("RUN requires at least one argument")
        args = self.build_env(state)
        save = [f"|{len(args)}", *args, *cmd] if args else cmd
        cc, hit = self.probe(state, save)
        if hit:
            for obj in self.reuse(state, hit):
                yield obj
            return
        proxies = [f"{k}={v}" for k, v in self.options.build_args.items()
                   if k in PROXY_ARGS and v is not None and k not in state.args]
        run_config = dict(state.config)
        run_config.update(Cmd=cmd, Entrypoint=[], Healthcheck=None,
                          Env=list(state.config.get("Env") or []) + args + proxies)
        cid = await self.create(state, run_config)
        yield stream(f" ---> Running in {cid[:12]}\n")
        async for fd, data in self.host.run(cid):
            text = data.decode("utf-8", errors="replace")
            yield stream(f"\x1b[91m{text}\x1b[0m" if fd == 2 else text)
        code = await self.host.wait(cid)
        if code != 0:
            self.failed.add(cid)
            raise StepFailed(f"The command '{' '.join(cmd)}' returned a non-zero code: {code}",
                             code)
        upper = self.host.upper_dir(cid)
        diff_id = await asyncio.to_thread(commit.add_upper, self.store, state.image_id, upper)
        state.image_id = await self.new_image(state, cc, diff_id=diff_id, container=cid)
        async for obj in self.remove(cid):
            yield obj
        yield stream(f" ---> {short_id(state.image_id)}\n")
