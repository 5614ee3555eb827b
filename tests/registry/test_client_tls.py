"""TLS from Docker's certs.d layout against docker-registry serving https and demanding a
client certificate signed by a test CA (made with openssl)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aiohttp
import pytest
from pydocker.engine.errors import SystemFailure
from pydocker.images.registry import RegistryClient

from .conftest import StartRegistry
from .helpers import push_image


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(folder: Path) -> None:
    """ca.crt/key; server.crt/key for 127.0.0.1; client.cert/key."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
             "/CN=test-ca", "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.crt"))
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, extra in (("server", ["-extfile", str(folder / "san.ext")]), ("client", [])):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", str(folder / f"{name}.key"), "-out", str(folder / f"{name}.csr"))
        _openssl("x509", "-req", "-in", str(folder / f"{name}.csr"), "-CA",
                 str(folder / "ca.crt"), "-CAkey", str(folder / "ca.key"), "-CAcreateserial",
                 "-days", "1", "-out", str(folder / f"{name}.crt"), *extra)


@pytest.fixture
def tls_registry(start_registry: StartRegistry, tmp_path: Path) -> tuple[str, Path]:
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    # Continues the fixture's ``http:`` section: https only, client certificates required.
    registry = start_registry(f"  tls:\n    certificate: {pki / 'server.crt'}\n"
                              f"    key: {pki / 'server.key'}\n"
                              f"    clientcas:\n      - {pki / 'ca.crt'}\n")
    return registry.domain, pki


async def test_client_certificate_from_certs_d(tls_registry: tuple[str, Path],
                                               tmp_path: Path) -> None:
    domain, pki = tls_registry
    certs_d = tmp_path / "certs.d"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SystemFailure):  # no client certificate: the handshake fails
            await RegistryClient(session, domain, certs_root=certs_d).list_tags("app")
        folder = certs_d / domain
        folder.mkdir(parents=True)
        (folder / "ca.crt").write_bytes((pki / "ca.crt").read_bytes())
        (folder / "client.cert").write_bytes((pki / "client.crt").read_bytes())
        with pytest.raises(SystemFailure, match="missing key client.key for client "
                                                "certificate client.cert"):
            RegistryClient(session, domain, certs_root=certs_d)
        (folder / "client.key").write_bytes((pki / "client.key").read_bytes())
        client = RegistryClient(session, domain, certs_root=certs_d)
        pushed = await push_image(client, "app", "v1")
        assert (await client.get_manifest("app", "v1")).digest == pushed.digest
        assert client.endpoint.bases[1].tls is not None
