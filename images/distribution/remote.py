"""What the API asks a registry without moving an image: a login check, a manifest's
descriptor and platforms (``docker manifest inspect``'s endpoint), and a v1 index search.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from pydocker.engine.errors import SystemFailure

from ..reference import DEFAULT_DOMAIN
from ..registry import RegistryClient
from ..registry.dial import describe
from ..registry.manifest import ImageManifest, parse_manifest
from ..registry.platforms import Platform
from ..registry.transport import INDEX_SERVER

JSON = dict[str, Any]
SEARCH_TIMEOUT = aiohttp.ClientTimeout(total=15)


def server_domain(serveraddress: str) -> str:
    """``POST /auth``'s ``serveraddress`` as a registry domain: the scheme and path go,
    Docker Hub's index (or nothing) is ``docker.io``."""
    text = serveraddress.strip()
    if not text or text.rstrip("/") in (INDEX_SERVER.rstrip("/"), "index.docker.io",
                                        "https://index.docker.io", "registry-1.docker.io",
                                        "docker.io"):
        return DEFAULT_DOMAIN
    text = text.split("://", 1)[-1]
    return text.split("/", 1)[0]


async def inspect(client: RegistryClient, path: str, reference: str) -> JSON:
    """``GET /distribution/{name}/json``: the descriptor the name resolves to and the
    platforms it serves (an index's entries, or the one image's config)."""
    fetched = await client.get_manifest(path, reference)
    parsed = parse_manifest(fetched.data, fetched.media_type)
    descriptor = {"mediaType": fetched.media_type or parsed.media_type,
                  "digest": fetched.digest, "size": len(fetched.data)}
    if isinstance(parsed, ImageManifest):
        config = json.loads(await client.fetch_small_blob(path, parsed.config.digest))
        platforms = [_platform_of_config(config)]
    else:
        platforms = [_platform_json(entry.platform) for entry in parsed.manifests
                     if entry.platform is not None]
    return {"Descriptor": descriptor, "Platforms": platforms}


def _platform_json(platform: Platform) -> JSON:
    out: JSON = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        out["variant"] = platform.variant
    return out


def _platform_of_config(config: JSON) -> JSON:
    out: JSON = {"architecture": str(config.get("architecture") or ""),
                 "os": str(config.get("os") or "")}
    for key in ("os.version", "os.features", "variant"):
        if config.get(key):
            out[key] = config[key]
    return out


async def search(session: aiohttp.ClientSession, index: str, term: str,
                 limit: int) -> list[JSON]:
    """A v1 search on Docker Hub's index (or the registry the term names); an index that
    cannot be reached is dockerd's 500 with Go's dialing error."""
    url = f"https://{index}/v1/search" if index != DEFAULT_DOMAIN else \
        "https://index.docker.io/v1/search"
    full = f"{url}?q={term}&n={limit}"
    try:
        async with session.get(url, params={"q": term, "n": str(limit)},
                               timeout=SEARCH_TIMEOUT) as resp:
            if resp.status != 200:
                raise SystemFailure(f"Unexpected status code {resp.status}")
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise SystemFailure(describe("GET", full, exc)) from exc
    results = body.get("results") if isinstance(body, dict) else None
    return [r for r in results or [] if isinstance(r, dict)]
