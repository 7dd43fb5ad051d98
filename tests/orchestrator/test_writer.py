"""The orchestrator's writer: runs kept in memory between transactions, replicas sharing one
database, and new runs refused on a taken idempotency key. On PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bus.tasks import cancel_and_wait
from services.config import Settings
from services.db.models import EventRow, RunRow
from services.ledger.verify import verify
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import parse_definition
from services.orchestrator.sqlite_writer import SqliteWriter
from services.runtime import Runtime
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port

BATCHES = "modx_writer_batches_total"
CHANGES = "modx_writer_changes_total"

# No agent serves this capability: the first step waits, so the run stays running.
WAITING = parse_definition(
    {
        "name": "waits",
        "steps": [
            {"id": "a", "capability": "test.nobody", "input": {}},
            {"id": "b", "capability": "test.nobody", "input": {"x": "$.steps.a.output"}},
        ],
    }
)


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_migrated_url"))
    return f"sqlite+aiosqlite:///{tmp_path}/modx.db"


@pytest.fixture
async def replicas(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """Two orchestrators on one database, each with its own memory of runs."""
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    first = await Runtime.open(settings, orchestrate=False)
    second = await Runtime.open(settings, migrate_db=False, orchestrate=False)
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def test_an_old_copy_of_a_run_never_overwrites_another_replicas_change(
    replicas: tuple[Runtime, Runtime],
) -> None:
    a, b = replicas
    run = await a.orchestrator.create_run(WAITING, {})
    assert run is not None and run.status == "running"
    assert len(a.orchestrator.cache) == 1  # a holds the run as it wrote it

    assert await b.orchestrator.cancel_run(run.id, "cancelled on b")
    # a's copy still says running; acting on it would cancel the run a second time.
    assert not await a.orchestrator.cancel_run(run.id, "cancelled on a")

    async with a.readers() as session:
        stored = await session.get(RunRow, run.id)
        assert stored is not None and stored.status == "cancelled"
        assert stored.error is not None and stored.error["message"] == "cancelled on b"
        cancelled = (
            await session.execute(
                select(EventRow.data).where(
                    EventRow.run_id == run.id, EventRow.type == "run.cancelled"
                )
            )
        ).scalars()
        assert [data["reason"] for data in cancelled] == ["cancelled on b"]
        assert (await verify(session, a.checkpointer.public_key, run.id))["ok"]
    # PostgreSQL finds out when it writes, SQLite when it takes the write lock; both read the
    # run again and apply the change to what is on file.
    assert a.orchestrator.conflicts == 1


async def test_a_taken_idempotency_key_creates_no_second_run(
    replicas: tuple[Runtime, Runtime],
) -> None:
    a, b = replicas
    together = await asyncio.gather(
        *(o.create_run(WAITING, {}, idempotency_key="k-1") for o in (a.orchestrator,) * 3),
        b.orchestrator.create_run(WAITING, {}, idempotency_key="k-1"),
    )
    created = [run for run in together if run is not None]
    assert len(created) == 1
    assert await a.orchestrator.create_run(WAITING, {}, idempotency_key="k-1") is None
    assert await b.orchestrator.create_run(WAITING, {}, idempotency_key="k-2") is not None
    async with a.readers() as session:
        keys = (
            await session.execute(
                select(RunRow.idempotency_key, func.count()).group_by(RunRow.idempotency_key)
            )
        ).all()
        assert sorted(keys) == [("k-1", 1), ("k-2", 1)]
        created_events = (
            await session.execute(
                select(func.count()).select_from(EventRow).where(EventRow.type == "run.created")
            )
        ).scalar_one()
        assert created_events == 2  # a refused run leaves nothing behind


async def test_a_dropped_database_connection_costs_no_change(
    postgres_migrated_url: str, tmp_path: Path
) -> None:
    """The writer's pool does not ping: a connection the database dropped fails one write,
    which goes again on a fresh connection at once (not after a redelivery timeout)."""
    parsed = make_url(postgres_migrated_url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432, free_port())
    await proxy.restore()
    url = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    runtime = await Runtime.open(Settings(database_url=url, data_dir=tmp_path), orchestrate=False)
    try:
        run = await runtime.orchestrator.create_run(WAITING, {})
        assert run is not None
        await proxy.cut()  # every open connection, the writer's included, is dropped
        await proxy.restore()
        assert await runtime.orchestrator.cancel_run(run.id, "after the cut")
        async with runtime.readers() as session:
            stored = await session.get(RunRow, run.id)
            assert stored is not None and stored.status == "cancelled"
    finally:
        await runtime.close()
        await proxy.cut()


async def test_a_batch_statement_goes_to_the_driver_itself(
    postgres_migrated_url: str, tmp_path: Path
) -> None:
    """On PostgreSQL a batch's statement runs on asyncpg, not through SQLAlchemy's execution
    layers (they cost a lone step as much CPU as asyncpg's own work), and writes the same."""
    runtime = await Runtime.open(
        Settings(database_url=postgres_migrated_url, data_dir=tmp_path), orchestrate=False
    )
    writer = runtime.orchestrator.writer
    assert isinstance(writer, AsyncEngine)
    through: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        through.append(statement)

    event.listen(writer.sync_engine, "before_cursor_execute", seen)
    try:
        run = await runtime.orchestrator.create_run(WAITING, {})
        assert run is not None
        assert await runtime.orchestrator.cancel_run(run.id, "done looking")
        async with runtime.readers() as session:
            stored = await session.get(RunRow, run.id)
            assert stored is not None and stored.status == "cancelled"
            assert (await verify(session, runtime.checkpointer.public_key, run.id))["ok"]
        assert not [s for s in through if s.startswith("WITH r AS")]
    finally:
        event.remove(writer.sync_engine, "before_cursor_execute", seen)
        await runtime.close()


async def test_a_change_that_changes_nothing_writes_nothing(
    replicas: tuple[Runtime, Runtime],
) -> None:
    a, _ = replicas
    run = await a.orchestrator.create_run(WAITING, {})
    assert run is not None

    async def stored_version() -> int:
        async with a.readers() as session:
            stored = await session.get(RunRow, run.id)
            assert stored is not None
            return stored.version

    before = await stored_version()

    async def look(ctx: RunContext) -> str:
        return ctx.run.status

    assert await a.orchestrator.in_run(run.id, look) == "running"
    assert await stored_version() == before  # the run just created is held clean


def _counted(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_the_writer_counts_its_batches_and_the_changes_they_apply(
    replicas: tuple[Runtime, Runtime],
) -> None:
    """Changes per batch is how well commits are shared: the figure that tells a replica
    with a third of a lone one's rate (smaller group commits) from one that does more work
    per step (``bench.replicas``)."""
    a, _ = replicas
    batches, changes = _counted(BATCHES), _counted(CHANGES)
    # Queued in one pass of the event loop, before the writer first runs: one batch.
    made = await asyncio.gather(*(a.orchestrator.create_run(WAITING, {}) for _ in range(20)))
    assert all(run is not None and run.status == "running" for run in made)
    assert _counted(BATCHES) - batches == 1
    assert _counted(CHANGES) - changes == 20

    async def look(ctx: RunContext) -> str:
        return ctx.run.status

    assert made[0] is not None
    assert await a.orchestrator.in_run(made[0].id, look) == "running"
    assert _counted(BATCHES) - batches == 2
    assert _counted(CHANGES) - changes == 21


async def test_the_writer_applies_at_most_its_max_batch_in_one_transaction(
    database_url: str, tmp_path: Path
) -> None:
    """``MODX_WRITER_MAX_BATCH``: changes queued together beyond it go in the next batches
    (``bench.replicas`` gives a lone replica the batches three replicas make)."""
    settings = Settings(database_url=database_url, data_dir=tmp_path, writer_max_batch=2)
    runtime = await Runtime.open(settings, orchestrate=False)
    try:
        batches, changes = _counted(BATCHES), _counted(CHANGES)
        made = await asyncio.gather(
            *(runtime.orchestrator.create_run(WAITING, {}) for _ in range(5))
        )
        assert all(run is not None and run.status == "running" for run in made)
        assert _counted(BATCHES) - batches == 3  # 2 + 2 + 1
        assert _counted(CHANGES) - changes == 5
    finally:
        await runtime.close()


async def test_a_batch_cancelled_while_it_waits_for_sqlites_lock_gives_the_lock_back(
    tmp_path: Path,
) -> None:
    """A stop cancels the writer; a batch whose BEGIN IMMEDIATE was still waiting for the lock
    on the writer's thread took it after the cancel and kept it (with the transaction open)
    until the writer closed: every other write of the stop (the replica lease, the ledger
    checkpoint) waited out the stop's deadline behind it."""
    url = f"sqlite+aiosqlite:///{tmp_path}/modx.db"
    runtime = await Runtime.open(Settings(database_url=url, data_dir=tmp_path), orchestrate=False)
    writer = runtime.orchestrator.writer
    assert isinstance(writer, SqliteWriter)
    other = sqlite3.connect(tmp_path / "modx.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, held by another connection
        creating = asyncio.create_task(runtime.orchestrator.create_run(WAITING, {}))
        batches = runtime.orchestrator._writer
        while batches is None:  # the writer starts with the first job
            await asyncio.sleep(0.01)
            batches = runtime.orchestrator._writer
        await asyncio.sleep(0.2)  # its BEGIN IMMEDIATE waits on the writer's thread
        await cancel_and_wait([batches])
        await asyncio.gather(creating, return_exceptions=True)
        other.execute("ROLLBACK")  # the lock is free: the writer's BEGIN takes it now
        # Queued on the writer's one thread behind the BEGIN (and the rollback, if any).
        assert not await writer.run(_sqlite_in_transaction)
    finally:
        other.close()
        await runtime.close()


def _sqlite_in_transaction(conn: Connection) -> bool:
    """Whether SQLite itself has a transaction open on ``conn`` (not SQLAlchemy's view)."""
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, sqlite3.Connection)
    return dbapi.in_transaction
