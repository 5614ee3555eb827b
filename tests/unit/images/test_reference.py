"""Docker's reference grammar and normalisation."""

from __future__ import annotations

import pytest
from pydocker.engine.errors import InvalidParameter
from pydocker.images.reference import parse
from pydocker.images.store import chain_ids


@pytest.mark.parametrize("ref,full,familiar", [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
    ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"),
    ("reg.example.com/a/b/c:t", "reg.example.com/a/b/c:t", "reg.example.com/a/b/c:t"),
])
def test_normalisation(ref: str, full: str, familiar: str) -> None:
    parsed = parse(ref)
    assert str(parsed) == full
    assert parsed.familiar() == familiar


@pytest.mark.parametrize("ref,message", [
    ("Busybox", "must be lowercase"),
    ("bad name", "invalid reference format"),
    ("a:b:c", "invalid reference format"),
    ("", "invalid reference format"),
    ("x@sha256:zz", "invalid reference format"),
])
def test_invalid(ref: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse(ref)


def test_chain_ids_follow_the_image_spec() -> None:
    import hashlib
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert chain_ids([a, b]) == [a, "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()]
