"""MCP servers: a step is a ``tools/call`` on the server's session.

Each MCP agent has one connection per MODX process (``services.interop.mcp_client``), started
on first use and kept by ``keep``, the supervisor: every ``every_s`` seconds it starts the
connection of every registered MCP agent that has none (a stdio server is restarted when it
died), and renews the agent's lease while its session is up, so the router sends steps only to
servers that answer. A call that fails because the server went away is a retryable step error:
the step's retry policy sends it again, to the restarted server.

A call asks for progress (a ``progressToken``): each ``notifications/progress`` the server
sends is a ``step.progress`` event of the run, as a bus agent's ``ctx.progress``.

A task that nobody needs any more (its run was cancelled...) is cancelled here by the
dispatcher: the server gets ``notifications/cancelled`` with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from mcp import ClientSession
from mcp.shared.exceptions import McpError
from mcp.types import CONNECTION_CLOSED
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus.envelope import Envelope
from bus.tasks import cancel_and_wait
from services.db.models import AgentRow, utcnow
from services.egress import EgressPolicy
from services.interop import translate
from services.interop.mcp_client import (
    McpConnection,
    McpStartFailed,
    MessageTooLarge,
    next_request_id,
    progress_of,
)
from services.interop.translate import mcp as translate_mcp
from services.orchestrator.remote.delivery import DeliveryFailed, Reply
from services.registry import store
from services.registry.schemas import AgentCard

log = logging.getLogger(__name__)

TRANSPORT = "mcp"
UNREACHABLE = "the MCP server could not be reached"


def tool_of(agent: AgentRow, capability: str) -> str:
    """The tool a capability of ``agent`` calls (``mcp.<agent>.<tool>``)."""
    prefix = f"mcp.{agent.name}."
    return capability[len(prefix) :] if capability.startswith(prefix) else capability


class McpDelivery:
    """Calls tools on MCP servers, one supervised connection per agent."""

    def __init__(
        self,
        egress: EgressPolicy,
        *,
        timeout_s: float = 30.0,
        restart_backoff_s: float = 1.0,
    ) -> None:
        self.egress = egress
        self.timeout_s = timeout_s
        self.restart_backoff_s = restart_backoff_s
        self.restarts = 0
        self._connections: dict[str, McpConnection] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._failed_at: dict[str, float] = {}
        self._keeper: asyncio.Task[None] | None = None

    def adopt(self, agent_id: str, connection: McpConnection) -> None:
        """Keep the connection that registration opened, instead of starting another."""
        self._connections[agent_id] = connection

    async def connection(self, agent: AgentRow) -> McpConnection:
        """The agent's live connection, started (again) when it has none."""
        current = self._connections.get(agent.id)
        if current is not None and current.alive:
            return current
        async with self._starting.setdefault(agent.id, asyncio.Lock()):
            current = self._connections.get(agent.id)
            if current is not None and current.alive:
                return current
            if current is not None:
                await current.close()
                self.restarts += 1
                log.warning("MCP server of agent %s (%s) is restarted", agent.name, agent.id)
            card = AgentCard.model_validate(agent.card)
            assert card.mcp is not None
            connection = McpConnection(card.mcp, self.egress, timeout_s=self.timeout_s)
            try:
                await connection.start()
            except McpStartFailed:
                self._failed_at[agent.id] = time.monotonic()
                self._connections.pop(agent.id, None)
                raise
            self._failed_at.pop(agent.id, None)
            self._connections[agent.id] = connection
            return connection

    async def deliver(self, agent: AgentRow, task: Envelope, reply: Reply) -> None:
        """``tools/call`` with the step's input; its result is the step's answer."""
        try:
            arguments = translate.arguments_of(task.payload)
        except translate.TranslationError as exc:
            raise DeliveryFailed("bad_input", str(exc), False) from None
        try:
            connection = await self.connection(agent)
        except McpStartFailed as exc:
            log.warning("task %s: MCP server of agent %s did not start: %s", task.id, agent.id, exc)
            raise DeliveryFailed("dispatch_failed", UNREACHABLE, True) from None
        session = connection.session
        if session is None:
            raise DeliveryFailed("dispatch_failed", UNREACHABLE, True)
        tool = tool_of(agent, task.topic)
        started_at = utcnow()
        exchange: dict[str, Any] = {"protocol": "mcp", "method": "tools/call", "tool": tool}
        await reply.started(started_at, exchange)
        # The id this call gets (no await between), to tell the server of a cancel.
        request_id = next_request_id(session)
        exchange["id"] = request_id

        # The SDK may run the callbacks of close reports concurrently; MCP's progress only
        # grows, so a report behind the last one recorded is stale: recorded in order, or not.
        ordered = asyncio.Lock()
        last = [float("-inf")]

        async def progressed(progress: float, total: float | None, message: str | None) -> None:
            async with ordered:
                if progress <= last[0]:
                    return
                last[0] = progress
                try:
                    await reply.progress(*progress_of(progress, total, message))
                except Exception as exc:  # the call goes on; a lost report is only that
                    log.warning("task %s: MCP progress not recorded: %s", task.id, exc)

        try:
            result = await connection.call_tool(tool, arguments, progress_callback=progressed)
        except MessageTooLarge as exc:
            log.warning("task %s: MCP server of agent %s: %s", task.id, agent.id, exc)
            await self._broken(agent.id, connection)
            raise DeliveryFailed("answer_too_large", f"the MCP server's {exc}", False) from None
        except asyncio.CancelledError as cancelled:
            reason = str(cancelled.args[0]) if cancelled.args else "cancelled by MODX"
            await self._tell_cancelled(session, request_id, reason)
            raise
        except McpError as exc:
            failure = translate_mcp.failure_of_error(exc)
            log.warning("task %s: MCP call failed: %s", task.id, exc.error.message)
            if exc.error.code == CONNECTION_CLOSED:
                await self._broken(agent.id, connection)
            raise DeliveryFailed(failure.code, failure.message, failure.retryable) from None
        except Exception as exc:
            # The session broke under the call (the process died, the connection dropped).
            log.warning("task %s: MCP call to agent %s failed: %r", task.id, agent.id, exc)
            await self._broken(agent.id, connection)
            raise DeliveryFailed("dispatch_failed", UNREACHABLE, True) from None
        await reply.answer(
            translate_mcp.answer_of(result),
            started_at,
            {**exchange, "method": "tools/call result", "isError": bool(result.isError)},
        )

    async def _broken(self, agent_id: str, connection: McpConnection) -> None:
        """End a connection that failed under a call: the next call starts a new one (a
        stdio server is restarted) instead of waiting for the ping to notice."""
        await connection.close()

    async def _tell_cancelled(self, session: ClientSession, request_id: int, reason: str) -> None:
        try:
            notification = translate_mcp.cancel_notification(request_id, reason)
            await asyncio.wait_for(session.send_notification(notification), 2.0)
        except Exception as exc:  # the server is gone: nothing to tell
            log.debug("could not tell an MCP server of a cancellation: %s", exc)

    def start(
        self, sessions: async_sessionmaker[AsyncSession], lease_s: float, every_s: float
    ) -> None:
        """Start the supervisor (``keep``) in the background."""
        self._keeper = asyncio.create_task(self.keep(sessions, lease_s, every_s), name="mcp-keeper")

    async def keep(
        self, sessions: async_sessionmaker[AsyncSession], lease_s: float, every_s: float
    ) -> None:
        """Forever: start the connections that are missing, and renew the leases of MCP agents
        whose session is up."""
        while True:
            try:
                await self.keep_once(sessions, lease_s)
            except Exception as exc:  # an outage: the next round tries again
                log.debug("MCP supervisor round failed: %s", exc)
            await asyncio.sleep(every_s)

    async def keep_once(self, sessions: async_sessionmaker[AsyncSession], lease_s: float) -> None:
        """One round of the supervisor."""
        async with sessions() as session:
            agents = list(
                (
                    await session.execute(
                        select(AgentRow).where(
                            AgentRow.transport == TRANSPORT,
                            # A draining agent keeps its session until its calls end.
                            AgentRow.status.in_([store.ONLINE, store.OFFLINE, store.DRAINING]),
                        )
                    )
                ).scalars()
            )
        gone = set(self._connections) - {a.id for a in agents}
        for agent_id in gone:  # deregistered: stop its process
            connection = self._connections.pop(agent_id)
            await connection.close()
        up: list[str] = []
        for agent in agents:
            failed = self._failed_at.get(agent.id)
            if failed is not None and time.monotonic() - failed < self.restart_backoff_s:
                continue
            try:
                await self.connection(agent)
                up.append(agent.id)
            except McpStartFailed as exc:
                log.warning("MCP server of agent %s does not start: %s", agent.name, exc)
        if up:
            async with sessions() as session, session.begin():
                await store.renew_leases(session, up, lease_s)

    async def close(self) -> None:
        """Stop the supervisor and every server's connection (stdio servers exit)."""
        if self._keeper is not None:  # its database calls can swallow one cancel
            await cancel_and_wait([self._keeper])
        connections, self._connections = list(self._connections.values()), {}
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


__all__ = ["McpDelivery", "tool_of"]
