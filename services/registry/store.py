"""Data functions of the registry: they take a session and return rows; routes stay thin."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bus.ids import new_id
from services.auth import new_token, token_hash
from services.db.models import AgentRow, CapabilityRow, StepRow, utcnow
from services.orchestrator.states import ACTIVE_STEP
from services.registry.schemas import AgentCard

ONLINE, OFFLINE, DRAINING = "online", "offline", "draining"


async def register_agent(
    session: AsyncSession, card: AgentCard, lease_s: float
) -> tuple[AgentRow, str]:
    """Store a new agent and its capabilities; returns the row and the agent's token."""
    token = new_token("agt")
    now = utcnow()
    agent = AgentRow(
        id=new_id(),
        name=card.name,
        version=card.version,
        description=card.description,
        transport=card.transport,
        endpoint=card.endpoint,
        public_key=card.public_key,
        token_hash=token_hash(token),
        status=ONLINE,
        card=card.model_dump(mode="json"),
        registered_at=now,
        last_heartbeat_at=now,
        lease_expires_at=now + timedelta(seconds=lease_s),
        in_flight=0,
        completed=0,
        failed=0,
    )
    session.add(agent)
    for cap in card.capabilities:
        session.add(
            CapabilityRow(
                agent_id=agent.id,
                name=cap.name,
                description=cap.description,
                input_schema=cap.input_schema,
                output_schema=cap.output_schema,
                consumes=list(cap.consumes),
                produces=list(cap.produces),
                idempotent=cap.idempotent,
            )
        )
    return agent, token


async def heartbeat(
    session: AsyncSession, agent: AgentRow, in_flight: int, lease_s: float
) -> AgentRow:
    """Renew an agent's lease; an offline agent comes back online (a draining one stays so)."""
    now = utcnow()
    agent.last_heartbeat_at = now
    agent.lease_expires_at = now + timedelta(seconds=lease_s)
    agent.in_flight = in_flight
    if agent.status == OFFLINE:
        agent.status = ONLINE
    return agent


async def get_agent(session: AsyncSession, agent_id: str) -> AgentRow | None:
    """One agent, or None."""
    return await session.get(AgentRow, agent_id)


async def list_agents(
    session: AsyncSession, status: str | None = None, name: str | None = None
) -> Sequence[AgentRow]:
    """Agents, newest first, optionally by status or name."""
    query = select(AgentRow).order_by(AgentRow.registered_at.desc())
    if status is not None:
        query = query.where(AgentRow.status == status)
    if name is not None:
        query = query.where(AgentRow.name == name)
    return (await session.execute(query)).scalars().all()


async def active_tasks(
    session: AsyncSession, agent_ids: Sequence[str] | None = None
) -> dict[str, int]:
    """Tasks out with each agent now (steps scheduled or running on it)."""
    query = (
        select(StepRow.agent_id, func.count())
        .where(StepRow.status.in_(list(ACTIVE_STEP)), StepRow.agent_id.is_not(None))
        .group_by(StepRow.agent_id)
    )
    if agent_ids is not None:
        query = query.where(StepRow.agent_id.in_(list(agent_ids)))
    return {
        agent: count
        for agent, count in (await session.execute(query)).tuples()
        if agent is not None
    }


async def capabilities_of(
    session: AsyncSession, agent_ids: Sequence[str]
) -> dict[str, list[CapabilityRow]]:
    """Capabilities grouped by agent."""
    rows = (
        await session.execute(
            select(CapabilityRow).where(CapabilityRow.agent_id.in_(list(agent_ids)))
        )
    ).scalars()
    grouped: dict[str, list[CapabilityRow]] = {agent_id: [] for agent_id in agent_ids}
    for row in rows:
        grouped[row.agent_id].append(row)
    return grouped


async def find_capabilities(
    session: AsyncSession, name: str | None = None, live_only: bool = False
) -> list[tuple[CapabilityRow, AgentRow]]:
    """Capabilities with their agents; ``name`` matches exactly or as a prefix ending in ``*``."""
    query = select(CapabilityRow, AgentRow).join(AgentRow, AgentRow.id == CapabilityRow.agent_id)
    if name is not None:
        query = (
            query.where(CapabilityRow.name.startswith(name[:-1]))
            if name.endswith("*")
            else query.where(CapabilityRow.name == name)
        )
    if live_only:
        query = query.where(AgentRow.status == ONLINE)
    else:
        query = query.where(AgentRow.status != "deregistered")
    return [
        (cap, agent)
        for cap, agent in (await session.execute(query.order_by(CapabilityRow.name))).tuples()
    ]


async def start_draining(session: AsyncSession, agent: AgentRow) -> None:
    """Stop routing to an agent; it is removed once its tasks have ended."""
    agent.status = DRAINING


async def expire_leases(session: AsyncSession, now: datetime) -> list[str]:
    """Mark agents whose lease ran out offline; rows another replica holds are skipped."""
    rows = (
        (
            await session.execute(
                select(AgentRow)
                .where(AgentRow.status.in_([ONLINE, DRAINING]), AgentRow.lease_expires_at < now)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        row.status = OFFLINE
    return [row.id for row in rows]


async def remove_drained(session: AsyncSession) -> list[str]:
    """Delete draining agents that have no task out any more."""
    draining = (
        (await session.execute(select(AgentRow.id).where(AgentRow.status == DRAINING)))
        .scalars()
        .all()
    )
    if not draining:
        return []
    busy = await active_tasks(session, draining)
    done = [agent_id for agent_id in draining if busy.get(agent_id, 0) == 0]
    if done:
        await session.execute(delete(AgentRow).where(AgentRow.id.in_(done)))
    return done


async def forget_offline(session: AsyncSession, older_than: datetime) -> int:
    """Delete agents offline since before ``older_than`` (their history stays in the events)."""
    result = await session.execute(
        delete(AgentRow).where(AgentRow.status == OFFLINE, AgentRow.lease_expires_at < older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


__all__ = [
    "DRAINING",
    "OFFLINE",
    "ONLINE",
    "active_tasks",
    "capabilities_of",
    "expire_leases",
    "find_capabilities",
    "forget_offline",
    "get_agent",
    "heartbeat",
    "list_agents",
    "register_agent",
    "remove_drained",
    "start_draining",
]
