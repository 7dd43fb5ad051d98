"""Data functions of the registry: they take a session and return rows; routes stay thin."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, Text, bindparam, cast, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, load_only

from agents.sdk.json_schema import SchemaRefused, check_schema
from bus.ids import new_id
from services.auth import new_token, token_hash
from services.config import Settings
from services.db.clock import database_now
from services.db.models import DEFAULT_TENANT, AgentRow, CapabilityRow, StepRow, utcnow
from services.orchestrator.states import ACTIVE_STEP
from services.registry.bus_access import audience
from services.registry.identity import RegistrationRefused, check_card
from services.registry.schemas import AgentCard

ONLINE, OFFLINE, DRAINING = "online", "offline", "draining"


async def register_agent(
    session: AsyncSession, card: AgentCard, lease_s: float, tenant: str = DEFAULT_TENANT
) -> tuple[AgentRow, str]:
    """Store a new agent of ``tenant`` and its capabilities; returns the row and the agent's
    token."""
    token = new_token("agt")
    now = await database_now(session)  # the clock its lease is judged by
    agent = AgentRow(
        id=new_id(),
        tenant=tenant,
        name=card.name,
        version=card.version,
        description=card.description,
        transport=card.transport,
        endpoint=card.endpoint,
        public_key=card.public_key,
        token_hash=token_hash(token),
        status=ONLINE,
        card=card.model_dump(mode="json", exclude={"proof"}),
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
                shared=cap.shared,
            )
        )
    return agent, token


async def heartbeat(
    session: AsyncSession, agent: AgentRow, in_flight: int, lease_s: float
) -> AgentRow:
    """Renew an agent's lease; an offline agent comes back online (a draining one stays so)."""
    now = await database_now(session)  # the clock its lease is judged by
    agent.last_heartbeat_at = now
    agent.lease_expires_at = now + timedelta(seconds=lease_s)
    agent.in_flight = in_flight
    if agent.status == OFFLINE:
        agent.status = ONLINE
    return agent


async def enroll(
    session: AsyncSession, card: AgentCard, tenant: str, settings: Settings
) -> tuple[AgentRow, str]:
    """Check ``card`` against the live holders of its name (``identity.check_card``), then
    store it, in the caller's transaction: the agent and its token.

    Raises:
        RegistrationRefused: The card may not take that name now, or a capability's schema
            cannot be used (its fields say why).
    """
    check_schemas(card)
    holders = await online_named(session, card.name, tenant)
    check_card(
        card,
        holders,
        now=utcnow(),
        insecure=settings.insecure_agents,
        clock_skew_s=settings.clock_skew_s,
    )
    return await register_agent(session, card, settings.agent_lease_s, tenant)


def check_schemas(card: AgentCard) -> None:
    """Refuse a card whose capability schemas MODX could not check values against safely
    (the MCP and A2A servers check calls against ``input_schema``).

    Raises:
        RegistrationRefused: 422 naming the schema's field (``capabilities[0].input_schema…``).
    """
    for index, cap in enumerate(card.capabilities):
        for name in ("input_schema", "output_schema"):
            try:
                check_schema(getattr(cap, name))
            except SchemaRefused as exc:
                field = f"capabilities[{index}].{name}{exc.path}"
                message = f"capability {cap.name!r}: {exc.message}"
                raise RegistrationRefused(422, "invalid_request", message, field) from None


async def renew_leases(session: AsyncSession, agent_ids: Collection[str], lease_s: float) -> None:
    """Renew the leases of agents MODX checked itself (remote A2A and MCP agents, which send
    no heartbeats), as their heartbeats would."""
    if not agent_ids:
        return
    rows = (await session.execute(select(AgentRow).where(AgentRow.id.in_(agent_ids)))).scalars()
    for row in rows:
        await heartbeat(session, row, row.in_flight, lease_s)


async def online_named(session: AsyncSession, name: str, tenant: str) -> Sequence[AgentRow]:
    """The online agents of ``tenant`` holding ``name`` (the registry lets only one key hold
    a live name)."""
    query = select(AgentRow).where(
        AgentRow.name == name, AgentRow.status == ONLINE, AgentRow.tenant == tenant
    )
    return (await session.execute(query)).scalars().all()


async def get_agent(
    session: AsyncSession, agent_id: str, tenant: str | None = None
) -> AgentRow | None:
    """One agent, or None (also when it belongs to another tenant than ``tenant``)."""
    agent = await session.get(AgentRow, agent_id)
    if agent is None or (tenant is not None and agent.tenant != tenant):
        return None
    return agent


async def list_agents(
    session: AsyncSession,
    status: str | None = None,
    name: str | None = None,
    tenant: str | None = None,
) -> Sequence[AgentRow]:
    """Agents, newest first, optionally by status or name; of ``tenant`` when given."""
    query = select(AgentRow).order_by(AgentRow.registered_at.desc())
    if tenant is not None:
        query = query.where(AgentRow.tenant == tenant)
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


INBOX_ONLY = "inbox_only"
"""The key of a stored card (``AgentCard.inbox_only``) that routing reads."""


def inbox_only(card: object) -> list[str]:
    """The capabilities an agent's stored card marks as served through its inbox only."""
    names = card.get(INBOX_ONLY) if isinstance(card, dict) else None
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


async def live_bus_agents(session: AsyncSession) -> dict[str, dict[str, str]]:
    """Online agents that read the bus themselves: id -> the capabilities whose task streams
    they read -> whom those serve (``bus_access.audience``)."""
    rows = await session.execute(
        select(
            AgentRow.id, AgentRow.tenant, AgentRow.card, CapabilityRow.name, CapabilityRow.shared
        )
        .join(CapabilityRow, CapabilityRow.agent_id == AgentRow.id)
        .where(AgentRow.status == ONLINE, AgentRow.transport == "bus")
    )
    agents: dict[str, dict[str, str]] = {}
    for agent_id, tenant, card, name, shared in rows.tuples():
        readable = agents.setdefault(agent_id, {})
        if name not in inbox_only(card):
            readable[name] = audience(tenant, shared)
    return agents


class CapabilityKey(NamedTuple):
    """What identifies a capability row: its id, and the (name, agent) pair it serves."""

    name: str
    agent_id: str
    id: int


def serves(tenant: str) -> Any:
    """Capabilities (joined with their agents) that serve ``tenant``: its own agents', and the
    ones shared with every tenant."""
    return or_(AgentRow.tenant == tenant, CapabilityRow.shared.is_(True))


def _contains_any(column: InstrumentedAttribute[Any], dialect: str, iris: Collection[str]) -> Any:
    """``column`` (a JSON array of strings) holds one of ``iris``."""
    if dialect == "postgresql":
        # jsonb ?| text[]: one array parameter, whatever the number of IRIs.
        return column.op("?|")(bindparam(None, sorted(iris), type_=ARRAY(Text)))
    element = func.json_each(column).table_valued("value")
    return select(literal(1)).select_from(element).where(element.c.value.in_(sorted(iris))).exists()


def _conditions(
    session: AsyncSession,
    name: str | None,
    live_only: bool,
    produces: Collection[str] | None,
    consumes: Collection[str] | None,
    tenant: str | None = None,
) -> list[Any]:
    """Where-clauses over capabilities joined with their agents; with ``tenant``, only the
    capabilities that serve it (its own agents' and the shared ones)."""
    dialect = session.get_bind().dialect.name
    conditions: list[Any] = [
        AgentRow.status == ONLINE if live_only else AgentRow.status != "deregistered"
    ]
    if tenant is not None:
        conditions.append(serves(tenant))
    if name is not None:
        conditions.append(
            CapabilityRow.name.startswith(name[:-1])
            if name.endswith("*")
            else CapabilityRow.name == name
        )
    if produces is not None:
        conditions.append(_contains_any(CapabilityRow.produces, dialect, produces))
    if consumes is not None:
        conditions.append(_contains_any(CapabilityRow.consumes, dialect, consumes))
    return conditions


# The agent columns a capability is shown with; the card (all of the agent's capabilities, as
# JSON) is never loaded with a capability.
_AGENT_SUMMARY = load_only(AgentRow.id, AgentRow.name, AgentRow.status, raiseload=True)


async def find_capabilities(
    session: AsyncSession,
    name: str | None = None,
    live_only: bool = False,
    *,
    produces: Collection[str] | None = None,
    consumes: Collection[str] | None = None,
    limit: int | None = None,
    tenant: str | None = None,
) -> list[tuple[CapabilityRow, AgentRow]]:
    """Capabilities with their agents (id, name and status only), by name, then agent.

    Args:
        session: A session.
        name: Exact, or a prefix ending in ``*``.
        live_only: Only agents online now.
        produces: Keep capabilities producing one of these IRIs (exact strings).
        consumes: Keep capabilities consuming one of these IRIs (exact strings).
        limit: At most this many.
        tenant: Only the capabilities serving this tenant (None: all of them).
    """
    query = (
        select(CapabilityRow, AgentRow)
        .options(_AGENT_SUMMARY)
        .join(AgentRow, AgentRow.id == CapabilityRow.agent_id)
        .where(*_conditions(session, name, live_only, produces, consumes, tenant))
        .order_by(CapabilityRow.name, CapabilityRow.agent_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(cap, agent) for cap, agent in (await session.execute(query)).tuples()]


async def capability_keys(
    session: AsyncSession,
    name: str | None = None,
    live_only: bool = False,
    *,
    produces: Collection[str] | None = None,
    consumes: Collection[str] | None = None,
    tenant: str | None = None,
) -> list[CapabilityKey]:
    """The keys of the capabilities :func:`find_capabilities` finds, sorted by (name, agent).

    Three short columns per row, read without the ORM (discovery reads them when the
    :func:`capability_stamp` of the candidates is one it has not seen). Sorted here, by code
    point: the database's collation may differ, and a replica sorts for less than the one
    database.
    """
    query = (
        select(CapabilityRow.name, CapabilityRow.agent_id, CapabilityRow.id)
        .join(AgentRow, AgentRow.id == CapabilityRow.agent_id)
        .where(*_conditions(session, name, live_only, produces, consumes, tenant))
    )
    rows = (await (await session.connection()).execute(query)).all()
    return sorted(map(CapabilityKey._make, rows))


def stamp(keys: Iterable[CapabilityKey]) -> str:
    """The string :func:`capability_stamp` reads for these capabilities."""
    return ",".join(f"{key.id} {key.agent_id}" for key in sorted(keys, key=lambda key: key.id))


async def capability_stamp(
    session: AsyncSession,
    name: str | None = None,
    live_only: bool = False,
    *,
    produces: Collection[str] | None = None,
    consumes: Collection[str] | None = None,
    tenant: str | None = None,
) -> str:
    """One string naming exactly the capabilities :func:`capability_keys` would return.

    It lists their ids with their agents' ids, by capability id, as :func:`stamp` does. A row
    never changes and an agent id is never reused (a capability id may be, on SQLite), so
    equal stamps mean equal capabilities: a cache keyed by :func:`stamp` of the keys it read
    is checked with one aggregate, without reading a row per capability.
    """
    pair = cast(CapabilityRow.id, String) + " " + CapabilityRow.agent_id
    conditions = _conditions(session, name, live_only, produces, consumes, tenant)
    joined = select().join_from(CapabilityRow, AgentRow, AgentRow.id == CapabilityRow.agent_id)
    if session.get_bind().dialect.name == "postgresql":
        ordered = aggregate_order_by(literal(","), CapabilityRow.id)
        query = joined.add_columns(func.string_agg(pair, ordered)).where(*conditions)
    else:
        # SQLite aggregates in the order of a subquery that is not flattened into the aggregate.
        pairs = joined.add_columns(pair.label("pair")).where(*conditions)
        listed = pairs.order_by(CapabilityRow.id).subquery()
        query = select(func.group_concat(listed.c.pair, ","))
    found = (await (await session.connection()).execute(query)).scalar()
    return str(found or "")


def _chunks(ids: Iterable[int], size: int = 1000) -> Iterator[list[int]]:
    """Ids in lists of ``size``: bound parameters per statement stay far below any limit."""
    listed = list(ids)
    for start in range(0, len(listed), size):
        yield listed[start : start + size]


async def capability_descriptions(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    """Descriptions by capability id (ids of removed capabilities are left out)."""
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        query = select(CapabilityRow.id, CapabilityRow.description).where(
            CapabilityRow.id.in_(chunk)
        )
        found.update((row_id, text) for row_id, text in (await session.execute(query)).tuples())
    return found


async def capabilities_by_id(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, tuple[CapabilityRow, AgentRow]]:
    """Capabilities with their agents (id, name and status only) by capability id."""
    found: dict[int, tuple[CapabilityRow, AgentRow]] = {}
    for chunk in _chunks(ids):
        query = (
            select(CapabilityRow, AgentRow)
            .options(_AGENT_SUMMARY)
            .join(AgentRow, AgentRow.id == CapabilityRow.agent_id)
            .where(CapabilityRow.id.in_(chunk))
        )
        found.update(
            (cap.id, (cap, agent)) for cap, agent in (await session.execute(query)).tuples()
        )
    return found


async def start_draining(session: AsyncSession, agent: AgentRow) -> None:
    """Stop routing to an agent; it is removed once its tasks have ended."""
    agent.status = DRAINING


async def expire_leases(session: AsyncSession, now: datetime) -> tuple[list[str], list[str]]:
    """Agents whose lease ran out: online ones go offline (a heartbeat brings them back),
    draining ones are removed (they were leaving: a late heartbeat must not revive them).
    Rows another replica holds are skipped.

    Returns:
        ``(expired, removed)``: every agent whose lease ran out (its tasks go elsewhere), and
        those of them removed.
    """
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
    removed = [row.id for row in rows if row.status == DRAINING]
    for row in rows:
        row.status = OFFLINE
    if removed:
        await session.execute(delete(AgentRow).where(AgentRow.id.in_(removed)))
    return [row.id for row in rows], removed


async def renew_expired_leases(
    session: AsyncSession, since: datetime | None, until: datetime
) -> int:
    """Extend to ``until`` the leases of live agents that ran out after ``since`` (time in
    which heartbeats could not be recorded; None: whenever); returns how many."""
    window = [AgentRow.status.in_([ONLINE, DRAINING]), AgentRow.lease_expires_at < until]
    if since is not None:
        window.append(AgentRow.lease_expires_at >= since)
    result = await session.execute(update(AgentRow).where(*window).values(lease_expires_at=until))
    return int(getattr(result, "rowcount", 0) or 0)


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


async def forget_offline(session: AsyncSession, older_than: datetime) -> list[str]:
    """Delete agents offline since before ``older_than`` (their history stays in the events);
    returns their ids."""
    stale = (AgentRow.status == OFFLINE) & (AgentRow.lease_expires_at < older_than)
    ids = list((await session.execute(select(AgentRow.id).where(stale))).scalars())
    if ids:
        await session.execute(delete(AgentRow).where(AgentRow.id.in_(ids)))
    return ids


__all__ = [
    "DRAINING",
    "OFFLINE",
    "ONLINE",
    "CapabilityKey",
    "active_tasks",
    "capabilities_by_id",
    "capabilities_of",
    "capability_descriptions",
    "capability_keys",
    "capability_stamp",
    "expire_leases",
    "find_capabilities",
    "forget_offline",
    "get_agent",
    "heartbeat",
    "list_agents",
    "online_named",
    "register_agent",
    "remove_drained",
    "renew_expired_leases",
    "stamp",
    "start_draining",
]
