"""The agent gateway's WebSocket: ``/v1/agents/{agent_id}/gateway`` (docs/protocol.md, "Gateway").

The connection is authenticated by the agent's token (``Authorization: Bearer``) before any
frame is read; a refused connection is closed with a 44xx code whose reason says why. The
frames themselves are handled by ``services.gateway.GatewaySession``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import select

from bus.envelope import Envelope
from bus.tasks import cancel_and_wait
from bus.transport import ConsumerOptions
from services import metrics
from services.api.deps import check_token, still_holds
from services.api.errors import ApiError
from services.auth import Principal
from services.db.models import AgentRow
from services.gateway import GatewaySession, on_behalf_of
from services.gateway.session import refusals
from services.registry import store
from services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["agents"])
log = logging.getLogger(__name__)

UNAUTHORIZED, FORBIDDEN, UNKNOWN_AGENT, THROTTLED = 4401, 4403, 4404, 4429
"""Close codes: bad or missing token; a token of another agent; the agent is not registered;
too many failed token checks from this address, or too many open connections of the agent."""
TOO_BIG = 1009
"""Close code of a frame over ``MODX_GATEWAY_MAX_FRAME_BYTES`` (RFC 6455: message too big)."""


@router.websocket("/agents/{agent_id}/gateway")
async def gateway(websocket: WebSocket, agent_id: str) -> None:
    """Serve one agent's tasks over this connection until it closes."""
    runtime: Runtime = websocket.app.state.runtime
    await websocket.accept()
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    try:
        # Throttled like every token check (services/throttle.py).
        principal = (
            await check_token(websocket, runtime, token.strip())
            if scheme.lower() == "bearer" and token.strip()
            else None
        )
    except ApiError as exc:
        await websocket.close(THROTTLED, exc.message)
        return
    async with runtime.readers() as session:
        if principal is None or principal.role != "agent":
            await websocket.close(UNAUTHORIZED, "an agent token is required")
            return
        if principal.agent_id != agent_id:
            await websocket.close(FORBIDDEN, "this token belongs to another agent")
            return
        capabilities = await store.capabilities_of(session, [agent_id])
        card = await session.scalar(select(AgentRow.card).where(AgentRow.id == agent_id))
    names = [cap.name for cap in capabilities.get(agent_id, [])]
    if not names:
        await websocket.close(UNKNOWN_AGENT, f"agent {agent_id!r} is not registered")
        return
    # Streams that carried another tenant's tasks are not read for it (its inbox gets them).
    names = [name for name in names if name not in store.inbox_only(card)]
    open_: Counter[str] = websocket.app.state.gateway_connections
    limit = runtime.settings.gateway_connections_per_agent
    if open_[agent_id] >= limit:
        await websocket.close(THROTTLED, f"agent {agent_id!r} has {limit} connections open already")
        return
    open_[agent_id] += 1
    try:
        await _serve(websocket, runtime, principal, agent_id, names)
    finally:
        open_[agent_id] -= 1
        if not open_[agent_id]:
            del open_[agent_id]


async def _serve(
    websocket: WebSocket, runtime: Runtime, principal: Principal, agent_id: str, names: list[str]
) -> None:
    """Hand the agent the tasks of ``names`` over this connection until it closes."""

    sending = asyncio.Lock()

    async def send(text: str) -> None:
        async with sending:  # frames from concurrent deliveries must not interleave
            await websocket.send_text(text)

    async def holds() -> bool:
        return await still_holds(websocket, runtime, principal)

    async def refuse() -> None:
        async with sending:
            with contextlib.suppress(Exception):
                await websocket.close(UNAUTHORIZED, "the agent's token no longer holds")

    settings = runtime.settings
    session_ = GatewaySession(
        runtime.transport,
        agent_id,
        names,
        send,
        lambda envelope: _stamp(runtime, envelope, agent_id),
        ConsumerOptions(
            visibility_timeout_s=settings.visibility_timeout_s,
            max_deliveries=settings.max_deliveries,
        ),
        admit=holds,
        refused=refuse,
        quota=websocket.app.state.gateway_subscriptions,
        tenant=principal.tenant,
    )
    # An idle connection of an agent that was removed ends too, within a heartbeat interval.
    watch = asyncio.create_task(_watch(holds, refuse, settings.heartbeat_interval_s))
    metrics.GATEWAY_CONNECTIONS.inc()
    limit = settings.gateway_max_frame_bytes
    try:
        while True:
            text = await websocket.receive_text()
            # uvicorn refuses larger frames when MODX serves (``ws_max_size``); another
            # server may not, so the limit holds here too.
            if len(text) > limit // 4 and len(text.encode()) > limit:
                refusals.warning("gateway %s: a frame over %d bytes: closed", agent_id, limit)
                async with sending:
                    await websocket.close(
                        TOO_BIG, f"a frame is at most {limit} bytes (MODX_GATEWAY_MAX_FRAME_BYTES)"
                    )
                return
            await session_.handle(text)
    except WebSocketDisconnect:
        pass
    finally:
        metrics.GATEWAY_CONNECTIONS.dec()
        await cancel_and_wait([watch])
        await session_.close()
        with contextlib.suppress(Exception):
            await websocket.close()


async def _watch(
    holds: Callable[[], Awaitable[bool]], refuse: Callable[[], Awaitable[None]], every_s: float
) -> None:
    """Close the connection once its agent's token no longer holds (the agent was removed)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            held = await holds()
        except Exception:  # a server unreachable for a moment: ask again next time
            log.warning("gateway: cannot check an agent's token now", exc_info=True)
            continue
        if not held:
            await refuse()
            return


def _stamp(runtime: Runtime, envelope: Envelope, agent_id: str) -> Envelope:
    # Signed with the orchestrator's key: the results' check accepts it for a gateway agent.
    return on_behalf_of(envelope, agent_id, runtime.orchestrator.authenticator.key)
