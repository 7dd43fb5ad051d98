"""The sweep's question (``runs.due``): which runs have something due. It finds each kind of
due run and nothing else, in both modes; on PostgreSQL it reads the deadlines of running runs
through their partial index, so neither hundreds of running runs in time nor finished runs
whose deadlines passed long ago are read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.db import migrate
from services.db.engine import create_engine
from services.db.models import RunRow, StepRow
from services.orchestrator import runs

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


async def _filled(url: str) -> AsyncEngine:
    await migrate.upgrade_async(url)
    engine = create_engine(url)
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
    async with engine.begin() as conn:
        await conn.execute(insert(RunRow), run_rows)
        await conn.execute(insert(StepRow), [_step("timer", PAST), _step("timer-later", LATER)])
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE runs"))
            await conn.execute(text("ANALYZE steps"))
    return engine


@pytest.fixture(params=["postgres", "sqlite"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'due.db'}"
    engine = await _filled(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await _filled(postgres_url)
    yield engine
    await engine.dispose()


async def test_due_finds_timers_past_deadlines_and_unstarted_runs_only(db: AsyncEngine) -> None:
    async with AsyncSession(db) as session:
        assert await runs.due(session, NOW) == {"pending", "late", "timer"}


@pytest.mark.postgres
async def test_due_reads_the_deadlines_of_running_runs_past_due_only(pg: AsyncEngine) -> None:
    db = pg
    statements: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    event.listen(db.sync_engine, "before_cursor_execute", grab)
    async with AsyncSession(db) as session:
        await runs.due(session, NOW)
    event.remove(db.sync_engine, "before_cursor_execute", grab)
    [(statement, params)] = statements  # one statement: one round trip
    async with db.connect() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))  # the index paths, whatever
        plan = "\n".join(
            row[0]
            for row in await conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, COSTS OFF) {statement}", params
            )
        )
    assert "ix_runs_running_deadline" in plan, plan
    # No node reads the running runs one by one (the index on status read every one), nor
    # the finished runs past their deadline (a whole index on deadline_at read every one).
    read = [int(n) for n in re.findall(r"actual time=\S+ rows=(\d+)", plan)]
    assert max(read) <= 3, plan
    assert not re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", plan), plan
