"""What the A2A server keeps of its tasks beside the runs, and what it reads of a run to answer
as a task that asks for input.

A task is a run, with two exceptions kept in ``a2a_tasks`` (tenant-scoped):

- an **ask**: a text-only message whose routing was ambiguous. No run exists yet; the row holds
  the question and the candidates until a follow-up message picks one, and the run then starts
  under the ask's id (so the task keeps its id);
- a **context**: the ``contextId`` a client gave, when it is not the task's own id (the default
  context of a task is its run's id, which needs no row).

A run **waits for input** while one of its ``wait`` steps is running, or one of its steps waits
for the answer to its remote agent's question: the step's signal, prompt (the question) and
schema are what the task asks (:func:`waits_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import A2aTaskRow, EventRow, RunRow, StepRow, utcnow
from services.orchestrator import runs
from services.orchestrator.conversation import ANSWER_SCHEMA, QUESTION

MAX_HISTORY = 20  # client messages an ask keeps (a client that keeps not choosing)


@dataclass(frozen=True)
class Waiting:
    """A ``wait`` step that is running: what the task asks for."""

    step_id: str
    signal: str
    prompt: str | None
    schema: dict[str, Any] | None

    def as_data(self) -> dict[str, Any]:
        found: dict[str, Any] = {"step_id": self.step_id, "signal": self.signal}
        if self.prompt is not None:
            found["prompt"] = self.prompt
        if self.schema is not None:
            found["schema"] = self.schema
        return found


def _wait_specs(run: RunRow) -> dict[str, dict[str, Any]]:
    steps = run.definition.get("steps", []) if isinstance(run.definition, dict) else []
    return {s["id"]: s["wait"] for s in steps if isinstance(s, dict) and "wait" in s}


def _waiting(run: RunRow, step_id: str, signal: str, question: Any = None) -> Waiting:
    """A ``wait`` step's signal, prompt and schema; or, for a step whose remote agent asks
    (``services.orchestrator.conversation``), its question and the answer's schema."""
    if isinstance(question, dict) and isinstance(question.get("text"), str):
        return Waiting(step_id, signal, question["text"], ANSWER_SCHEMA)
    spec = _wait_specs(run).get(step_id.split("[", 1)[0], {})
    return Waiting(step_id, signal, spec.get("prompt"), spec.get("schema"))


def waits_of(run: RunRow, steps: Iterable[StepRow]) -> list[Waiting]:
    """The run's ``wait`` steps that are running (``meta.signal`` names what each waits for)."""
    if run.status != "running":
        return []
    return [
        _waiting(run, row.step_id, str(row.meta["signal"]), row.meta.get(QUESTION))
        for row in steps
        if row.status == "running" and isinstance(row.meta, dict) and "signal" in row.meta
    ]


def waiting() -> ColumnElement[bool]:
    """A run filter: one of the run's steps waits for a signal (what :func:`waits_of` reads),
    so that ``ListTasks`` files a run under the state ``GetTask`` shows."""
    return exists().where(
        StepRow.run_id == RunRow.id,
        StepRow.status == "running",
        StepRow.meta["signal"].as_string().is_not(None),
    )


async def waits_by_run(session: AsyncSession, rows: Iterable[RunRow]) -> dict[str, list[Waiting]]:
    """:func:`waits_of` for each running run of ``rows`` (one read of their running steps)."""
    running = {run.id: run for run in rows if run.status == "running"}
    if not running:
        return {}
    query = select(StepRow).where(StepRow.run_id.in_(running), StepRow.status == "running")
    steps: dict[str, list[StepRow]] = {}
    for step in (await session.execute(query)).scalars():
        steps.setdefault(step.run_id, []).append(step)
    return {i: waits_of(run, steps.get(i, ())) for i, run in running.items()}


ASKED = "step.input_required"
"""The event of a step whose remote agent asks a question (it stays running)."""
ANSWERED = "signal.received"


def wait_of_event(run: RunRow, event: EventRow) -> Waiting | None:
    """The wait an event starts (a ``wait`` step moving to running names its signal; a remote
    agent's question), or None."""
    data = event.data if isinstance(event.data, dict) else {}
    signal = data.get("signal")
    asks = event.to_state == "running" or event.type == ASKED
    if event.step_id is None or not asks or not isinstance(signal, str):
        return None
    return _waiting(run, event.step_id, signal, data.get(QUESTION))


def moves(event: EventRow) -> bool:
    """Whether an event changes what a step asks: a transition, a question, an answer."""
    return event.step_id is not None and (
        event.to_state is not None or event.type in (ASKED, ANSWERED)
    )


class WaitTracker:
    """Which of a run's steps wait for input, kept up to date from its events as they come."""

    def __init__(self, run: RunRow, steps: Iterable[StepRow]) -> None:
        self.waiting = {w.step_id: w for w in waits_of(run, steps)}

    def see(self, run: RunRow, event: EventRow) -> Waiting | None:
        """Take in one event; the wait it starts, if any."""
        if event.step_id is None or not moves(event):
            return None
        found = wait_of_event(run, event)
        if found is None:
            self.waiting.pop(event.step_id, None)
        else:
            self.waiting[event.step_id] = found
        return found

    def interrupted(self, run: RunRow) -> bool:
        """The run waits for input (it is running and a ``wait`` step is)."""
        return run.status == "running" and bool(self.waiting)


async def run_and_steps(
    session: AsyncSession, run_id: str, tenant: str
) -> tuple[RunRow, Sequence[StepRow]] | None:
    """A tenant's run and its steps, or None."""
    run = await session.get(RunRow, run_id)
    if run is None or run.tenant != tenant:
        return None
    steps = (await session.execute(select(StepRow).where(StepRow.run_id == run_id))).scalars()
    return run, list(steps)


async def get(session: AsyncSession, task_id: str, tenant: str) -> A2aTaskRow | None:
    """The tenant's row of a task (an ask, or a task's context), or None."""
    row = await session.get(A2aTaskRow, task_id)
    return row if row is not None and row.tenant == tenant else None


async def save_ask(
    session: AsyncSession,
    task_id: str,
    tenant: str,
    context_id: str,
    ask: dict[str, Any],
    message: dict[str, Any],
) -> None:
    """Store a new ask, or add a client's message to one (the question may change)."""
    row = await session.get(A2aTaskRow, task_id)
    now = utcnow()
    if row is None:
        session.add(
            A2aTaskRow(
                id=task_id,
                tenant=tenant,
                context_id=context_id,
                ask=ask,
                history=[message],
                created_at=now,
                updated_at=now,
            )
        )
    else:
        row.ask = ask
        row.history = [*row.history, message][-MAX_HISTORY:]
        row.updated_at = now
    await session.commit()


async def forget_ask(session: AsyncSession, task_id: str, tenant: str) -> A2aTaskRow | None:
    """Delete the tenant's ask ``task_id`` (cancelled: A2A lets a task cancelled and purged be
    not found) and return what it was; None when it is not an ask, or a run was started
    under its id (then the run is the task)."""
    row = await get(session, task_id, tenant)
    if row is None or row.ask is None or await session.get(RunRow, task_id) is not None:
        return None
    await session.delete(row)
    await session.commit()
    return row


async def remember_context(
    session: AsyncSession, task_id: str, tenant: str, context_id: str
) -> None:
    """Keep the context id a client gave to a task (once: a resent message changes nothing)."""
    if await session.get(A2aTaskRow, task_id) is not None:
        return
    now = utcnow()
    session.add(
        A2aTaskRow(
            id=task_id,
            tenant=tenant,
            context_id=context_id,
            ask=None,
            history=[],
            created_at=now,
            updated_at=now,
        )
    )
    try:
        await session.commit()
    except IntegrityError:  # the same message, twice at once: the first one's row stands
        await session.rollback()


async def rows_of(session: AsyncSession, task_ids: Sequence[str]) -> dict[str, A2aTaskRow]:
    """Task id -> its row, for the tasks that have one (a context a client gave, an ask's
    messages); the ids are the caller's own runs, so no tenant filter is needed."""
    if not task_ids:
        return {}
    query = select(A2aTaskRow).where(A2aTaskRow.id.in_(task_ids))
    return {row.id: row for row in (await session.execute(query)).scalars()}


async def answers_by_run(
    session: AsyncSession, rows: Sequence[RunRow]
) -> dict[str, list[EventRow]]:
    """The signals each run took (its ``signal.received`` events, oldest first): the answers
    that a task's history shows."""
    if not rows:
        return {}
    since = runs.history_since(min(run.created_at for run in rows))
    query = (
        select(EventRow)
        .where(
            EventRow.run_id.in_([run.id for run in rows]),
            EventRow.type == ANSWERED,
            EventRow.created_at >= since,
        )
        .order_by(EventRow.id)
    )
    found: dict[str, list[EventRow]] = {run.id: [] for run in rows}
    for event in (await session.execute(query)).scalars():
        found[str(event.run_id)].append(event)
    return found


def runs_in_context(tenant: str, context_id: str) -> Select[Any]:
    """The ids of the runs in a context (a subquery): the run whose id it is (a task's default
    context), and the tenant's tasks a client gave it to."""
    given = select(A2aTaskRow.id).where(
        A2aTaskRow.tenant == tenant, A2aTaskRow.context_id == context_id
    )
    return select(RunRow.id).where(or_(RunRow.id == context_id, RunRow.id.in_(given)))


def _asks(
    tenant: str, context_id: str | None, updated_after: datetime | None, query: Select[Any]
) -> Select[Any]:
    started = exists().where(RunRow.id == A2aTaskRow.id)
    query = query.where(A2aTaskRow.tenant == tenant, A2aTaskRow.ask.is_not(None), ~started)
    if context_id:
        query = query.where(or_(A2aTaskRow.context_id == context_id, A2aTaskRow.id == context_id))
    if updated_after is not None:
        query = query.where(A2aTaskRow.updated_at >= updated_after)
    return query


async def list_asks(
    session: AsyncSession,
    tenant: str,
    *,
    context_id: str | None,
    updated_after: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[A2aTaskRow]:
    """The tenant's asks that no run has answered yet, last updated first (keyset on
    updated_at, id, like the task list's runs, so both lists merge into one page)."""
    query = _asks(tenant, context_id, updated_after, select(A2aTaskRow))
    if after is not None:
        updated, task_id = after
        query = query.where(
            or_(
                A2aTaskRow.updated_at < updated,
                and_(A2aTaskRow.updated_at == updated, A2aTaskRow.id < task_id),
            )
        )
    query = query.order_by(A2aTaskRow.updated_at.desc(), A2aTaskRow.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def count_asks(
    session: AsyncSession, tenant: str, *, context_id: str | None, updated_after: datetime | None
) -> int:
    """How many asks :func:`list_asks` would list over all pages."""
    query = _asks(tenant, context_id, updated_after, select(func.count()).select_from(A2aTaskRow))
    return int((await session.execute(query)).scalar_one())
