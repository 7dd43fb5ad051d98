"""The ``Origin`` check of ``/mcp``: MCP's streamable HTTP transport has servers validate the
``Origin`` header of every request, against DNS rebinding, and answer 403 when it is present
and invalid (2025-11-25).

Only browsers send ``Origin``; the MCP SDK's client and other programs send none, and are
served. A page's origin is valid when the operator listed it (``MODX_MCP_ALLOWED_ORIGINS``).
The request's own host proves nothing: under DNS rebinding the attacker's page and the
``Host`` header both carry the attacker's name, so "the same origin as the request" would
let it through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import mcp.types as types
from starlette.types import Scope


def normal(origin: str) -> str:
    """An origin as compared: scheme and host are case-insensitive (RFC 6454, 4)."""
    return origin.strip().rstrip("/").lower()


def refused_origin(scope: Scope, allowed: Iterable[str]) -> str | None:
    """The first ``Origin`` header of the request that is not allowed, or None (none sent,
    or every one allowed)."""
    allowed_set = {normal(origin) for origin in allowed}
    for name, value in scope["headers"]:
        if name == b"origin":
            origin: str = value.decode("latin-1")
            if normal(origin) not in allowed_set:
                return origin
    return None


def forbidden_body(origin: str) -> bytes:
    """The 403's body: a JSON-RPC error with no id, as MCP allows for it."""
    error = {
        "code": types.INVALID_REQUEST,
        "message": f"origin: {origin[:200]!r} may not call /mcp",
    }
    return json.dumps({"jsonrpc": "2.0", "error": error}).encode()
