"""Which tasks are no longer worth sending: the one check the outbox relay and the HTTP
dispatcher share before a task that waited goes out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bus.envelope import Envelope, Kind
from services.db.models import RunRow, StepRow
from services.orchestrator.states import ACTIVE_STEP, RunState


async def dead_tasks(
    session: AsyncSession, envelopes: list[Envelope], now: datetime
) -> dict[str, str]:
    """Tasks among ``envelopes`` that must not be sent, by envelope id, with the reason: past
    their deadline, of a run no longer running, or of an attempt superseded since (the step
    was sent again, or is no longer in flight)."""
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
    for task in tasks:
        run_status = runs.get(task.run_id or "")
        task_id, step_status = steps.get((task.run_id or "", task.step_id or ""), (None, None))
        if task.deadline is not None and task.deadline <= now:
            dead[task.id] = "past its deadline"
        elif run_status != RunState.RUNNING:
            dead[task.id] = f"its run is {run_status or 'gone'}"
        elif task_id != task.id or step_status not in ACTIVE_STEP:
            dead[task.id] = "superseded: the step was sent again or is no longer in flight"
    return dead
