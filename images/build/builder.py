"""The classic builder: stages in order, one image per step, the cache, dockerd's stream.

``Builder.run()`` yields the JSON objects dockerd 20.10 streams (``Step N/M : ...``,
`` ---> Running in ...``, the step's output, `` ---> <id>``, the aux ID, ``Successfully
built/tagged``). Errors found before the first object (a bad Dockerfile) are raised;
after, the last object is ``error``/``errorDetail`` and the stream ends.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from pydocker.engine.errors import EngineError, InvalidParameter, os_error_text
from pydocker.images import reference
from pydocker.images.store import ImageStore

from . import instructions
from .context import Context
from .host import BuildHost, BuildOptions
from .instructions import Plan, Stage
from .messages import short_id, stream
from .parser import Node, node_from_line, parse
from .shell import expand_word
from .steps import PROXY_ARGS, StageState, StepFailed, Steps

JSON = dict[str, Any]
_PLAIN = re.compile(r"[^\s\"'\\$`]+")
_IMAGE_LINE = re.compile(r"^ ---> [0-9a-f]{12}\n$")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _word(text: str) -> str:
    """As written in the step line (``LABEL a=b``), quoted only when it must be."""
    if _PLAIN.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


class Builder:
    def __init__(self, store: ImageStore, host: BuildHost, ctx: Context,
                 options: BuildOptions) -> None:
        self.store, self.host, self.ctx, self.options = store, host, ctx, options
        self.dockerfile = parse(ctx.dockerfile(options.dockerfile))
        self.plan: Plan = instructions.plan(self.dockerfile.nodes)
        self.target = self.plan.target_index(options.target)
        for tag in options.tags:
            reference.parse(tag)
        if options.labels:
            self._append_labels()
        self.steps = Steps(store, host, ctx, options, self.dockerfile.escape)

    def _append_labels(self) -> None:
        text = "LABEL " + " ".join(f"{_word(k)}={_word(v)}"
                                   for k, v in self.options.labels.items())
        self.plan.stages[self.target].commands.append(node_from_line(text, "\\"))

    def total_steps(self) -> int:
        stages = self.plan.stages[:self.target + 1]
        return len(self.plan.meta_args) + sum(1 + len(s.commands) for s in stages)

    async def run(self) -> AsyncGenerator[JSON, None]:
        quiet = self.options.quiet
        error: EngineError | OSError | None = None
        try:
            async for obj in self._build():
                if not quiet:
                    yield obj
        except (EngineError, OSError) as exc:
            error = exc
        finally:
            # Before the error goes out: a client exits on it (dockerd cleans up first).
            await self.steps.cleanup()
        if error is not None:
            code = error.code if isinstance(error, StepFailed) else None
            text = os_error_text(error) if isinstance(error, OSError) else str(error)
            detail: JSON = {"message": text}
            if code is not None:
                detail = {"code": code, "message": text}
            yield {"errorDetail": detail, "error": text}
            return
        if quiet:
            yield stream(self.steps.final_id + "\n")

    async def _build(self) -> AsyncIterator[JSON]:
        if self.dockerfile.warnings:
            text = "\n".join(self.dockerfile.warnings)
            yield stream(f"\x1b[91m{text}\n\x1b[0m")
        total, n = self.total_steps(), 0
        meta = self._meta_args()
        for node in self.plan.meta_args:
            n += 1
            yield stream(f"Step {n}/{total} : {node.original}")
            yield stream("\n")
        state: StageState | None = None
        for stage in self.plan.stages[:self.target + 1]:
            n += 1
            yield stream(f"Step {n}/{total} : {stage.node.original}")
            yield stream("\n")
            state = await self._from(stage, meta)
            async for obj in self._triggers(state):
                yield obj
            yield stream(f" ---> {short_id(state.image_id)}\n")
            for node in stage.commands:
                n += 1
                yield stream(f"Step {n}/{total} : {node.original}")
                yield stream("\n")
                async for obj in self.steps.dispatch(state, node):
                    yield obj
            self.steps.finish_stage(stage.name, state)
        assert state is not None
        if not state.image_id:
            raise InvalidParameter("No image was generated. Is your Dockerfile empty?")
        self.steps.final_id = state.image_id
        yield {"aux": {"ID": state.image_id}}
        unused = sorted(k for k in self.options.build_args
                        if k not in self.steps.used_args and k not in PROXY_ARGS)
        if unused:
            yield stream(f"[Warning] One or more build-args [{' '.join(unused)}] "
                         "were not consumed\n")
        yield stream(f"Successfully built {short_id(state.image_id)}\n")
        for tag in self.options.tags:
            ref = reference.parse(tag)
            await asyncio.to_thread(self.store.tag, state.image_id, ref.repository, ref.tag)
            yield stream(f"Successfully tagged {ref.familiar()}\n")

    def _meta_args(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for node in self.plan.meta_args:
            for key, default in node.pairs:
                self.steps.used_args.add(key)
                if key in self.options.build_args and self.options.build_args[key] is not None:
                    values[key] = self.options.build_args[key] or ""
                elif default is not None:
                    values[key] = expand_word(default, values, self.dockerfile.escape)
        return values

    async def _from(self, stage: Stage, meta: dict[str, str]) -> StageState:
        base = expand_word(stage.base, meta, self.dockerfile.escape)
        image_id = self.steps.stage_image(base)
        if image_id is None and base.lower() != "scratch":
            image_id = await self.host.image_id(base, pull=self.options.pull,
                                                platform=stage.platform or self.options.platform)
        state = StageState(image_id=image_id or "", meta=meta)
        if image_id:
            img = self.store.get(image_id)
            state.config = dict(img.config or {})
        if not any(e.startswith("PATH=") for e in state.config.get("Env") or []):
            # dockerd's setDefaultPath: every stage's RUN finds the usual tools.
            state.config["Env"] = [*(state.config.get("Env") or []), DEFAULT_PATH]
        return state

    async def _triggers(self, state: StageState) -> AsyncIterator[JSON]:
        triggers = list(state.config.get("OnBuild") or [])
        if not triggers:
            return
        state.config["OnBuild"] = None
        # dockerd's three writes; each trigger's own " ---> <id>" is not shown, the
        # stage's is, once they have all run.
        yield stream(f"# Executing {len(triggers)} build trigger")
        if len(triggers) > 1:
            yield stream("s")
        yield stream("\n")
        for text in triggers:
            node: Node = node_from_line(text, self.dockerfile.escape)
            instructions.check(node)
            if node.cmd in ("onbuild", "from", "maintainer"):
                raise InvalidParameter(f"{node.cmd.upper()} isn't allowed as an ONBUILD trigger")
            async for obj in self.steps.dispatch(state, node):
                if not _IMAGE_LINE.match(obj.get("stream", "")):
                    yield obj
