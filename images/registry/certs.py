"""Per-registry TLS from Docker's ``/etc/docker/certs.d/<host[:port]>/`` folders, so machines
set up for dockerd work unchanged: ``*.crt`` are CA roots trusted beside the system's,
``*.cert`` + ``*.key`` pairs are client certificates presented to the registry."""

from __future__ import annotations

import ssl
from pathlib import Path

from pydocker.engine.errors import SystemFailure

CERTS_D = Path("/etc/docker/certs.d")


def tls_context(domain: str, verify: bool, certs_root: Path | None = CERTS_D
                ) -> ssl.SSLContext | None:
    """The TLS settings for ``domain`` if its folder exists; None: aiohttp's defaults."""
    folder = certs_root / domain if certs_root is not None else None
    if folder is None or not folder.is_dir():
        return None
    context = ssl.create_default_context()
    if not verify:  # an insecure registry: its certificate is not checked, ours still sent
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    for ca in sorted(folder.glob("*.crt")):
        context.load_verify_locations(cafile=str(ca))
    for cert in sorted(folder.glob("*.cert")):
        key = cert.with_suffix(".key")
        if not key.exists():
            raise SystemFailure(f"missing key {key.name} for client certificate {cert.name}. "
                                "CA certificates must use the extension .crt")
        context.load_cert_chain(str(cert), str(key))
    for key in sorted(folder.glob("*.key")):
        if not key.with_suffix(".cert").exists():
            raise SystemFailure(f"missing client certificate {key.with_suffix('.cert').name}"
                                f" for key {key.name}")
    return context
