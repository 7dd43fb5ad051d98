"""Alembic migrations up and down on an empty PostgreSQL database and an empty SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from services.db import migrate
from services.db.engine import create_engine
from services.db.migrate import include_name
from services.db.models import Base
from tests.fixtures.sqlite import open_connections

TABLES = {
    "agents",
    "capabilities",
    "workflow_definitions",
    "runs",
    "steps",
    "events",
    "outbox",
    "ledger_entries",
}


async def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return list(
                await conn.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"include_name": include_name}),
                        Base.metadata,
                    )
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def _roundtrip(url: str) -> None:
    migrate.upgrade(url)
    tables = asyncio.run(_tables(url))
    assert tables >= TABLES
    assert set(Base.metadata.tables) <= tables  # the migration creates every model's table
    # ...with the models' columns, types and indexes (0001 is edited by hand until a release).
    assert asyncio.run(_differences(url)) == []
    migrate.downgrade(url)
    assert asyncio.run(_tables(url)) <= {"alembic_version"}
    migrate.upgrade(url)  # and back up again
    assert asyncio.run(_tables(url)) >= TABLES


def test_sqlite_upgrade_and_downgrade(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_and_downgrade(postgres_url: str) -> None:
    _roundtrip(postgres_url)


def test_a_failed_sqlite_migration_leaves_no_connection_open(tmp_path: Path) -> None:
    """The migration's engine is disposed when a migration fails, too: its pooled connection
    was left open, and its worker thread stopped only when a later test collected it."""
    path = tmp_path / "taken.db"
    taken = sqlite3.connect(path)
    taken.execute("CREATE TABLE runs (id INTEGER)")  # the first migration creates it
    taken.close()
    with pytest.raises(OperationalError, match="already exists"):
        migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    assert open_connections(path) == []
