"""What a container holds while it runs, besides its process: the network namespace and
its endpoints, mounted volumes, the /etc files, a shareable /dev/shm, the runtime's bundle.

``enter`` sets it up with each step's undo pushed on the caller's stack (so a failed
start leaves nothing behind); ``leave`` takes down whatever is still there and never
fails, because it runs on every exit, including exits after a daemon crash.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from pydocker.engine.errors import InvalidParameter, SystemFailure
from pydocker.engine.runtime.errors import RuntimeFailure

from . import files, namespaces, shm
from .context import Collaborators
from .model import Container


class Sandbox:
    def __init__(self, parts: Collaborators) -> None:
        self.parts = parts

    async def enter(self, c: Container, undo: contextlib.AsyncExitStack,
                    linked_hosts: Sequence[tuple[str, list[str]]] = ()
                    ) -> tuple[str, list[dict[str, Any]]]:
        """(the netns the process joins, the runtime mounts for /etc files and volumes).
        ``linked_hosts``: the /etc/hosts lines of its links (ip, names)."""
        netns = await self._join_network(c, undo)
        shm_mounts = await shm.enter(c, self.parts.store.get, self.parts.paths, undo)
        volumes = self.parts.volumes
        if volumes is not None:
            await volumes.mount(c)
            undo.push_async_callback(volumes.unmount, c)
        donor = namespaces.network_donor(c, self.parts.store.get)
        if donor is not None:
            # dockerd's initializeNetworkingPaths: the donor's files and host name.
            c.etc_owner = donor.etc_owner or donor.id
            c.config["Hostname"] = donor.config.get("Hostname") or ""
            c.config["Domainname"] = donor.config.get("Domainname") or ""
            etc_mounts = files.etc_mounts(c.etc_owner, self.parts.paths,
                                          bool(c.host_config.get("ReadonlyRootfs")))
        else:
            etc_mounts = files.write_etc_files(c, self.parts.paths, linked_hosts)
        return netns, shm_mounts + etc_mounts + [m["spec"] for m in c.mounts if "spec" in m]

    async def _join_network(self, c: Container, undo: contextlib.AsyncExitStack) -> str:
        mode = c.host_config.get("NetworkMode") or "bridge"
        if mode in ("host", "none"):
            return mode
        donor = namespaces.network_donor(c, self.parts.store.get)
        if donor is not None:
            return f"/proc/{donor.state.pid}/ns/net"
        network = self.parts.network
        if network is None:
            raise InvalidParameter("bridge networking is not available in this daemon")
        runtime = self.parts.runtime
        netns = self.parts.paths.netns(c.id)
        netns.parent.mkdir(parents=True, exist_ok=True)
        try:
            await runtime.create_netns(netns)
        except RuntimeFailure as exc:  # the spawner could not make it: the host's fault
            raise SystemFailure(str(exc)) from exc
        undo.push_async_callback(runtime.remove_netns, netns)
        await network.attach_container(c, str(netns))
        undo.push_async_callback(network.detach_container, c)
        return str(netns)

    async def leave(self, c: Container) -> None:
        """What a stopped container no longer needs: endpoints, netns, runtime leftovers."""
        network, runtime = self.parts.network, self.parts.runtime
        if network is not None and namespaces.own_netns(c.host_config):
            with contextlib.suppress(Exception):
                await network.detach_container(c)
            with contextlib.suppress(Exception):
                await runtime.remove_netns(self.parts.paths.netns(c.id))
        with contextlib.suppress(Exception):
            await runtime.delete(c.id)
        shm.leave(c, self.parts.paths)
        if self.parts.volumes is not None:
            with contextlib.suppress(Exception):
                await self.parts.volumes.unmount(c)
