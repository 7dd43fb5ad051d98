"""The run list's pages (keyset cursor on created_at, id): every run once, in order, ties on
created_at included; and on PostgreSQL a page deep in the list starts in the index at the
cursor instead of reading every newer run and filtering it out."""

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
from services.db.models import RunRow
from services.orchestrator import runs

START = datetime(2026, 1, 1, tzinfo=UTC)
COUNT = 600


async def _filled(url: str) -> AsyncEngine:
    """The migrated database at ``url`` with COUNT runs, three of them at each instant."""
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    rows = [
        {
            "id": f"run-{n:05d}",
            "workflow_name": "w",
            "definition": {},
            "status": "succeeded",
            "created_at": START + timedelta(seconds=n // 3),
        }
        for n in range(COUNT)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(RunRow), rows)
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE runs"))
    return engine


@pytest.fixture(params=["postgres", "sqlite"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database of each kind, filled."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'runs.db'}"
    engine = await _filled(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL database, filled."""
    engine = await _filled(postgres_url)
    yield engine
    await engine.dispose()


async def test_pages_give_every_run_once_newest_first(db: AsyncEngine) -> None:
    seen: list[str] = []
    cursor = None
    async with AsyncSession(db) as session:
        while True:
            page, cursor = await runs.list_runs(session, runs.RunFilter(), 7, cursor)
            seen.extend(r.id for r in page)
            if cursor is None:
                break
    assert seen == [f"run-{n:05d}" for n in reversed(range(COUNT))]


@pytest.mark.postgres
async def test_a_deep_page_starts_at_the_cursor_in_the_index(pg: AsyncEngine) -> None:
    db = pg
    middle = START + timedelta(seconds=COUNT // 6)
    cursor = runs.cursor_after(middle, "run-00301")  # between two runs of one instant
    statements: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append((statement, params))

    event.listen(db.sync_engine, "before_cursor_execute", grab)
    async with AsyncSession(db) as session:
        page, _ = await runs.list_runs(session, runs.RunFilter(tenant="default"), 5, cursor)
    event.remove(db.sync_engine, "before_cursor_execute", grab)
    assert [r.id for r in page] == ["run-00300", "run-00299", "run-00298", "run-00297", "run-00296"]
    [(statement, params)] = statements
    async with db.connect() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))  # the index path, whatever
        await conn.execute(text("SET LOCAL enable_bitmapscan = off"))  # the table's size
        plan = "\n".join(
            row[0]
            for row in await conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, COSTS OFF) {statement}", params
            )
        )
    removed = sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))
    # Only the cursor's own instant is filtered (its other runs), not the 300 newer runs.
    assert removed <= 3, plan
