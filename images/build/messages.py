"""The lines of a build's output stream, as the classic builder writes them."""

from __future__ import annotations

from typing import Any


def stream(text: str) -> dict[str, Any]:
    return {"stream": text}


def short_id(image_id: str) -> str:
    """The 12 hex digits ``---> `` and ``Successfully built`` show."""
    return image_id.removeprefix("sha256:")[:12]
