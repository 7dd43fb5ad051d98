"""The REST API (``/v1/``) reads every body as JSON: a body sent as anything else is a 415.

``curl -d '{...}'`` without ``-H 'content-type: application/json'`` sends
``application/x-www-form-urlencoded``; the framework then hands the route the raw bytes, and
the answer was a 422 saying that the (valid) JSON was "not a valid dictionary". The 415 names
the header to send instead. A body without a content type is refused too: the framework
(FastAPI's ``strict_content_type``) does not read it as JSON either. An empty body
(``curl -X POST -d ''`` on a route that takes none) passes. The dashboard's forms
and the JSON-RPC endpoints are not under ``/v1/``.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from services.api.errors import error_body
from services.api.input_guard import read_body, replaying

PREFIX = "/v1/"
METHODS = frozenset({"POST", "PUT", "PATCH"})


class JsonBodies:
    """ASGI middleware: refuses a non-empty ``/v1/`` body whose content type is not JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        media = _media_type(scope)
        if (
            scope["type"] != "http"
            or scope["method"] not in METHODS
            or not scope["path"].startswith(PREFIX)
            or media == "application/json"
            or media.endswith("+json")
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        if not body.strip():
            await self.app(scope, replaying(body, receive), send)
            return
        said = f"this request said {media!r}" if media else "this request had no content type"
        message = (
            f"the body must be JSON, sent with `content-type: application/json` "
            f"({said}; curl: add -H 'content-type: application/json')"
        )
        content = json.dumps(error_body("unsupported_media_type", message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 415,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _media_type(scope: Scope) -> str:
    """The request's media type, lower case and without parameters; "" when it has none."""
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media.decode("latin-1")
    return ""
