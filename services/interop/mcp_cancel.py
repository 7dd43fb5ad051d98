"""MCP cancellation for MODX's MCP server: a ``notifications/cancelled`` naming an in-flight
``tools/call`` cancels the run that call started.

The server is stateless (each POST its own SDK session), so the SDK, which looks for the
request among its session's own requests, never finds it. Here the process keeps its
in-flight calls by caller and JSON-RPC request id instead. Request ids are only unique within
a client's session and a stateless server sees no session, so a cancel acts only when exactly
one in-flight call of that caller has the id; an unknown, finished or ambiguous one is ignored,
as the specification asks of a cancel the receiver cannot match.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mcp.types as types
from pydantic import ValidationError

from services.auth import Principal
from services.json_checks import parse_json

log = logging.getLogger(__name__)

_Key = tuple[Principal, types.RequestId]


class InFlight:
    """The runs of the ``tools/call`` requests this process is answering."""

    def __init__(self) -> None:
        self._runs: dict[_Key, list[str]] = {}

    @contextmanager
    def holding(
        self, principal: Principal, request_id: types.RequestId, run_id: str
    ) -> Iterator[None]:
        """While the call that started ``run_id`` is answered."""
        key = (principal, request_id)
        self._runs.setdefault(key, []).append(run_id)
        try:
            yield
        finally:
            left = self._runs[key]
            left.remove(run_id)
            if not left:
                del self._runs[key]

    def run_of(self, principal: Principal, request_id: types.RequestId) -> str | None:
        """The run of the caller's call with this id, if exactly one is in flight."""
        found = self._runs.get((principal, request_id), [])
        if len(found) > 1:
            log.info(
                "MCP cancel of request %r ignored: %d calls have that id", request_id, len(found)
            )
        return found[0] if len(found) == 1 else None


def cancellation(body: bytes) -> types.CancelledNotificationParams | None:
    """The parameters of a well-formed ``notifications/cancelled`` body, else None (anything
    else, a malformed cancel included, is the SDK's to answer)."""
    try:
        parsed: Any = parse_json(body)
    except ValueError:
        return None
    if (
        not isinstance(parsed, dict)
        or parsed.get("method") != "notifications/cancelled"
        or "id" in parsed  # a request, not a notification
    ):
        return None
    try:
        types.JSONRPCNotification.model_validate(parsed)
        return types.CancelledNotification.model_validate(parsed).params
    except ValidationError:
        return None
