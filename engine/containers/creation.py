"""``docker create``: a checked request becomes a record, an rw layer and mounts.

Nothing runs yet; starting is lifecycle.py. Every step is undone if a later one fails,
so a refused create leaves no record, no layer and no reserved name behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from typing import Any

from pydocker.engine.errors import InvalidParameter
from pydocker.engine.host.sysinfo import CgroupInfo
from pydocker.engine.timeutil import rfc3339_now

from . import config as cfg
from . import initlayer, links, logconfig, names, namespaces, resources, spec
from .context import Collaborators
from .model import Container


def _endpoints_config(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """NetworkingConfig.EndpointsConfig, with "default" spelled "bridge" as dockerd does.
    The container-wide Config.MacAddress (deprecated in API 1.44, still what docker-py's
    ``mac_address`` sends) is the main network's, unless its endpoint names one."""
    configs = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    out = {"bridge" if k == "default" else k: dict(v or {}) for k, v in configs.items()}
    mac = body.get("MacAddress")
    host_config = body.get("HostConfig") or {}
    if mac and namespaces.own_netns(host_config):
        endpoint = out.setdefault(namespaces.network_mode(host_config), {})
        endpoint["MacAddress"] = endpoint.get("MacAddress") or mac
    return out


async def create(parts: Collaborators, cgroup_info: CgroupInfo, name: str | None,
                 body: dict[str, Any], platform: str | None = None, *,
                 default_ipc_mode: str = namespaces.DEFAULT_IPC_MODE,
                 log_defaults: logconfig.LogDefaults = logconfig.DAEMON_DEFAULTS
                 ) -> tuple[Container, list[str]]:
    """Check the request, make the record, the rw layer and the mounts (each undone if a
    later one fails), then announce it. Returns the container and dockerd's warnings."""
    image_ref = body.get("Image") or ""
    if not image_ref:
        raise InvalidParameter("config cannot be empty in order to create a container")
    host_config = dict(body.get("HostConfig") or {})
    cfg.validate_host_config(host_config)
    namespaces.settle(host_config, parts.store.get, default_ipc_mode)
    spec.settle_paths(host_config)
    logconfig.settle(host_config, log_defaults)
    warnings = resources.verify(host_config, cgroup_info)
    cfg.capabilities(host_config)  # unknown capabilities are a 400 before anything exists
    if name is not None and name != "":
        name = names.validate(name)
    store, images = parts.store, parts.images
    image = await asyncio.to_thread(images.get, image_ref)
    config = cfg.merge_image_config(body, image.config)
    config["Image"] = image_ref
    namespaces.check_hostname(config, host_config)
    path, args = cfg.entrypoint_and_args(config)
    container_id = secrets.token_hex(32)
    if not config.get("Hostname"):
        # With the host's network the name is the host's too (dockerd), in a UTS
        # namespace of its own all the same: `hostname x` in it leaves the host's alone.
        host_network = host_config.get("NetworkMode") == "host"
        config["Hostname"] = os.uname().nodename if host_network else container_id[:12]
    name = name or names.random_name(store.names())
    host_config["Links"] = links.settle(host_config.get("Links"), name, store.get)
    store.reserve_name(name, container_id)
    c = Container(id=container_id, name=name, created=rfc3339_now(), image_id=image.id,
                  config=config, host_config=host_config, path=path, args=args,
                  platform=platform or "linux", endpoints_config=_endpoints_config(body))
    if parts.network is not None:
        parts.network.validate(c)
        c.networks = parts.network.planned(c)
    async with contextlib.AsyncExitStack() as undo:
        store.add(c)
        undo.callback(store.remove, c)
        rootfs = await asyncio.to_thread(images.create_rw, c.id, image.id)
        undo.push_async_callback(asyncio.to_thread, images.remove_rw, c.id)
        init = parts.paths.init_layer(c.id)  # removed with the state directory
        await asyncio.to_thread(initlayer.create, init, list(rootfs["lower"]))
        c.rootfs = {**rootfs, "lower": [str(init), *rootfs["lower"]]}
        if parts.volumes is not None:
            c.mounts = await parts.volumes.prepare_mounts(c)
            undo.push_async_callback(parts.volumes.release_mounts, c, True)
        store.save(c)
        undo.pop_all()
    parts.events.publish(c, "create")
    return c, warnings
