"""The sweep's question (``runs.due``): which runs have something due. It finds each kind of
due run and nothing else, in both modes; on PostgreSQL it reads the deadlines of running runs
through their partial index, so neither hundreds of running runs in time nor finished runs
whose deadlines passed long ago are read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.db.models import RunRow, StepRow
from services.orchestrator import runs
from tests.fixtures.plans import filled_fixtures, plan_of

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PAST, LATER = NOW - timedelta(seconds=5), NOW + timedelta(hours=1)
IN_FLIGHT = 500  # running runs with nothing due: what the sweep must not read one by one
ENDED = 500  # finished runs that had a deadline: it passed, and is nothing to do


def _run(run_id: str, status: str, deadline_at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow_name": "w",
        "definition": {},
        "status": status,
        "created_at": NOW - timedelta(minutes=1),
        "deadline_at": deadline_at,
    }


def _step(run_id: str, due_at: datetime | None) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "step_id": "a",
        "definition_id": "a",
        "capability": "c",
        "status": "scheduled",
        "attempt": 1,
        "due_at": due_at,
    }


async def _fill(conn: AsyncConnection) -> None:
    run_rows = [
        _run("pending", "pending"),
        _run("late", "running", PAST),
        _run("timer", "running"),
        _run("in-time", "running", LATER),
        _run("timer-later", "running"),
        _run("ended-late", "timed_out", PAST),  # finished: its deadline is nothing to do
        *(_run(f"flight-{n:04d}", "running", LATER if n % 2 else None) for n in range(IN_FLIGHT)),
        *(_run(f"ended-{n:04d}", "succeeded", PAST) for n in range(ENDED)),
    ]
    await conn.execute(insert(RunRow), run_rows)
    await conn.execute(insert(StepRow), [_step("timer", PAST), _step("timer-later", LATER)])


db, pg = filled_fixtures(_fill)


async def test_due_finds_timers_past_deadlines_and_unstarted_runs_only(db: AsyncEngine) -> None:
    async with AsyncSession(db) as session:
        assert await runs.due(session, NOW) == {"pending", "late", "timer"}


@pytest.mark.postgres
async def test_due_reads_the_deadlines_of_running_runs_past_due_only(pg: AsyncEngine) -> None:
    async def due(session: AsyncSession) -> None:
        await runs.due(session, NOW)

    # One statement (one round trip), planned as on a large table: by its indexes.
    plan = await plan_of(pg, due, "SET LOCAL enable_seqscan = off")
    assert "ix_runs_running_deadline" in plan, plan
    # No node reads the running runs one by one (the index on status read every one), nor
    # the finished runs past their deadline (a whole index on deadline_at read every one).
    read = [int(n) for n in re.findall(r"actual time=\S+ rows=(\d+)", plan)]
    assert max(read) <= 3, plan
    assert not re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", plan), plan
