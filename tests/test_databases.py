"""The tests' databases (tests/fixtures/databases.py): each PostgreSQL test gets one of its own,
empty or at Alembic's head without rows, and a used one is dropped; an embedded MODX's data
dir can be seeded with a SQLite file at head without rows."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from services.db.engine import create_engine
from services.db.migrate import alembic_config
from tests.fixtures.databases import Databases, database_url, seed_sqlite

pytestmark = pytest.mark.postgres
ONLY_HERE = "SELECT 1 FROM pg_tables WHERE tablename = 'only_here'"


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _fetch(url: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        return list(await conn.fetch(query))
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    rows = await _fetch(
        database_url("postgres"), f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
    )
    return bool(rows)


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


async def test_a_migrated_database_is_at_head_without_rows(postgres_migrated_url: str) -> None:
    version = await _fetch(postgres_migrated_url, "SELECT version_num FROM alembic_version")
    assert [row[0] for row in version] == [_head(postgres_migrated_url)]
    assert (await _fetch(postgres_migrated_url, "SELECT count(*) FROM runs"))[0][0] == 0


async def test_an_empty_database_has_no_tables(postgres_url: str) -> None:
    tables = await _fetch(
        postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    assert tables == []


async def test_each_take_is_a_database_of_its_own_and_a_dropped_one_goes() -> None:
    worker = concurrent.futures.ThreadPoolExecutor(1)
    databases = Databases(worker, migrated=True)
    try:
        first, second = (
            await asyncio.to_thread(databases.take),
            await asyncio.to_thread(databases.take),
        )
        assert first != second
        await _fetch(database_url(first), "CREATE TABLE only_here (x int)")
        third = await asyncio.to_thread(databases.take)
        for name in (second, third):  # copies of the template, not of the first
            assert await _fetch(database_url(name), ONLY_HERE) == []
        assert await _fetch(database_url(first), ONLY_HERE) != []
        for name in (first, second, third):
            databases.drop_later(name)
    finally:
        databases.close()
        await asyncio.to_thread(worker.shutdown, True)
    for name in (first, second, third):
        assert not await _exists(name)


async def test_a_seeded_data_dir_holds_a_migrated_database_without_rows(tmp_path: Path) -> None:
    seed_sqlite(tmp_path / "modx")
    url = f"sqlite+aiosqlite:///{tmp_path / 'modx' / 'modx.db'}"
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            runs = (await conn.execute(text("SELECT count(*) FROM runs"))).scalar_one()
    finally:
        await engine.dispose()
    assert [row[0] for row in version] == [_head(url)]
    assert runs == 0
