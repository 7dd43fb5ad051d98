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
from dataclasses import dataclass
from typing import Any

import mcp.types as types
from pydantic import ValidationError

from services.auth import Principal
from services.json_checks import parse_json
from services.runtime import Runtime

log = logging.getLogger(__name__)

_Key = tuple[Principal, types.RequestId]


@dataclass
class Call:
    """One ``tools/call`` being answered: its run once started, and a cancel that came first."""

    run_id: str | None = None
    cancelled: str | None = None  # the reason of a cancel that came before the run existed

    async def started(self, runtime: Runtime, run_id: str) -> None:
        """The call started ``run_id``: cancel it at once if the client already asked."""
        self.run_id = run_id  # no await before the check: no cancel slips between
        if self.cancelled is not None:
            await runtime.orchestrator.cancel_run(run_id, self.cancelled)

    async def cancel(self, runtime: Runtime, reason: str) -> None:
        """Cancel the call's run, or have :meth:`started` cancel it."""
        if self.run_id is None:
            self.cancelled = reason
        else:
            await runtime.orchestrator.cancel_run(self.run_id, reason)


class InFlight:
    """The ``tools/call`` requests this process is answering, by caller and request id."""

    def __init__(self) -> None:
        self._calls: dict[_Key, list[Call]] = {}

    @contextmanager
    def calling(self, principal: Principal, request_id: types.RequestId) -> Iterator[Call]:
        """While the caller's call ``request_id`` is answered."""
        key, call = (principal, request_id), Call()
        self._calls.setdefault(key, []).append(call)
        try:
            yield call
        finally:
            left = self._calls[key]
            left.remove(call)
            if not left:
                del self._calls[key]

    def find(self, principal: Principal, request_id: types.RequestId) -> Call | None:
        """The caller's call with this id, if exactly one is in flight."""
        found = self._calls.get((principal, request_id), [])
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
