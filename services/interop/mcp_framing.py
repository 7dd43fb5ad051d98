"""The JSON-RPC framing of a message posted to ``/mcp``, checked before the MCP SDK's transport
reads it, and the JSON-RPC errors ``/mcp`` answers itself.

The SDK's transport answers a message it cannot read as ``-32602`` with a pydantic dump for
message and ``server-error`` for id, whatever was wrong; it takes a request whose id is null
for a notification and drops it (HTTP 202, no answer); and its session answers a method it
does not know ``-32602``. JSON-RPC 2.0 (section 5.1) has ``-32600`` for a message that is not a
valid request and ``-32601`` for a method that does not exist, and the error carries the
request's id whenever it can be read (section 5); MCP's requests have a string or integer id,
never null, and take no batches since 2025-06-18.
"""

from __future__ import annotations

import typing
from typing import Any

import mcp.types as types
from pydantic import BaseModel, ValidationError

REQUESTS: dict[str, type[BaseModel]] = {
    method: request
    for request in typing.get_args(types.ClientRequest.model_fields["root"].annotation)
    for method in typing.get_args(request.model_fields["method"].annotation)
}
"""The requests a client may send, by method (those the SDK knows; it answers ``-32601`` to
the ones MODX does not serve, resources and prompts)."""


def error_answer(
    request_id: types.RequestId | None, code: int, message: str, data: Any = None
) -> tuple[int, bytes]:
    """A JSON-RPC error as (HTTP status, body). With the request's id it is that call's
    answer (HTTP 200: the SDK's client fails the call and keeps its session; an HTTP error
    status would end the session); without one, HTTP 400 and the id ``server-error``, as the
    SDK's own transport answers (MCP's error schema has no null id)."""
    error = types.JSONRPCError(
        jsonrpc="2.0",
        id="server-error" if request_id is None else request_id,
        error=types.ErrorData(code=code, message=message, data=data),
    )
    status = 400 if request_id is None else 200
    return status, error.model_dump_json(by_alias=True, exclude_none=True).encode()


def _readable_id(message: dict[str, Any]) -> types.RequestId | None:
    found = message.get("id")
    return found if isinstance(found, str | int) and not isinstance(found, bool) else None


def refusal(parsed: Any) -> tuple[int, bytes] | None:
    """The answer to a message whose framing is wrong, or None (the SDK reads it)."""
    invalid = types.INVALID_REQUEST
    if isinstance(parsed, list):
        return error_answer(None, invalid, "batches are not supported (MCP 2025-06-18 and on)")
    if not isinstance(parsed, dict):
        return error_answer(None, invalid, "$: a JSON-RPC message is an object")
    request_id = _readable_id(parsed)
    if parsed.get("jsonrpc") != "2.0":
        return error_answer(request_id, invalid, 'jsonrpc: must be "2.0"')
    if "method" not in parsed:
        return None  # a response to the server: the SDK's
    method = parsed["method"]
    if not isinstance(method, str):
        return error_answer(request_id, invalid, "method: must be a string")
    if "id" not in parsed:
        return None  # a notification: the SDK's
    if request_id is None:
        return error_answer(None, invalid, "id: a request's id is a string or an integer")
    request = REQUESTS.get(method)
    if request is None:
        return error_answer(request_id, types.METHOD_NOT_FOUND, f"Method not found: {method}")
    try:
        request.model_validate(parsed)
    except ValidationError as exc:  # the SDK says "Invalid request parameters", naming nothing
        first = exc.errors()[0]
        path = "$" + "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        )
        data = {"path": path, "in": "body"}
        return error_answer(request_id, types.INVALID_PARAMS, f"{path}: {first['msg']}", data)
    return None
