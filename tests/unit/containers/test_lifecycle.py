"""The container service on fakes: no root, no shim, no kernel (STYLE 6.3.14).

The fakes implement the Protocols of engine/containers/protocols.py, so mypy holds them
to the same shape as the real image store and runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydocker.engine.config import DaemonConfig
from pydocker.engine.containers.model import Container
from pydocker.engine.containers.protocols import ProcessHandle
from pydocker.engine.containers.service import ContainerService, StartFailed
from pydocker.engine.containers.state import ContainerState
from pydocker.engine.containers.store import ContainerStore
from pydocker.engine.errors import Conflict, NotModified, SystemFailure
from pydocker.engine.events import EventBus
from pydocker.engine.runtime.client import StartError


@dataclass(frozen=True)
class FakeExit:
    exit_code: int
    oom_killed: bool = False
    finished_at: str = ""


@dataclass(frozen=True)
class FakeImage:
    id: str = "sha256:" + "a" * 64
    config: dict[str, Any] = field(default_factory=lambda: {"Cmd": ["sleep", "60"]})


class FakeImages:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.removed: list[str] = []

    def get(self, ref: str) -> FakeImage:
        return FakeImage()

    def create_rw(self, container_id: str, image_id: str) -> dict[str, Any]:
        upper = self.root / container_id
        upper.mkdir(parents=True)
        return {"upper": str(upper), "lower": [], "work": ""}

    def remove_rw(self, container_id: str) -> None:
        self.removed.append(container_id)


class FakeShim:
    """A process that runs until a signal ends it with 128 + the signal's number."""

    def __init__(self, pid: int, start_error: StartError | None) -> None:
        self.pid = pid
        self.signals: list[int] = []
        self.frozen = False
        self._start_error = start_error
        self._exit: asyncio.Future[FakeExit] = asyncio.get_running_loop().create_future()

    def exit(self, code: int) -> None:
        if not self._exit.done():
            self._exit.set_result(FakeExit(code))

    async def start(self) -> None:
        if self._start_error is not None:
            raise self._start_error

    async def wait(self) -> FakeExit:
        return await self._exit

    async def kill(self, signal: int) -> None:
        self.signals.append(signal)
        self.exit(128 + signal)

    async def pause(self) -> None:
        self.frozen = True

    async def resume(self) -> None:
        self.frozen = False

    async def resize(self, height: int, width: int) -> None:
        raise NotImplementedError

    async def attach(self, stdin: bool, stdout: bool, stderr: bool
                     ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raise NotImplementedError

    async def exec(self, spec: dict[str, Any], exec_id: str = "", *, raw: bool | None = None
                   ) -> ProcessHandle:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        return {}


class FakeRuntime:
    def __init__(self, bundles: Path) -> None:
        self.bundles = bundles
        self.specs: list[dict[str, Any]] = []
        self.shims: list[FakeShim] = []
        self.deleted: list[str] = []
        self.start_error: StartError | None = None
        self.create_error: StartError | None = None

    async def create(self, spec: dict[str, Any]) -> FakeShim:
        if self.create_error is not None:
            raise self.create_error
        self.specs.append(spec)
        self.shims.append(FakeShim(1000 + len(self.shims), self.start_error))
        return self.shims[-1]

    async def connect(self, container_id: str) -> FakeShim | None:
        return None

    async def delete(self, container_id: str) -> None:
        self.deleted.append(container_id)

    def exit_status(self, container_id: str) -> FakeExit | None:
        return None

    def cgroup(self, container_id: str) -> None:
        return None

    async def create_netns(self, path: Path) -> None:
        raise AssertionError("no netns with NetworkMode none")

    async def remove_netns(self, path: Path) -> None:
        raise AssertionError("no netns with NetworkMode none")

    def mounted_rootfs(self, container_id: str, rootfs: dict[str, Any], pid: int = 0,
                       binds: Sequence[dict[str, Any]] = ()
                       ) -> AbstractAsyncContextManager[Path]:
        @contextlib.asynccontextmanager
        async def mounted() -> AsyncIterator[Path]:
            yield Path(rootfs["upper"])
        return mounted()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def runtime(tmp_path: Path) -> FakeRuntime:
    (tmp_path / "exec" / "containers").mkdir(parents=True)
    return FakeRuntime(tmp_path / "exec" / "containers")


@pytest.fixture
def service(tmp_path: Path, runtime: FakeRuntime, bus: EventBus) -> ContainerService:
    conf = DaemonConfig(data_root=tmp_path / "data", exec_root=tmp_path / "exec")
    store = ContainerStore(tmp_path / "data" / "containers")
    return ContainerService(conf, store, FakeImages(tmp_path / "layers"), runtime, None, None,
                            bus)


def status(c: Container) -> ContainerState:
    """Read afresh: mypy would otherwise keep the state an earlier assert narrowed."""
    return c.state.status


def actions(bus: EventBus) -> list[str]:
    return [e.action for e in bus.history(0, None)]


BODY = {"Image": "busybox", "HostConfig": {"NetworkMode": "none"}}


async def test_create_start_stop(service: ContainerService, runtime: FakeRuntime,
                                 bus: EventBus) -> None:
    c, warnings = await service.create("web", dict(BODY))
    assert (c.state.status, warnings) == (ContainerState.CREATED, [])
    await service.start("web")
    assert status(c) is ContainerState.RUNNING and c.state.pid == 1000
    assert runtime.specs[0]["args"] == ["sleep", "60"]
    assert runtime.specs[0]["log_path"] == str(service.paths.json_log(c.id))
    assert service.paths.hosts(c.id).read_text().startswith("127.0.0.1\tlocalhost")
    with pytest.raises(NotModified):
        await service.start("web")
    await service.stop("web", timeout=1)
    assert status(c) is ContainerState.EXITED and c.state.exit_code == 128 + 15
    assert runtime.shims[0].signals == [signal.SIGTERM]
    assert actions(bus) == ["create", "start", "kill", "die", "stop"]
    assert service.counts() == {"Containers": 1, "ContainersRunning": 0,
                                "ContainersPaused": 0, "ContainersStopped": 1}


async def test_start_failure_records_the_runtime_exit_code(
        service: ContainerService, runtime: FakeRuntime) -> None:
    c, _ = await service.create(None, dict(BODY))
    runtime.start_error = StartError('exec: "sleep": not found', 127)
    with pytest.raises(StartFailed, match="failed to create task for container: exec"):
        await service.start(c.id)
    assert (c.state.status, c.state.exit_code) == (ContainerState.CREATED, 127)
    assert runtime.deleted == [c.id]  # the undo ran


async def test_a_shim_that_dies_at_create_is_a_system_failure(
        service: ContainerService, runtime: FakeRuntime) -> None:
    c, _ = await service.create(None, dict(BODY))
    runtime.create_error = StartError("the shim died while creating the container", 128)
    with pytest.raises(SystemFailure, match="the shim died"):
        await service.start(c.id)
    assert c.state.error == "the shim died while creating the container"


async def test_pause_unpause_and_remove(service: ContainerService, runtime: FakeRuntime,
                                        bus: EventBus) -> None:
    c, _ = await service.create("pz", dict(BODY))
    with pytest.raises(Conflict, match="is not running"):
        await service.pause("pz")
    await service.start("pz")
    await service.pause("pz")
    assert status(c) is ContainerState.PAUSED and runtime.shims[0].frozen
    with pytest.raises(Conflict, match="already paused"):
        await service.pause("pz")
    with pytest.raises(Conflict, match="paused container"):
        await service.start("pz")
    await service.unpause("pz")
    assert status(c) is ContainerState.RUNNING and not runtime.shims[0].frozen
    with pytest.raises(Conflict, match="container is running"):
        await service.remove("pz")
    removed = await service.wait("pz", "removed")
    await service.remove("pz", force=True)
    assert await removed == 128 + 9
    assert service.store.find("pz") is None
    assert actions(bus)[-2:] == ["die", "destroy"]


async def test_restart_policy_starts_it_again(service: ContainerService,
                                              runtime: FakeRuntime) -> None:
    body = {**BODY, "HostConfig": {"NetworkMode": "none",
                                   "RestartPolicy": {"Name": "on-failure"}}}
    c, _ = await service.create(None, body)
    await service.start(c.id)
    runtime.shims[0].exit(3)
    for _ in range(100):  # the first back-off is 100 ms
        await asyncio.sleep(0.01)
        if len(runtime.shims) == 2:
            break
    assert len(runtime.shims) == 2 and c.restart_count == 1
    assert status(c) is ContainerState.RUNNING
    await service.stop(c.id, timeout=1)
    assert status(c) is ContainerState.EXITED
