"""The writer's statement, as its connections plan it on PostgreSQL: once per connection, on
tables as they are then (``persist.WRITER_SETTINGS``). A plan made on the empty tables of a new
database is kept while they grow, so it must find runs by their key, not by a scan of them."""

from __future__ import annotations

import asyncpg
import pytest

from services.db import migrate
from services.orchestrator import persist

pytestmark = pytest.mark.postgres


async def test_the_writers_plan_on_a_new_database_reads_runs_by_their_key(
    postgres_url: str,
) -> None:
    await migrate.upgrade_async(postgres_url)
    conn = await asyncpg.connect(
        postgres_url.replace("postgresql+asyncpg://", "postgresql://"),
        server_settings=dict(persist.WRITER_SETTINGS),
    )
    try:
        await conn.execute(
            "PREPARE w(jsonb, jsonb, jsonb, jsonb, jsonb, varchar[], jsonb) AS "
            + persist._write_if_current_sql()
        )
        plan = "\n".join(
            row[0]
            for row in await conn.fetch(
                "EXPLAIN EXECUTE w('[]', '[]', '[]', '[]', '[]', '{}', '[]')"
            )
        )
    finally:
        await conn.close()
    assert "Index Scan using pk_runs on runs" in plan, plan
    assert "Seq Scan" not in plan, plan
