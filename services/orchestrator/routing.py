"""Routing: which live agent, or which stream, gets a step's task."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bus import streams
from bus.envelope import LATER_FIELDS
from services.db.models import DEFAULT_TENANT, AgentRow, CapabilityRow, StepRow
from services.orchestrator.states import ACTIVE_STEP
from services.registry.store import INBOX_ONLY, inbox_only, serves

REMOTE_PREFIX = "remote:"
"""A destination ``remote:<agent_id>``: a task the remote dispatcher hands to the agent."""
_LEGACY_PREFIX = "http:"  # outbox rows written before MCP and A2A agents existed
ON_BUS = frozenset({"bus", "gateway"})
"""Transports whose agents read task streams; the others are called (``orchestrator.remote``)."""
SERVER_SPOKEN = frozenset({"mcp", "a2a"})
"""Transports whose tasks only MODX's own dispatcher reads (it speaks every envelope field)."""


def speaks(transport: str, features: object, feature: str) -> bool:
    """Whether an agent takes tasks carrying ``feature``, an envelope field added after the
    first protocol version (``LATER_FIELDS``): its card lists it in ``features`` (an agent
    built with an older SDK does not, and its envelope model refuses fields it does not know).
    """
    assert feature in LATER_FIELDS
    return transport in SERVER_SPOKEN or (isinstance(features, list) and feature in features)


def remote_agent(destination: str) -> str | None:
    """The agent id of a remote destination, None for a bus stream."""
    for prefix in (REMOTE_PREFIX, _LEGACY_PREFIX):
        if destination.startswith(prefix):
            return destination[len(prefix) :]
    return None


@dataclass(frozen=True)
class Route:
    """Where a task goes: a bus stream, or ``remote:<agent_id>``; ``agent_id`` if known now;
    ``reply_to``: whether every agent that may take it speaks ``reply_to`` (else its answer
    goes to ``modx.results`` and is passed on to the run's owner); ``transport``: the remote
    agent's (``a2a``...), None for a bus stream."""

    destination: str
    agent_id: str | None
    reply_to: bool = True
    transport: str | None = None


@dataclass(frozen=True)
class _Live:
    bus_agents: tuple[str, ...]
    remote_agents: tuple[str, ...]
    at: float
    # Every agent consuming the capability's stream serves the tenant: the stream may be used.
    stream_ok: bool = True
    # Every agent consuming the stream speaks ``reply_to``; and the usable ones that do.
    stream_reply_to: bool = True
    reply_to: frozenset[str] = frozenset()
    transports: dict[str, str] = field(default_factory=dict)  # of the remote agents


class Router:
    """Finds a live agent for a capability, among those serving the run's tenant (its own
    agents, and shared capabilities); caches the registry for ``ttl_s`` seconds.

    Bus agents of a capability share its task stream. A task goes there only when every agent
    registered for the capability serves the tenant (the common case: one tenant, or shared
    agents); otherwise it goes to the inbox of one agent that does, so another tenant's agent
    never receives it.

    The cache keeps routing off the hot path of every step; registration and lease changes
    call ``invalidate`` in this process, and other replicas see them within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 1.0) -> None:
        self.ttl_s = ttl_s
        self._cache: dict[tuple[str, str], _Live] = {}

    def invalidate(self) -> None:
        """Forget what is cached (an agent registered, left or went offline)."""
        self._cache.clear()

    async def route(
        self,
        session: AsyncSession,
        capability: str,
        pinned: str | None = None,
        tenant: str = DEFAULT_TENANT,
    ) -> Route | None:
        """A route for a task of ``tenant`` for ``capability``, or None when no live agent
        serving the tenant has it."""
        if pinned is not None:
            return await self._route_pinned(session, capability, pinned, tenant)
        key = (tenant, capability)
        live = self._cache.get(key)
        if live is None or time.monotonic() - live.at > self.ttl_s:
            live = await self._load(session, capability, tenant)
            self._cache[key] = live
        if live.bus_agents:
            if live.stream_ok:
                # Bus agents share the capability's consumer group: the bus balances the load.
                return Route(streams.tasks(capability), None, live.stream_reply_to)
            agent_id = await self._least_loaded(session, live.bus_agents)
            return Route(streams.inbox(agent_id), agent_id, agent_id in live.reply_to)
        if live.remote_agents:
            agent_id = await self._least_loaded(session, live.remote_agents)
            transport = live.transports.get(agent_id)
            return Route(REMOTE_PREFIX + agent_id, None, agent_id in live.reply_to, transport)
        return None

    async def _load(self, session: AsyncSession, capability: str, tenant: str) -> _Live:
        rows = await session.execute(
            select(
                AgentRow.id,
                AgentRow.transport,
                AgentRow.status,
                serves(tenant),
                AgentRow.card["features"],
                AgentRow.card[INBOX_ONLY],
            )
            .join(CapabilityRow, CapabilityRow.agent_id == AgentRow.id)
            .where(CapabilityRow.name == capability)
        )
        listed = list(rows.tuples())
        found = [(a, t, status, ok, f) for a, t, status, ok, f, _ in listed]
        # An agent that may not read the stream (it carried another audience's tasks) gets
        # them in its inbox; so does every agent of the capability then.
        streamless = any(capability in inbox_only({INBOX_ONLY: i}) for *_, i in listed)
        usable = [(a, t) for a, t, status, ok, _ in found if ok and status == "online"]
        replies = {a for a, t, _, _, f in found if speaks(t, f, "reply_to")}
        return _Live(
            bus_agents=tuple(a for a, t in usable if t in ON_BUS),
            remote_agents=tuple(a for a, t in usable if t not in ON_BUS),
            transports={a: t for a, t in usable if t not in ON_BUS},
            at=time.monotonic(),
            stream_ok=not streamless and all(ok for _, t, _, ok, _ in found if t in ON_BUS),
            # Offline ones too: an agent that comes back reads what the stream holds.
            stream_reply_to=all(a in replies for a, t, *_ in found if t in ON_BUS),
            reply_to=frozenset(replies),
        )

    async def _least_loaded(self, session: AsyncSession, agent_ids: tuple[str, ...]) -> str:
        if len(agent_ids) == 1:
            return agent_ids[0]
        rows = await session.execute(
            select(StepRow.agent_id, func.count())
            .where(StepRow.agent_id.in_(agent_ids), StepRow.status.in_(list(ACTIVE_STEP)))
            .group_by(StepRow.agent_id)
        )
        # Not dict(rows...): a Result has keys(), so dict() would take it for a mapping.
        load = {agent_id: count for agent_id, count in rows.tuples()}
        return min(agent_ids, key=lambda agent: load.get(agent, 0))

    async def _route_pinned(
        self, session: AsyncSession, capability: str, pinned: str, tenant: str
    ) -> Route | None:
        row = (
            await session.execute(
                select(AgentRow)
                .join(CapabilityRow, CapabilityRow.agent_id == AgentRow.id)
                .where(
                    CapabilityRow.name == capability,
                    AgentRow.status == "online",
                    serves(tenant),
                    or_(AgentRow.id == pinned, AgentRow.name == pinned),
                )
                # An id names one agent; a name, the instances that proved its key (any one).
                .order_by((AgentRow.id == pinned).desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        reply_to = speaks(row.transport, row.card.get("features"), "reply_to")
        if row.transport not in ON_BUS:
            return Route(REMOTE_PREFIX + row.id, row.id, reply_to, row.transport)
        return Route(streams.inbox(row.id), row.id, reply_to)


async def waiting_reason(session: AsyncSession, capability: str, tenant: str) -> str:
    """Why no task of ``capability`` can go out: nobody registered it, or all are offline."""
    registered = (
        await session.execute(
            select(func.count())
            .select_from(CapabilityRow)
            .join(AgentRow, CapabilityRow.agent_id == AgentRow.id)
            .where(CapabilityRow.name == capability, serves(tenant))
        )
    ).scalar_one()
    why = "all offline" if registered else "none registered"
    return f"waiting for an agent that serves {capability} ({why})"


async def unserved(session: AsyncSession, capabilities: list[str], tenant: str) -> list[str]:
    """Those of ``capabilities`` that no registered agent serving ``tenant`` has."""
    served = (
        await session.execute(
            select(CapabilityRow.name)
            .join(AgentRow, CapabilityRow.agent_id == AgentRow.id)
            .where(CapabilityRow.name.in_(capabilities), serves(tenant))
            .distinct()
        )
    ).scalars()
    missing = set(capabilities) - set(served)
    return [name for name in dict.fromkeys(capabilities) if name in missing]
