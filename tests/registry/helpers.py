"""Test helpers: images to push, a fault-injecting proxy, htpasswd files, a token service."""

from __future__ import annotations

import asyncio
import base64
import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from aiohttp import ClientSession, web
from pydocker.images.registry import RegistryClient
from pydocker.images.registry.manifest import (
    DOCKER_CONFIG,
    DOCKER_LAYER,
    DOCKER_MANIFEST,
    Descriptor,
    build_image_manifest,
    sha256_digest,
)


def layer_blob(name: str, size: int = 4096) -> bytes:
    """A gzipped tar holding one file of random bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    return gzip.compress(raw.getvalue(), mtime=0)


def source(data: bytes, piece: int = 1000):
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), piece):
            yield data[start:start + piece]
    return chunks


async def push_random_blob(session: ClientSession, domain: str, repository: str,
                           size: int) -> tuple[bytes, str]:
    blob = layer_blob(repository, size)
    digest = sha256_digest(blob)
    await RegistryClient(session, domain).push_blob(repository, digest, len(blob),
                                                    source(blob, 65_536))
    return blob, digest


@dataclass
class PushedImage:
    config: bytes
    layers: list[bytes]
    manifest: bytes
    digest: str
    architecture: str = "amd64"
    extra: dict[str, str] = field(default_factory=dict)


async def push_image(client: RegistryClient, repository: str, tag: str,
                     architecture: str = "amd64", variant: str = "",
                     layer_size: int = 4096) -> PushedImage:
    layers = [layer_blob(f"file-{i}", layer_size) for i in range(2)]
    config = json.dumps({"architecture": architecture, "os": "linux", "variant": variant,
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    for blob in (config, *layers):
        await client.push_blob(repository, sha256_digest(blob), len(blob), source(blob))
    manifest = build_image_manifest(
        Descriptor(DOCKER_CONFIG, sha256_digest(config), len(config)),
        [Descriptor(DOCKER_LAYER, sha256_digest(b), len(b)) for b in layers])
    digest = await client.put_manifest(repository, tag, manifest, DOCKER_MANIFEST)
    return PushedImage(config, layers, manifest, digest, architecture)


HOLD_ABOVE = 100_000  # bytes: layer blobs in the tests that hold one, never a config


class FaultProxy:
    """Forwards to a registry; can cut the first blob download short or corrupt blobs."""

    def __init__(self, upstream: str, mode: str) -> None:
        self.upstream = upstream
        # "drop-once" | "drop-always" | "corrupt" | "corrupt-manifest" | "redirect" | "hold"
        self.mode = mode
        # "hold": a layer blob (not a small config) stops half-way until ``release`` is set.
        self.held, self.release = asyncio.Event(), asyncio.Event()
        self.blob_requests: list[str] = []   # the Range header of each blob GET ("" if none)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.request(
                request.method, f"http://{self.upstream}{request.path_qs}", headers=headers,
                data=await request.read(), allow_redirects=False) as upstream:
            body = await upstream.read()
            out_headers = {k: v for k, v in upstream.headers.items()
                           if k.lower() not in ("content-length", "transfer-encoding")}
            is_blob = request.method == "GET" and "/blobs/sha256:" in request.path
            if is_blob:
                self.blob_requests.append(request.headers.get("Range", ""))
                if self.mode == "redirect":
                    # A blob host of its own: another origin, so no credentials follow.
                    raise web.HTTPTemporaryRedirect(f"http://{self.upstream}{request.path_qs}")
            if self.mode == "corrupt-manifest" and "/manifests/sha256:" in request.path:
                body = body.replace(b"schemaVersion", b"schemaversion")
            if is_blob and self.mode == "corrupt":
                body = bytes([body[0] ^ 0xFF]) + body[1:]
            dropping = self.mode == "drop-always" or (
                self.mode == "drop-once" and len(self.blob_requests) == 1)
            if is_blob and self.mode == "hold" and len(body) > HOLD_ABOVE:
                return await self._hold(request, upstream.status, out_headers, body)
            if is_blob and dropping:
                response = web.StreamResponse(status=upstream.status, headers=out_headers)
                response.content_length = len(body)
                await response.prepare(request)
                await response.write(body[:len(body) // 2])
                assert request.transport is not None
                request.transport.close()
                return response
            return web.Response(status=upstream.status, headers=out_headers, body=body)

    async def _hold(self, request: web.Request, status: int, headers: dict[str, str],
                    body: bytes) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[:len(body) // 2])
        self.held.set()
        await self.release.wait()
        await response.write(body[len(body) // 2:])
        return response


def write_htpasswd(path: Path, user: str, password: str) -> str:
    """A bcrypt htpasswd line; returns "" or the reason no bcrypt hasher is available."""
    try:
        import bcrypt  # type: ignore[import-not-found]
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    except ImportError:
        hashed = _crypt_bcrypt(password)
    if not hashed and shutil.which("htpasswd"):
        subprocess.run(["htpasswd", "-Bbc", str(path), user, password], check=True)
        return ""
    if not hashed:
        return "no bcrypt hasher: python's bcrypt, crypt(3) with $2b$ and htpasswd all missing"
    path.write_text(f"{user}:{hashed}\n")
    return ""


def _crypt_bcrypt(password: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            return ""
    method = getattr(crypt, "METHOD_BLOWFISH", None)
    if method is None:
        return ""
    hashed = crypt.crypt(password, crypt.mksalt(method, rounds=16))
    return hashed if hashed and hashed.startswith("$2") else ""


class TokenService:
    """Issues JWTs the registry trusts: RS256, signed by openssl, with the cert in x5c."""

    SERVICE = "test-registry"
    ISSUER = "test-issuer"

    def __init__(self, workdir: Path, user: str, password: str) -> None:
        self.workdir = workdir
        self.user, self.password = user, password
        self.key = workdir / "token.key"
        self.cert = workdir / "token.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=token-service", "-keyout", str(self.key),
                        "-out", str(self.cert)], check=True, capture_output=True)
        pem = self.cert.read_text().strip().splitlines()
        self._x5c = "".join(line for line in pem if not line.startswith("-----"))
        self.port = 0
        self.requests: list[str] = []     # "GET" / "POST refresh_token" / ...
        self.refresh_token = "refresh-" + uuid.uuid4().hex

    def auth_yaml(self) -> str:
        return (f"auth:\n  token:\n    realm: http://127.0.0.1:{self.port}/token\n"
                f"    service: {self.SERVICE}\n    issuer: {self.ISSUER}\n"
                f"    rootcertbundle: {self.cert}\n")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/token", self._get)
        app.router.add_post("/token", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _get(self, request: web.Request) -> web.Response:
        self.requests.append("GET")
        header = request.headers.get("Authorization", "")
        if header:
            user, _, password = base64.b64decode(header.split()[1]).decode().partition(":")
            if (user, password) != (self.user, self.password):
                return web.json_response({"details": "incorrect username or password"},
                                         status=401)
        scopes = request.query.getall("scope", [])
        answer = {"token": self._jwt(scopes if header else []), "expires_in": 300}
        if header and request.query.get("offline_token") == "true":
            answer["refresh_token"] = self.refresh_token
        return web.json_response(answer)

    async def _post(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append("POST " + str(form.get("grant_type")))
        granted = (form.get("grant_type") == "refresh_token"
                   and form.get("refresh_token") == self.refresh_token) or (
            form.get("grant_type") == "password"
            and (form.get("username"), form.get("password")) == (self.user, self.password))
        if not granted:
            return web.json_response({"error": "invalid_grant"}, status=401)
        scopes = str(form.get("scope", "")).split()
        return web.json_response({"access_token": self._jwt(scopes), "expires_in": 300,
                                  "refresh_token": self.refresh_token})

    def _jwt(self, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {"iss": self.ISSUER, "sub": self.user, "aud": self.SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64(json.dumps(header))}.{_b64(json.dumps(claims))}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signing_input.encode(), capture_output=True,
                                   check=True).stdout
        return f"{signing_input}.{_b64(signature)}"


def _b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
