"""The one check every request goes through before a route sees it: hostile strings and numbers.

PostgreSQL refuses NUL bytes in text, UTF-8 has no lone surrogates, columns have integer
ranges, and JSON has no ``NaN`` or ``Infinity`` (Python's parser accepts them, and they were
stored as ``null``). Each of those is a 422 that names the field, here, instead of a 500 (or a
silent change) further down:

- ``InputGuard`` (ASGI middleware) checks JSON and form bodies: strings (keys included) without
  NUL or lone surrogates, integers within 64 bits, numbers finite, nesting at most
  ``MAX_DEPTH`` deep;
- ``guard_params`` (an app-wide dependency, so it knows the parameters' names) checks the path
  and query parameters' strings.

A JSON-RPC endpoint (``/a2a``, ``/mcp``) reads its body as JSON whatever its content type (the
A2A SDK's does), so there every body is checked as JSON: ``text/plain`` let nesting
(``RecursionError``, a 500) and NUL bytes (PostgreSQL's error, SQL included, in the answer)
past the guard. It is refused in its own protocol instead: an A2A or MCP
client reads only JSON-RPC errors, and the MCP SDK's client ends its whole session on an HTTP
error. Each endpoint gives the guard its ``RpcRefusal``: the request's id (when the body has
one), the kind (``parse``, ``request`` or ``params``), the JSON path and the reason.

Typed integer fields carry the range of their column on top (``services.db.ranges``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import ApiError, error_body
from services.json_checks import MAX_DEPTH, parse_json, string_problem, value_problem


def _problem_response(where: str, path: str, message: str) -> tuple[int, bytes]:
    details = [{"path": path, "in": where, "message": message}]
    body = json.dumps(error_body("invalid_request", f"{path}: {message}", details)).encode()
    return 422, body


RpcKind = Literal["parse", "request", "params"]
# (the request's id or None, kind, JSON path, reason) -> (HTTP status, body)
RpcRefusal = Callable[[str | int | None, RpcKind, str, str], tuple[int, bytes]]


class InputGuard:
    """Refuses hostile JSON and form bodies with a 422 that names the field, or with the
    protocol's own error on a JSON-RPC endpoint (see the module)."""

    def __init__(self, app: ASGIApp, rpc: Mapping[str, RpcRefusal] | None = None) -> None:
        self.app = app
        self.rpc = dict(rpc or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        kind = _content_type(scope)
        if scope["path"] in self.rpc:
            kind = "json"  # a JSON-RPC endpoint reads its body as JSON whatever its type says
        if kind != "json" and kind != "form":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        found = _body_problem(body, kind)
        if found is not None:
            refusal = self.rpc.get(scope["path"]) if kind == "json" else None
            if refusal is None:
                status, content = _problem_response("body", *found)
            else:
                status, content = refusal(_request_id(body), _rpc_kind(*found), *found)
            await _send_json(send, status, content)
            return
        await self.app(scope, replaying(body, receive), send)


async def read_body(receive: Receive) -> bytes | None:
    """A request's whole body, or None when the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app after :func:`read_body`: the body once, then the client's."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _content_type(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            if media == b"application/x-www-form-urlencoded":
                return "form"
            if media == b"application/json" or media.endswith(b"+json"):
                return "json"
            return None
    return "json"  # no content type: checked as JSON anyway (under /v1/ JsonBodies refuses it)


def _rpc_kind(path: str, message: str) -> RpcKind:
    if message.startswith(NOT_JSON):
        return "parse"
    return (
        "params" if path == "$.params" or path.startswith(("$.params.", "$.params[")) else "request"
    )


def _request_id(body: bytes) -> str | int | None:
    """The JSON-RPC id of a refused body, so that the client can match the error to its call
    (None when the body has no usable one: the refusal then names none, as JSON-RPC says)."""
    try:
        parsed: Any = parse_json(body)
    except ValueError:
        return None
    found = parsed.get("id") if isinstance(parsed, dict) else None
    if isinstance(found, bool) or not isinstance(found, str | int):
        return None
    if isinstance(found, str) and string_problem(found) is not None:
        return None
    if isinstance(found, int) and value_problem(found) is not None:
        return None
    return found


NOT_JSON = "the body is not valid JSON"


def _body_problem(body: bytes, kind: str) -> tuple[str, str] | None:
    if not body:
        return None
    if kind == "form":
        text = body.decode("utf-8", "surrogateescape")
        for key, value in parse_qsl(text, keep_blank_values=True):
            problem = string_problem(key) or string_problem(value)
            if problem is not None:
                return f"$.{key}", problem
        return None
    try:
        parsed = parse_json(body)
    except ValueError as exc:
        if str(exc) == "nested too deeply":
            return "$", f"nested more than {MAX_DEPTH} levels deep"
        return "$", f"{NOT_JSON} (UTF-8)"
    return value_problem(parsed)


async def _send_json(send: Send, status: int, content: bytes) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def guard_params(request: HTTPConnection) -> None:
    """Every path and query parameter's string, named in the 422 when it is refused.

    It takes an ``HTTPConnection`` so that WebSocket routes (the agent gateway) get it too.
    """
    for name, value in request.path_params.items():
        if isinstance(value, str):
            problem = string_problem(value)
            if problem is not None:
                raise _param_error("path", name, problem)
    for name, value in request.query_params.multi_items():
        problem = string_problem(name) or string_problem(value)
        if problem is not None:
            raise _param_error("query", name, problem)


def _param_error(where: str, name: str, message: str) -> ApiError:
    path = f"$.{name}"
    return ApiError(
        422,
        "invalid_request",
        f"{path}: {message}",
        [{"path": path, "in": where, "message": message}],
    )
