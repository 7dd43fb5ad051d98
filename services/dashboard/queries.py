"""Read-only data functions behind the dashboard's pages.

Every query here is bounded, so pages stay fast on a large history: time windows go through
the ``runs.created_at`` index, recent activity is read from the tail of ``events`` by primary
key (``id > max(id) - N``) rather than by scanning it, and per-run details are looked up by key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Integer,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.db.models import (
    AgentRow,
    CapabilityRow,
    EventRow,
    RunRow,
    StepRow,
    WorkflowDefinitionRow,
    utcnow,
)
from services.orchestrator import runs
from services.orchestrator.states import ACTIVE_STEP, TERMINAL_STEP, RunState
from services.registry import store, where

RECENT_EVENTS = 100_000
"""How far back (in events) activity figures look: bounded work whatever the history's size."""

ATTEMPT_ENDS = ("step.succeeded", "step.failed", "step.retrying", "step.timed_out")
ATTEMPT_FAILURES = ("step.failed", "step.retrying", "step.timed_out")


@dataclass(frozen=True)
class Window:
    """A time window of the overview chart, cut into equal buckets."""

    key: str
    label: str
    bucket_s: int
    buckets: int


WINDOWS = {
    "1h": Window("1h", "last hour", 60, 60),
    "24h": Window("24h", "last 24 hours", 1800, 48),
    "7d": Window("7d", "last 7 days", 3 * 3600, 56),
}


@dataclass
class StatusSeries:
    """Runs created per bucket and status: ``counts[i][status]`` for bucket ``i``."""

    window: Window
    start: datetime
    counts: list[dict[str, int]]


def _bucket(session: AsyncSession, size: int) -> ColumnElement[int]:
    column = RunRow.created_at
    if session.bind is not None and session.bind.dialect.name == "sqlite":
        # SQLite stores timestamps as text; julianday() turns them into days since -4713.
        seconds = (func.julianday(column) - 2440587.5) * 86400.0
        return cast(func.floor(seconds / size), Integer)
    return cast(func.floor(func.extract("epoch", column) / size), BigInteger)


async def runs_over_time(
    session: AsyncSession, window: Window, now: datetime | None = None, tenant: str | None = None
) -> StatusSeries:
    """Runs (of ``tenant``, or all) created in ``window``, counted per bucket and status."""
    now = now or utcnow()
    last = math.floor(now.timestamp() / window.bucket_s)
    first = last - window.buckets + 1
    start = datetime.fromtimestamp(first * window.bucket_s, tz=now.tzinfo)
    bucket = _bucket(session, window.bucket_s).label("bucket")
    query = (
        select(bucket, RunRow.status, func.count())
        .where(RunRow.created_at >= start)
        .group_by(bucket, RunRow.status)
    )
    if tenant is not None:
        query = query.where(RunRow.tenant == tenant)
    counts: list[dict[str, int]] = [{} for _ in range(window.buckets)]
    for index, status, count in (await session.execute(query)).tuples():
        position = int(index) - first
        if 0 <= position < window.buckets:
            counts[position][status] = counts[position].get(status, 0) + int(count)
    return StatusSeries(window, start, counts)


async def run_status_counts(session: AsyncSession, tenant: str | None = None) -> dict[str, int]:
    """All runs (of ``tenant``, or all) by status (an index-only scan of
    ``ix_runs_status_created`` for all)."""
    query = select(RunRow.status, func.count()).group_by(RunRow.status)
    if tenant is not None:
        query = query.where(RunRow.tenant == tenant)
    return {status: int(count) for status, count in (await session.execute(query)).tuples()}


COUNT_CAP = 10_000
"""Past this, the run list shows "10,000+": exact counts would scan the whole table."""


async def run_status_counts_capped(
    session: AsyncSession, cap: int = COUNT_CAP, tenant: str | None = None
) -> dict[str, int]:
    """Runs per status, each counted up to ``cap + 1`` (bounded index reads on any table size).

    Status and cap are inlined, not bound: PostgreSQL switches a prepared statement to a generic
    plan after five runs, and a generic plan cannot tell a rare status from a common one.
    """
    columns = [
        select(func.count())
        .select_from(
            select(literal_column("1"))
            .where(RunRow.status == bindparam(None, state.value, literal_execute=True))
            .where(RunRow.tenant == tenant if tenant is not None else true())
            .limit(bindparam(None, cap + 1, literal_execute=True))
            .subquery()
        )
        .scalar_subquery()
        .label(state.value)
        for state in RunState
    ]
    row = (await session.execute(select(*columns))).one()
    return {state.value: int(count) for state, count in zip(RunState, row, strict=True) if count}


async def _event_floor(session: AsyncSession, span: int) -> int:
    newest = (await session.execute(select(func.max(EventRow.id)))).scalar_one_or_none()
    return max(0, int(newest or 0) - span)


async def steps_finished_since(session: AsyncSession, since: datetime) -> int:
    """Step attempts that ended since ``since`` (read from the tail of the event log)."""
    floor = await _event_floor(session, RECENT_EVENTS)
    query = select(func.count()).where(
        EventRow.id > floor,
        EventRow.created_at >= since,
        EventRow.type.in_(ATTEMPT_ENDS),
        EventRow.attempt > 0,  # a for_each parent (attempt 0) ends with its items
    )
    return int((await session.execute(query)).scalar_one())


async def agent_status_counts(session: AsyncSession, tenant: str | None = None) -> dict[str, int]:
    """Registered agents (of ``tenant``, or all) by status (online, draining, offline)."""
    query = select(AgentRow.status, func.count()).group_by(AgentRow.status)
    if tenant is not None:
        query = query.where(AgentRow.tenant == tenant)
    return {status: int(count) for status, count in (await session.execute(query)).tuples()}


@dataclass(frozen=True)
class CapabilityLatency:
    """Step durations of one capability over recent runs."""

    capability: str
    count: int
    p50: float
    p95: float
    max: float


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def capability_latencies(
    session: AsyncSession, recent_runs: int = 500, top: int = 8
) -> list[CapabilityLatency]:
    """The slowest capabilities by p95 of step duration (start to end) in the latest runs."""
    latest = select(RunRow.id).order_by(RunRow.created_at.desc()).limit(recent_runs)
    query = select(StepRow.capability, StepRow.started_at, StepRow.finished_at).where(
        StepRow.run_id.in_(latest.scalar_subquery()),
        StepRow.started_at.is_not(None),
        StepRow.finished_at.is_not(None),
        StepRow.attempt > 0,
    )
    durations: dict[str, list[float]] = {}
    for capability, started, finished in (await session.execute(query)).tuples():
        if started is not None and finished is not None:
            durations.setdefault(capability, []).append((finished - started).total_seconds())
    stats = []
    for capability, values in durations.items():
        values.sort()
        stats.append(
            CapabilityLatency(
                capability,
                len(values),
                percentile(values, 0.5),
                percentile(values, 0.95),
                values[-1],
            )
        )
    return sorted(stats, key=lambda s: s.p95, reverse=True)[:top]


@dataclass
class AgentView:
    """An agent as the Agents page shows it."""

    row: AgentRow
    capabilities: list[CapabilityRow]
    in_flight: int
    attempts: int = 0
    failures: int = 0

    @property
    def protocol(self) -> str:
        """bus, HTTP, MCP or A2A."""
        return where.protocol(self.row.transport)

    @property
    def location(self) -> str:
        """Its URL, ``stdio: <command>``, or the bus."""
        return where.location(self.row.transport, self.row.endpoint, self.row.card)

    @property
    def error_rate(self) -> float | None:
        """Failed attempts over all attempts (None before the first one)."""
        return self.failures / self.attempts if self.attempts else None


async def attempt_outcomes(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Per agent, (attempts, failed attempts) over the recent event log."""
    floor = await _event_floor(session, RECENT_EVENTS)
    query = (
        select(EventRow.agent_id, EventRow.type, func.count())
        .where(
            EventRow.id > floor,
            EventRow.type.in_(ATTEMPT_ENDS),
            EventRow.agent_id.is_not(None),
            EventRow.attempt > 0,
        )
        .group_by(EventRow.agent_id, EventRow.type)
    )
    out: dict[str, tuple[int, int]] = {}
    for agent_id, kind, count in (await session.execute(query)).tuples():
        if agent_id is None:
            continue
        attempts, failures = out.get(agent_id, (0, 0))
        out[agent_id] = (
            attempts + int(count),
            failures + (int(count) if kind in ATTEMPT_FAILURES else 0),
        )
    return out


async def tasks_out(session: AsyncSession) -> dict[str, int]:
    """Per agent, steps scheduled or running on it now.

    Like ``registry.store.active_tasks``, but reached through the runs that have not ended
    (``ix_runs_status_created``, then steps by primary key) instead of reading every step.
    """
    open_runs = select(RunRow.id).where(RunRow.status.in_([RunState.PENDING, RunState.RUNNING]))
    query = (
        select(StepRow.agent_id, func.count())
        .where(StepRow.run_id.in_(open_runs), StepRow.status.in_(list(ACTIVE_STEP)))
        .group_by(StepRow.agent_id)
    )
    return {agent: int(count) for agent, count in (await session.execute(query)).tuples() if agent}


async def agent_views(session: AsyncSession, tenant: str | None = None) -> list[AgentView]:
    """Every registered agent (of ``tenant``) with its capabilities, tasks out, and error rate."""
    agents = list(await store.list_agents(session, tenant=tenant))
    ids = [agent.id for agent in agents]
    capabilities = await store.capabilities_of(session, ids)
    active = await tasks_out(session)
    outcomes = await attempt_outcomes(session)
    views = []
    for agent in agents:
        attempts, failures = outcomes.get(agent.id, (0, 0))
        views.append(
            AgentView(
                agent,
                sorted(capabilities.get(agent.id, []), key=lambda c: c.name),
                active.get(agent.id, 0),
                attempts,
                failures,
            )
        )
    order = {"online": 0, "draining": 1, "offline": 2}
    return sorted(views, key=lambda v: (order.get(v.row.status, 3), v.row.name))


async def agent_names(session: AsyncSession, ids: Sequence[str] | None = None) -> dict[str, str]:
    """Agent id -> name (all agents, or just ``ids``)."""
    query = select(AgentRow.id, AgentRow.name)
    if ids is not None:
        query = query.where(AgentRow.id.in_(list(ids)))
    return {agent_id: name for agent_id, name in (await session.execute(query)).tuples()}


async def workflow_names(session: AsyncSession, recent_runs: int = 2000) -> list[str]:
    """Names for the workflow filter: registered workflows and those of the latest runs.

    A DISTINCT over every run would read the whole table (PostgreSQL has no skip scan).
    """
    latest = select(RunRow.workflow_name).order_by(RunRow.created_at.desc()).limit(recent_runs)
    names = set((await session.execute(select(latest.subquery().c.workflow_name))).scalars())
    registered = select(WorkflowDefinitionRow.name).distinct()
    names.update((await session.execute(registered)).scalars())
    return sorted(names)


@dataclass
class Progress:
    """How far a run got: top-level steps ended out of all."""

    done: int = 0
    total: int = 0
    failed: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    """Why steps wait (``waiting for an agent that serves X (none registered)``, ``waiting
    for signal approval``)."""


async def progress_of(session: AsyncSession, runs: Sequence[RunRow]) -> dict[str, Progress]:
    """Step progress of a page of runs, in one grouped query by primary key."""
    if not runs:
        return {}
    out = {run.id: Progress(total=len((run.definition or {}).get("steps", []))) for run in runs}
    query = (
        select(StepRow.run_id, StepRow.status, func.count())
        .where(StepRow.run_id.in_(list(out)), StepRow.item_index.is_(None))
        .group_by(StepRow.run_id, StepRow.status)
    )
    for run_id, status, count in (await session.execute(query)).tuples():
        progress = out[run_id]
        progress.statuses[status] = int(count)
        if status in TERMINAL_STEP:
            progress.done += int(count)
        if status in ("failed", "timed_out"):
            progress.failed += int(count)
    unfinished = [run.id for run in runs if run.finished_at is None]
    if unfinished:
        # Only unfinished runs can wait; a fan-out keeps its reason on its parent row.
        waiting = select(StepRow.run_id, StepRow.status, StepRow.meta).where(
            StepRow.run_id.in_(unfinished),
            StepRow.item_index.is_(None),
            StepRow.status.not_in(list(TERMINAL_STEP)),
        )
        for run_id, status, meta in (await session.execute(waiting)).tuples():
            reason = (meta or {}).get("waiting")
            if status == "running" and (meta or {}).get("signal"):
                reason = f"waiting for signal {meta['signal']}"  # a wait step (steps.wait)
                if meta.get("question"):  # a remote agent's question (conversation)
                    reason = f"waiting for an answer (signal {meta['signal']})"
            if reason and reason not in out[run_id].waiting:
                out[run_id].waiting.append(reason)
    return out


def run_duration(run: RunRow, now: datetime | None = None) -> timedelta | None:
    """Started to finished (or to now while it runs)."""
    if run.started_at is None:
        return None
    return (run.finished_at or now or utcnow()) - run.started_at


async def list_runs(
    session: AsyncSession, filters: runs.RunFilter, limit: int, cursor: str | None = None
) -> tuple[list[RunRow], str | None]:
    """``services.orchestrator.runs.list_runs``, with an agent filter that stays fast.

    That function tests ``steps.agent_id = :agent`` inside EXISTS; without table statistics
    (SQLite is never ANALYZEd here) the planner answers the subquery from ``ix_steps_agent_id``,
    i.e. it reads every step of the agent for each run scanned: seconds at 100,000 runs. Comparing
    ``coalesce(agent_id, '')`` instead keeps the subquery on the primary key (run_id first), so a
    page costs one probe per run scanned, newest first.
    """
    if not filters.agent_id:
        return await runs.list_runs(session, filters, limit, cursor)
    query = select(RunRow).where(
        exists().where(
            StepRow.run_id == RunRow.id,
            func.coalesce(StepRow.agent_id, "") == filters.agent_id,
        )
    )
    if filters.tenant is not None:
        query = query.where(RunRow.tenant == filters.tenant)
    if filters.status:
        query = query.where(RunRow.status == filters.status)
    if filters.workflow:
        query = query.where(RunRow.workflow_name == filters.workflow)
    if filters.created_after:
        query = query.where(RunRow.created_at >= filters.created_after)
    if filters.created_before:
        query = query.where(RunRow.created_at < filters.created_before)
    if filters.id_prefix:
        query = query.where(RunRow.id.startswith(filters.id_prefix))
    if cursor:
        created, run_id = runs.decode_cursor(cursor)
        query = query.where(
            or_(RunRow.created_at < created, and_(RunRow.created_at == created, RunRow.id < run_id))
        )
    query = query.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit + 1)
    rows = list((await session.execute(query)).scalars().all())
    next_cursor = runs.encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def runs_by_id(session: AsyncSession, ids: Sequence[str]) -> list[RunRow]:
    """Runs by primary key (live updates of the rows a page shows)."""
    if not ids:
        return []
    return list((await session.execute(select(RunRow).where(RunRow.id.in_(list(ids))))).scalars())


async def run_tenants(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    """Run id -> its tenant (runs that exist)."""
    if not ids:
        return {}
    query = select(RunRow.id, RunRow.tenant).where(RunRow.id.in_(list(ids)))
    return {run_id: tenant for run_id, tenant in (await session.execute(query)).tuples()}
