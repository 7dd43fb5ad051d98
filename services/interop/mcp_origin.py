"""The ``Origin`` check of ``/mcp``: MCP's streamable HTTP transport has servers validate the
``Origin`` header of every request, against DNS rebinding, and answer 403 when it is present
and invalid (2025-11-25).

Only browsers send ``Origin``; the MCP SDK's client and other programs send none, and are
served. A page's origin is valid when the operator listed it (``MODX_MCP_ALLOWED_ORIGINS``).
The request's own host proves nothing: under DNS rebinding the attacker's page and the
``Host`` header both carry the attacker's name, so "the same origin as the request" would
let it through.

It is the outermost middleware of the app, so a page not allowed learns nothing else: not
whether its body was too large or hostile, nor whether its token was good.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import mcp.types as types
from starlette.types import ASGIApp, Receive, Scope, Send


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


class McpOriginGuard:
    """ASGI middleware: a request to ``path`` (any verb) from an origin not allowed is a 403."""

    def __init__(self, app: ASGIApp, path: str, allowed: Iterable[str]) -> None:
        self.app = app
        self.path = path
        self.allowed = [normal(origin) for origin in allowed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = None
        if scope["type"] == "http" and scope["path"] == self.path:
            origin = refused_origin(scope, self.allowed)
        if origin is None:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": forbidden_body(origin)})
