"""Data functions for runs: create, read, list (with a cursor), history."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from bus.ids import new_id
from services.db.models import DEFAULT_TENANT, EventRow, RunRow, StepRow, utcnow
from services.orchestrator.definitions import WorkflowDefinition
from services.orchestrator.records import Run, Step
from services.orchestrator.states import RunState, StepState


def new_run(
    definition: WorkflowDefinition,
    input_: Any,
    *,
    tenant: str = DEFAULT_TENANT,
    version: int | None = None,
    idempotency_key: str | None = None,
    goal: dict[str, Any] | None = None,
    retry_of: str | None = None,
    deadline_s: float | None = None,
    run_id: str | None = None,
    parent: tuple[str, str] | None = None,
    root: str | None = None,
) -> tuple[Run, dict[str, Any]]:
    """A pending run, not stored yet: the engine's record and the columns only kept on file
    (``Orchestrator.create_run`` stores both). ``parent`` is the (run id, step id) of a
    sub-workflow's parent step; ``run_id`` an id chosen beforehand (a child's, which its
    parent records before the child exists); ``root`` the run its chain of parents starts at."""
    now = utcnow()
    run = Run(
        id=run_id or new_id(),
        tenant=tenant,
        workflow_name=definition.name,
        definition=definition.stored(),
        input=input_,
        output=None,
        error=None,
        status=RunState.PENDING,
        cancel_requested=False,
        created_at=now,
        started_at=None,
        finished_at=None,
        deadline_at=now + timedelta(seconds=deadline_s) if deadline_s is not None else None,
        updated_at=now,
        ledger_seq=0,
        ledger_head="",
        version=0,
        parent_run_id=parent[0] if parent else None,
        parent_step_id=parent[1] if parent else None,
    )
    on_file = {
        "workflow_version": version,
        "idempotency_key": idempotency_key,
        "goal": goal,
        "retry_of": retry_of,
        "root_run_id": root,
    }
    return run, on_file


async def by_idempotency_key(session: AsyncSession, tenant: str, key: str) -> RunRow | None:
    """The run ``tenant`` created with this idempotency key."""
    query = select(RunRow).where(RunRow.tenant == tenant, RunRow.idempotency_key == key)
    return (await session.execute(query)).scalar_one_or_none()


async def orphans(session: AsyncSession, limit: int = 500) -> list[tuple[str, str]]:
    """(child run id, parent run id) of unfinished runs whose parent run has ended.

    A parent that ends cancels its running children, but after its own commit (``ChildOrder``):
    a crash between the two leaves such children, which nothing else would end.
    """
    parent = aliased(RunRow)
    unfinished = [RunState.PENDING, RunState.RUNNING]
    query = (
        select(RunRow.id, RunRow.parent_run_id)
        .join(parent, parent.id == RunRow.parent_run_id)
        .where(RunRow.status.in_(unfinished), parent.status.not_in(unfinished))
        .limit(limit)
    )
    return [(child, str(parent_id)) for child, parent_id in (await session.execute(query)).all()]


DUE_LIMIT = 500
"""Runs the sweep reads at once, per part of its question (``due``)."""


async def due(
    session: AsyncSession, now: datetime, limit: int = DUE_LIMIT, skip: Sequence[str] = ()
) -> set[str]:
    """Ids of runs with something due at ``now``: a step's timer (a retry's backoff, a
    timeout), a run stored but not started, a running run past its deadline; none of ``skip``
    (runs whose due work keeps failing, set aside: ``services.orchestrator.aside``).

    One statement, one round trip (every replica asks each second, mostly for nothing), each
    part read through an index that holds what it asks for: the running runs' deadlines are a
    partial index of running runs, so the question reads the entries past due, not one per
    run in flight. Without statistics of ``steps`` (autovacuum off, or rows added since the
    last ``ANALYZE``) PostgreSQL takes ``due_at <= now`` for a third of the table, and reads
    every step: so the steps are asked only when the earliest timer (the first entry of
    ``ix_steps_due_at``) is due, and then earliest first, which a large table reads from that
    index too.
    """
    earliest = select(func.min(StepRow.due_at)).scalar_subquery()
    parts = [
        select(StepRow.run_id)
        .where(StepRow.due_at <= now, earliest <= now)
        .order_by(StepRow.due_at),
        select(RunRow.id).where(RunRow.status == RunState.PENDING),
        select(RunRow.id).where(RunRow.status == RunState.RUNNING, RunRow.deadline_at <= now),
    ]
    if skip:
        parts[0] = parts[0].where(StepRow.run_id.not_in(skip))
        parts[1:] = [part.where(RunRow.id.not_in(skip)) for part in parts[1:]]
    query = union(*(select(part.limit(limit).subquery()) for part in parts))
    return set((await session.execute(query)).scalars())


# The run's frozen definition is its largest column (JSON to decode for every row read); the
# API's views of a run leave it out but for ``GET /v1/runs/{id}``. Reading it by mistake
# raises instead of costing a query per row.
NO_DEFINITION = defer(RunRow.definition, raiseload=True)


async def get_run(
    session: AsyncSession, run_id: str, tenant: str | None = None, *, definition: bool = True
) -> RunRow | None:
    """One run; None when it does not exist or belongs to another tenant than ``tenant``.
    ``definition=False`` leaves the run's definition unread."""
    options = [] if definition else [NO_DEFINITION]
    run = await session.get(RunRow, run_id, options=options)
    if run is None or (tenant is not None and run.tenant != tenant):
        return None
    return run


async def steps_of(session: AsyncSession, run_id: str) -> Sequence[StepRow]:
    """A run's steps in the order they were created."""
    query = select(StepRow).where(StepRow.run_id == run_id)
    rows = (await session.execute(query)).scalars().all()
    return sorted(rows, key=step_order)


async def waiting_below(
    session: AsyncSession, run_id: str, signal: str, limit: int = 5
) -> list[tuple[str, str]]:
    """The steps of the running runs under ``run_id`` (its children, theirs, …) that wait
    for ``signal``, as (run id, step id), nearest first: a signal sent to the parent of a
    sub-workflow or loop that waits is refused, and the refusal names where to send it."""
    found: list[tuple[str, str]] = []
    parents = [run_id]
    for _ in range(32):  # deeper than any run tree (MODX_MAX_RUN_DEPTH)
        if not parents or len(found) >= limit:
            break
        query = select(RunRow.id).where(
            RunRow.parent_run_id.in_(parents), RunRow.status == RunState.RUNNING
        )
        parents = list((await session.execute(query)).scalars().all())
        steps = select(StepRow.run_id, StepRow.step_id, StepRow.meta).where(
            StepRow.run_id.in_(parents), StepRow.status == StepState.RUNNING
        )
        for child, step_id, meta in (await session.execute(steps)).all():
            if isinstance(meta, dict) and meta.get("signal") == signal:
                found.append((child, step_id))
    return found[:limit]


def step_order(step: StepRow | Step) -> tuple[bool, datetime, str]:
    """The sort key of a run's steps in the order they were created (unscheduled last)."""
    return (step.scheduled_at is None, step.scheduled_at or utcnow(), step.step_id)


@dataclass(frozen=True)
class RunFilter:
    """Filters of the run list (``tenant`` None: every tenant's, for the system view)."""

    tenant: str | None = None
    status: str | None = None
    statuses: tuple[str, ...] = ()
    """Any of these states (with ``status``: both must hold)."""
    workflow: str | None = None
    agent_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    """Runs whose last event (``updated_at``) is at or after this."""
    id_prefix: str | None = None
    parent_run_id: str | None = None
    ids: Select[Any] | None = None
    """Only runs whose id this query selects (one column of run ids)."""
    where: tuple[ColumnElement[bool], ...] = ()
    """Further conditions on ``RunRow`` (e.g. a correlated ``EXISTS`` over its steps)."""


def encode_cursor(run: RunRow) -> str:
    """An opaque cursor after this run (keyset pagination on created_at, id)."""
    return cursor_after(run.created_at, run.id)


def cursor_after(created_at: datetime, row_id: str) -> str:
    """An opaque cursor after the row created at ``created_at`` with id ``row_id``."""
    return base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), row_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points after; ValueError when it is not one of ours."""
    try:
        created, run_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created), str(run_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc


def _filtered(query: Select[Any], filters: RunFilter) -> Select[Any]:
    """``query`` over runs, narrowed by ``filters``."""
    if filters.tenant is not None:
        query = query.where(RunRow.tenant == filters.tenant)
    if filters.status:
        query = query.where(RunRow.status == filters.status)
    if filters.statuses:
        query = query.where(RunRow.status.in_(filters.statuses))
    if filters.workflow:
        query = query.where(RunRow.workflow_name == filters.workflow)
    if filters.created_after:
        query = query.where(RunRow.created_at >= filters.created_after)
    if filters.created_before:
        query = query.where(RunRow.created_at < filters.created_before)
    if filters.updated_after:
        query = query.where(RunRow.updated_at >= filters.updated_after)
    if filters.id_prefix:
        query = query.where(RunRow.id.startswith(filters.id_prefix))
    if filters.parent_run_id:
        query = query.where(RunRow.parent_run_id == filters.parent_run_id)
    if filters.ids is not None:
        query = query.where(RunRow.id.in_(filters.ids))
    if filters.where:
        query = query.where(*filters.where)
    if filters.agent_id:
        # A semi-join driven by the agent's steps (ix_steps_agent_status), not a probe per run.
        served = select(StepRow.run_id).where(StepRow.agent_id == filters.agent_id)
        query = query.where(RunRow.id.in_(served))
    return query


async def count_runs(session: AsyncSession, filters: RunFilter) -> int:
    """How many runs ``filters`` select."""
    query = _filtered(select(func.count()).select_from(RunRow), filters)
    return int((await session.execute(query)).scalar_one())


async def list_runs(
    session: AsyncSession,
    filters: RunFilter,
    limit: int = 50,
    cursor: str | None = None,
    *,
    definitions: bool = True,
    by_update: bool = False,
) -> tuple[list[RunRow], str | None]:
    """Runs newest first (``by_update``: last updated first), filtered, one page; returns the
    page and the next cursor. ``definitions=False`` leaves the runs' definitions unread."""
    query = _filtered(select(RunRow), filters)
    if not definitions:
        query = query.options(NO_DEFINITION)
    column = RunRow.updated_at if by_update else RunRow.created_at
    if cursor:
        moment, run_id = decode_cursor(cursor)
        # The first condition alone is what an index on the column can start from: without it
        # PostgreSQL read the index from the newest run and filtered every row before the page
        # (275 ms for a page in the middle of 500,000 runs; 0.2 ms with it).
        query = query.where(
            column <= moment,
            or_(column < moment, and_(column == moment, RunRow.id < run_id)),
        )
    query = query.order_by(column.desc(), RunRow.id.desc()).limit(limit + 1)
    rows = list((await session.execute(query)).scalars().all())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursor_after(last.updated_at if by_update else last.created_at, last.id)
    return rows[:limit], next_cursor


EVENTS_PAGE = 10_000

# A run's events are written at or after its creation (by the writer's clock), and the events
# table is partitioned by month of created_at (services.db.partitions): a lower bound on
# created_at lets PostgreSQL skip every month before the run's. The slack covers replicas
# whose clocks are apart; a partition is a month, so a day of it costs next to nothing.
CLOCK_SLACK = timedelta(days=1)


def history_since(run_created_at: datetime) -> datetime:
    """The earliest ``created_at`` an event of a run created at ``run_created_at`` can have."""
    return run_created_at - CLOCK_SLACK


async def events_of(
    session: AsyncSession,
    run_id: str,
    after: int = 0,
    limit: int = EVENTS_PAGE,
    *,
    run_created_at: datetime,
) -> Sequence[EventRow]:
    """A run's history in order, after the event id ``after``; ``run_created_at`` (the run's
    ``created_at``) keeps the read to the run's months."""
    query = (
        select(EventRow)
        .where(
            EventRow.run_id == run_id,
            EventRow.id > after,
            EventRow.created_at >= history_since(run_created_at),
        )
        .order_by(EventRow.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


@dataclass(frozen=True)
class History:
    """A page of a run's events and the run's version and status, read in one statement: the
    page holds every event of the versions up to ``version`` after the id asked for."""

    version: int
    status: str
    events: list[EventRow]


async def history_at_version(
    session: AsyncSession, run_id: str, after: int, *, run_created_at: datetime
) -> History | None:
    """``events_of`` with the run's version and status as of the same snapshot (one statement:
    a later commit is in neither); None when the run is gone."""
    query = (
        select(RunRow.version, RunRow.status, EventRow)
        .select_from(RunRow)
        .outerjoin(
            EventRow,
            and_(
                EventRow.run_id == RunRow.id,
                EventRow.id > after,
                EventRow.created_at >= history_since(run_created_at),
            ),
        )
        .where(RunRow.id == run_id)
        .order_by(EventRow.id)
        .limit(EVENTS_PAGE)
    )
    rows = (await session.execute(query)).tuples().all()
    if not rows:
        return None
    version, status, _ = rows[0]
    return History(version, status, [event for _, _, event in rows if event is not None])


async def last_event_id(session: AsyncSession, run_id: str, run_created_at: datetime) -> int:
    """The id of the run's latest event (0 when it has none): it changes whenever the run
    does."""
    query = select(func.max(EventRow.id)).where(
        EventRow.run_id == run_id, EventRow.created_at >= history_since(run_created_at)
    )
    return int((await session.execute(query)).scalar_one_or_none() or 0)
