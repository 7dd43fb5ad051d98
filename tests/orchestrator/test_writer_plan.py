"""The writer's statement, as its connections plan it on PostgreSQL: once per connection, on
tables as they are then (``persist.WRITER_SETTINGS``). A plan made on the empty tables of a new
database is kept while they grow, so every table it reads must be read by a key: by an index
condition, not by a sequential scan nor by a whole index read in order (which the first fix of
this plan still did for ``runs``, into a hash join)."""

from __future__ import annotations

import json

import asyncpg
import pytest

from services.db import migrate
from services.orchestrator import persist
from tests.fixtures.plans import scans

pytestmark = pytest.mark.postgres


async def test_the_writers_plan_on_a_new_database_reads_every_table_by_a_key(
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
        found = await conn.fetchval(
            "EXPLAIN (FORMAT JSON) EXECUTE w('[]', '[]', '[]', '[]', '[]', '{}', '[]')"
        )
    finally:
        await conn.close()
    plan = json.loads(found)[0]["Plan"]
    read = [node for node in scans(plan) if node["Node Type"].endswith("Scan")]
    keyless = [
        f"{node['Node Type']} on {node.get('Relation Name', node.get('Index Name'))}"
        for node in read
        if "Index Cond" not in node and "Recheck Cond" not in node
    ]
    assert keyless == [], json.dumps(plan, indent=1)
    assert any(node.get("Index Name") == "pk_runs" for node in read), json.dumps(plan, indent=1)
