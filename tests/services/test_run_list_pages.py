"""The run list's pages (keyset cursor on created_at, id): every run once, in order, ties on
created_at included; and on PostgreSQL a page deep in the list starts in the index at the
cursor instead of reading every newer run and filtering it out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.db.models import RunRow
from services.orchestrator import runs
from tests.fixtures.plans import filled_fixtures, plan_of

START = datetime(2026, 1, 1, tzinfo=UTC)
COUNT = 600


async def _fill(conn: AsyncConnection) -> None:
    """COUNT runs, three of them at each instant."""
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
    await conn.execute(insert(RunRow), rows)


db, pg = filled_fixtures(_fill)


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
    page: list[Any] = []

    async def list_page(session: AsyncSession) -> None:
        found, _ = await runs.list_runs(session, runs.RunFilter(tenant="default"), 5, cursor)
        page.extend(found)

    plan = await plan_of(
        db,
        list_page,
        "SET LOCAL enable_seqscan = off",  # the index path, whatever
        "SET LOCAL enable_bitmapscan = off",  # the table's size
    )
    assert [r.id for r in page] == ["run-00300", "run-00299", "run-00298", "run-00297", "run-00296"]
    removed = sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))
    # Only the cursor's own instant is filtered (its other runs), not the 300 newer runs.
    assert removed <= 3, plan
