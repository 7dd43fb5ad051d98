"""Everything the run page shows about one run, loaded in a few queries by key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.dashboard import charts, dag, proof, queries, trace
from services.db.models import RunRow, StepRow, utcnow
from services.orchestrator import runs
from services.orchestrator.states import TERMINAL_RUN, RunState

MAX_EVENTS = 10_000


@dataclass
class RunDetail:
    """A run with its steps, drawn DAG and timeline, message trace, errors and proof."""

    run: RunRow
    steps: list[StepRow]
    graph: dag.Dag
    timeline: charts.Gantt
    attempts: list[trace.Attempt]
    messages: list[trace.Message]
    errors: list[trace.ErrorEntry]
    legal: proof.LegalResult | None
    names: dict[str, str]
    last_event: int
    truncated: bool
    now: datetime
    progress: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Step id -> its holder's last ``step.progress`` (``message``, ``data``)."""

    @property
    def terminal(self) -> bool:
        """The run has ended."""
        return self.run.status in TERMINAL_RUN

    @property
    def can_cancel(self) -> bool:
        """Cancel applies to runs that have not ended."""
        return not self.terminal

    @property
    def can_retry(self) -> bool:
        """Retry-from-failed-step applies to runs that ended without success."""
        return self.run.status in (RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT)

    def name(self, agent_id: str | None) -> str:
        """An agent's name (or the orchestrator, or the short id of a forgotten agent)."""
        if agent_id is None:
            return "—"
        if agent_id == "orchestrator":
            return agent_id
        return self.names.get(agent_id, agent_id[-8:])


def step_states(steps: list[StepRow]) -> dict[str, str]:
    """Step id -> status."""
    return {s.step_id: s.status for s in steps}


async def load(session: AsyncSession, run_id: str) -> RunDetail | None:
    """The run page's data, or None when the run does not exist."""
    run = await runs.get_run(session, run_id)
    if run is None:
        return None
    steps = list(await runs.steps_of(session, run_id))
    events = list(
        await runs.events_of(session, run_id, limit=MAX_EVENTS, run_created_at=run.created_at)
    )
    now = utcnow()
    attempts = trace.attempts(events)
    messages = trace.messages(events)
    ids = {s.agent_id for s in steps if s.agent_id} | {
        x for m in messages for x in (m.sender, m.recipient) if x
    }
    names = await queries.agent_names(session, sorted(ids))
    start = run.created_at
    end = run.finished_at or now
    ends = [a.ended_at for a in attempts if a.ended_at is not None]
    if ends:
        end = max(end, *ends)
    return RunDetail(
        run=run,
        steps=steps,
        graph=dag.layout(run.definition or {}, steps),
        timeline=charts.gantt(attempts, step_states(steps), start, end),
        attempts=attempts,
        messages=messages,
        errors=trace.errors(run.error, run.status, run.finished_at, attempts, steps),
        legal=proof.legal_result(run.output, steps),
        names=names,
        last_event=events[-1].id if events else 0,
        truncated=len(events) >= MAX_EVENTS,
        now=now,
        progress={e.step_id: e.data for e in events if e.type == "step.progress" and e.step_id},
    )


async def snapshot(session: AsyncSession, run_id: str) -> dict[str, Any] | None:
    """What live updates of the run page carry: status, steps, and the latest event id."""
    run = await runs.get_run(session, run_id)
    if run is None:
        return None
    steps = list(await runs.steps_of(session, run_id))
    nodes: dict[str, dict[str, Any]] = {}
    for step in steps:
        nodes[step.step_id] = {
            "status": step.status,
            "attempt": step.attempt,
            "max_attempts": step.max_attempts,
            "definition_id": step.definition_id,
            "item": step.item_index,
            "agent": step.agent_id,
        }
    # No running clock here: a snapshot must only change when the run does.
    duration = queries.run_duration(run) if run.finished_at else None
    return {
        "id": run.id,
        "status": run.status,
        "terminal": run.status in TERMINAL_RUN,
        "can_cancel": run.status not in TERMINAL_RUN,
        "can_retry": run.status in (RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT),
        "duration_s": None if duration is None else round(duration.total_seconds(), 3),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "steps": nodes,
        "last_event": await runs.last_event_id(session, run_id, run.created_at),
    }
