"""Which tasks are no longer worth sending: the one check the outbox relay and the HTTP
dispatcher share before a task that waited goes out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bus.envelope import Envelope, Kind
from services.db.models import RunRow, StepRow
from services.orchestrator.in_flight import RESUMED
from services.orchestrator.states import ACTIVE_STEP, RunState

SUPERSEDED = "superseded: the step was sent again or is no longer in flight"
RESUMED_ELSEWHERE = "superseded: the task sent again follows the same remote work"
"""The reason of a task ``in_flight.RESUMED``: its delivery stops, the peer's work goes on."""


async def dead_tasks(
    session: AsyncSession, envelopes: list[Envelope], now: datetime
) -> dict[str, str]:
    """Tasks among ``envelopes`` that must not be sent, by envelope id, with the reason: past
    their deadline, of a run no longer running, or of an attempt superseded since (the step
    was sent again, or is no longer in flight; :data:`RESUMED_ELSEWHERE` when the task sent
    again follows the same remote work)."""
    tasks = [e for e in envelopes if e.kind is Kind.TASK and e.run_id and e.step_id]
    if not tasks:
        return {}
    run_ids = list({e.run_id for e in tasks if e.run_id})
    runs = dict(
        (await session.execute(select(RunRow.id, RunRow.status).where(RunRow.id.in_(run_ids))))
        .tuples()
        .all()
    )
    steps = {
        (run_id, step_id): (task_id, status)
        for run_id, step_id, task_id, status in (
            await session.execute(
                select(StepRow.run_id, StepRow.step_id, StepRow.task_id, StepRow.status).where(
                    StepRow.run_id.in_(run_ids)
                )
            )
        ).tuples()
    }
    dead: dict[str, str] = {}
    sent_again: list[Envelope] = []
    for task in tasks:
        run_status = runs.get(task.run_id or "")
        task_id, step_status = steps.get((task.run_id or "", task.step_id or ""), (None, None))
        if task.deadline is not None and task.deadline <= now:
            dead[task.id] = "past its deadline"
        elif run_status != RunState.RUNNING:
            dead[task.id] = f"its run is {run_status or 'gone'}"
        elif task_id != task.id or step_status not in ACTIVE_STEP:
            dead[task.id] = SUPERSEDED
            if step_status in ACTIVE_STEP:
                sent_again.append(task)
    for task_id in await _resumed(session, sent_again):
        dead[task_id] = RESUMED_ELSEWHERE
    return dead


async def _resumed(session: AsyncSession, tasks: list[Envelope]) -> set[str]:
    """Those of ``tasks`` (superseded while their step is active) whose remote work the
    step's current task follows; the steps' ``meta`` is read only for these (few)."""
    if not tasks:
        return set()
    rows = await session.execute(
        select(StepRow.run_id, StepRow.step_id, StepRow.meta).where(
            StepRow.run_id.in_({t.run_id for t in tasks}),
            StepRow.step_id.in_({t.step_id for t in tasks}),
        )
    )
    resumed = {(r, s): set((meta or {}).get(RESUMED, ())) for r, s, meta in rows.tuples()}
    return {t.id for t in tasks if t.id in resumed.get((t.run_id or "", t.step_id or ""), ())}
