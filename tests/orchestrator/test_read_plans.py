"""The reads the service repeats on its main pool (the due-work sweep, orphans, ``/wait``, a
run's history, token lookups), as its connections run them on PostgreSQL after the tables
grew. asyncpg prepares each statement once per connection, and PostgreSQL may keep a plan
made after five executions, on the tables as they were then (``PLAN_SETTINGS``); and with no
``ANALYZE`` since (autovacuum off, or not yet), it has no statistics of the rows added. Each
read must still read the rows it asks for, not the grown tables.

Not here: the run list's first page. Without statistics PostgreSQL takes a tenant for a few
rows, and reads every run of it to sort them, however it plans; with them (autovacuum) it
reads the newest runs through ``ix_runs_tenant_created``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api import run_views
from services.auth import identify, token_hash
from services.db import migrate
from services.db.engine import create_engine, readonly, session_factory
from services.db.models import DEFAULT_TENANT, utcnow
from services.orchestrator import runs
from tests.fixtures.plans import prepared_plan, rows_read, scans

pytestmark = pytest.mark.postgres

GROWN = {"runs", "steps", "api_tokens"} | {f"events_p{utcnow():%Y%m}"}
RUNS = 3_000  # finished runs of 10 steps and 5 events each, and as many issued tokens
MOST_ROWS = 100  # what one of these reads may read of a grown table (a page of the run list)

_SEED = """
INSERT INTO runs (id, workflow_name, definition, status, cancel_requested, created_at,
  updated_at, ledger_seq, ledger_head, version, tenant)
VALUES ('seed', 'w', '{}', 'running', false, now(), now(), 0, '', 1, 'default')
"""
_GROW = [
    """INSERT INTO runs (id, workflow_name, definition, status, cancel_requested, created_at,
      updated_at, ledger_seq, ledger_head, version, tenant)
    SELECT 'r' || g, 'w', '{}', 'succeeded', false, now() - g * interval '1 ms', now(), 0, '',
      1, 'default' FROM generate_series(1, :n) g""",
    """INSERT INTO steps (run_id, step_id, definition_id, capability, status, attempt,
      max_attempts, duplicates, meta, scheduled_at, finished_at)
    SELECT 'r' || g, 's' || k, 's' || k, 'c', 'succeeded', 1, 1, 0, '{}', now(), now()
    FROM generate_series(1, :n) g, generate_series(1, 10) k""",
    """INSERT INTO events (run_id, type, data, created_at)
    SELECT 'r' || g, 'step.succeeded', '{}', now() FROM generate_series(1, :n) g,
      generate_series(1, 5) k""",
    """INSERT INTO api_tokens (name, role, token_hash, created_at, tenant)
    SELECT 't' || g, 'reader', md5(g::text), now(), 'default' FROM generate_series(1, :n) g""",
]


async def _hot_reads(db: AsyncEngine, created_at: datetime) -> None:
    """One of each read, on the service's two kinds of session over ``db``'s pool."""
    readers = session_factory(readonly(db))
    async with readers() as session:
        await runs.due(session, utcnow())
        await runs.orphans(session)
        await runs.history_at_version(session, "seed", 0, run_created_at=created_at)
        await runs.events_of(session, "seed", run_created_at=created_at)
        await identify(session, token_hash("not issued"))
    async with readonly(db).connect() as conn:  # ``/wait`` and the run's view
        await run_views.read_run(conn, "seed", DEFAULT_TENANT)
        await run_views.read_steps(conn, "seed")


async def test_hot_reads_planned_on_small_tables_read_by_key_after_they_grew(
    postgres_url: str,
) -> None:
    await migrate.upgrade_async(postgres_url)
    # The service's engine (``Runtime.open``), one connection: every read below runs on it.
    db = create_engine(postgres_url, pool_size=1, max_overflow=0)
    sent: dict[str, Any] = {}  # each statement, with its latest parameters

    def grab(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent[statement] = params

    try:
        async with db.begin() as conn:
            await conn.execute(text(_SEED))
            created_at = (await conn.execute(text("SELECT now()"))).scalar_one()
        event.listen(db.sync_engine, "before_cursor_execute", grab)
        for _ in range(8):  # past the fifth execution, after which a plan may be kept
            await _hot_reads(db, created_at)
        event.remove(db.sync_engine, "before_cursor_execute", grab)
        async with db.begin() as conn:
            for statement in _GROW:
                await conn.execute(text(statement.replace(":n", str(RUNS))))
        assert len(sent) >= 8, list(sent)
        too_much: dict[str, list[str]] = {}
        async with db.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            for statement, params in sent.items():
                plan = await prepared_plan(driver, statement, params)
                read = [
                    f"{node['Node Type']} on {node.get('Relation Name', node.get('Index Name'))}:"
                    f" {rows_read(node):.0f} rows"
                    for node in scans(plan)
                    # A node not executed (behind a one-time filter that was false) reads
                    # nothing.
                    if node.get("Relation Name") in GROWN
                    and node["Actual Loops"] > 0
                    and (node["Node Type"] == "Seq Scan" or rows_read(node) > MOST_ROWS)
                ]
                if read:
                    too_much[statement] = [*read, json.dumps(plan, indent=1)]
    finally:
        await db.dispose()
    assert too_much == {}, "\n\n".join(
        f"{statement}\n" + "\n".join(found) for statement, found in too_much.items()
    )
