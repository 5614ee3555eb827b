"""JSON answers with Docker's exact Content-Type.

The Go client compares the header to "application/json" literally: aiohttp's default
"application/json; charset=utf-8" makes it print error bodies raw instead of parsing.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode() + b"\n", status=status,
                        headers={"Content-Type": "application/json"})
