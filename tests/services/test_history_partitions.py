"""The history tables partitioned by month (PostgreSQL): the migration from the unpartitioned
schema keeps every row and the ledger chain, rows land in their month's partition (or the
default one), and the service makes the months ahead. SQLite keeps one table, same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.db import migrate, partitions
from services.db.engine import create_engine
from services.db.models import EventRow, LedgerEntryRow, RunRow
from services.ledger import format as fmt
from services.ledger.verify import verify
from services.orchestrator import runs

BEFORE = "0005_subworkflows"
NOW = datetime.now(UTC)
# Far past, two months ago, now, far future: each in a month of its own.
TIMES = [
    datetime(1999, 3, 10, 12, tzinfo=UTC),
    NOW - timedelta(days=62),
    NOW,
    datetime(2150, 1, 2, tzinfo=UTC),
]


@pytest.fixture(params=["postgres", "sqlite"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each kind."""
    if request.param == "postgres":
        yield request.getfixturevalue("postgres_url")
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'history.db'}"


async def _fill(db: AsyncEngine, key: Ed25519PrivateKey) -> None:
    """A running run with a signed chain of four entries, one per time, and 40 events."""
    entries, head = [], ""
    for seq, at in enumerate(TIMES, start=1):
        data = {"step_id": f"s{seq}", "attempt": 1, "output": seq}
        digest = fmt.chain_hash(head, "run-1", seq, "step.succeeded", data)
        entries.append(
            {
                "run_id": "run-1",
                "seq": seq,
                "kind": "step.succeeded",
                "data": data,
                "prev_hash": head,
                "hash": digest,
                "signature": fmt.sign_entry(key, digest),
                "created_at": at,
            }
        )
        head = digest
    run = {
        "id": "run-1",
        "workflow_name": "w",
        "definition": {},
        "status": "running",
        "created_at": TIMES[0],
        "ledger_seq": len(entries),
        "ledger_head": head,
    }
    events = [
        {"run_id": "run-1", "type": "step.changed", "data": {"i": i}, "created_at": TIMES[i % 4]}
        for i in range(40)
    ]
    async with db.begin() as conn:
        await conn.execute(insert(RunRow), [run])
        await conn.execute(insert(LedgerEntryRow), entries)
        await conn.execute(insert(EventRow), events)


async def _rows(db: AsyncEngine, table: Any) -> list[tuple[Any, ...]]:
    async with db.connect() as conn:
        query = select(table.c.id, table.c.created_at, table.c.data).order_by(table.c.id)
        return [tuple(row) for row in await conn.execute(query)]


async def _homes(db: AsyncEngine, table: str) -> dict[int, str]:
    """Row id -> the partition that holds it."""
    async with db.connect() as conn:
        rows = await conn.execute(text(f"SELECT id, tableoid::regclass::text FROM {table}"))
        return dict(rows.tuples().all())


async def _verify(db: AsyncEngine, key: Ed25519PrivateKey) -> dict[str, Any]:
    async with AsyncSession(db) as session:
        return await verify(session, key.public_key())


async def test_migration_keeps_rows_and_chain(url: str) -> None:
    await migrate.upgrade_async(url, BEFORE)
    db = create_engine(url)
    key = Ed25519PrivateKey.generate()
    try:
        await _fill(db, key)
        before = {t: await _rows(db, t) for t in (EventRow.__table__, LedgerEntryRow.__table__)}
        await migrate.upgrade_async(url)
        for table, rows in before.items():
            assert await _rows(db, table) == rows  # same ids, times and data
        report = await _verify(db, key)
        assert report["ok"], report["problems"]
        assert report["entries"] == len(TIMES)
        async with db.begin() as conn:
            new_id = (
                await conn.execute(
                    insert(EventRow).returning(EventRow.id),
                    [{"run_id": "run-1", "type": "x", "data": {}, "created_at": NOW}],
                )
            ).scalar_one()
            uniques = await conn.run_sync(
                lambda sync: inspect(sync).get_unique_constraints("ledger_entries")
            )
        assert new_id > max(row[0] for row in before[EventRow.__table__])  # the same sequence
        assert [u["column_names"] for u in uniques] == [["run_id", "seq", "created_at"]]
        if db.dialect.name != "postgresql":
            return
        month = partitions.month_name
        for name in partitions.TABLES:
            homes = await _homes(db, name)
            expected = {month(name, partitions.month_start(at)) for at in TIMES}
            assert set(homes.values()) == expected  # one partition per month with rows
            async with db.connect() as conn:
                found = await conn.run_sync(partitions.partitions, name)
            made = {p.name for p in found}
            assert f"{name}_default" in made
            ahead = partitions.add_months(partitions.month_start(NOW), partitions.MONTHS_AHEAD)
            assert month(name, ahead) in made
        # And back: plain tables with the same rows.
        await migrate.downgrade_async(url, BEFORE)
        events = before[EventRow.__table__]
        assert (await _rows(db, EventRow.__table__))[: len(events)] == events
        async with db.connect() as conn:
            partitioned = await conn.run_sync(lambda sync: partitions.partitioned(sync, "events"))
        assert not partitioned
        assert (await _rows(db, LedgerEntryRow.__table__)) == before[LedgerEntryRow.__table__]
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_rows_land_in_their_month_or_the_default(postgres_url: str) -> None:
    await migrate.upgrade_async(postgres_url)
    db = create_engine(postgres_url)
    try:
        times = {
            "far past": datetime(1900, 5, 3, tzinfo=UTC),
            "now": NOW,
            "next month": partitions.add_months(partitions.month_start(NOW), 1) + timedelta(days=3),
            "far future": datetime(2300, 1, 1, tzinfo=UTC),
        }
        async with db.begin() as conn:
            ids = {
                name: (
                    await conn.execute(
                        insert(EventRow).returning(EventRow.id),
                        [{"run_id": "r", "type": "x", "data": {}, "created_at": at}],
                    )
                ).scalar_one()
                for name, at in times.items()
            }
        homes = await _homes(db, "events")
        assert homes[ids["far past"]] == "events_default"
        assert homes[ids["far future"]] == "events_default"
        assert homes[ids["now"]] == partitions.month_name("events", partitions.month_start(NOW))
        assert homes[ids["next month"]] == partitions.month_name(
            "events", partitions.month_start(times["next month"])
        )
        # A month made later takes its rows over from the default partition.
        async with db.begin() as conn:
            made = await conn.run_sync(
                lambda sync: partitions.create_month(
                    sync, "events", datetime(1900, 5, 1, tzinfo=UTC)
                )
            )
        assert made == "events_p190005"
        homes = await _homes(db, "events")
        assert homes[ids["far past"]] == "events_p190005"
        assert homes[ids["far future"]] == "events_default"
        async with db.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(EventRow))).scalar() == 4
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_the_keeper_makes_the_months_ahead(postgres_url: str) -> None:
    await migrate.upgrade_async(postgres_url)
    db = create_engine(postgres_url)
    last = partitions.add_months(partitions.month_start(NOW), partitions.MONTHS_AHEAD)
    try:
        async with db.begin() as conn:
            for table in partitions.TABLES:
                await conn.execute(text(f"DROP TABLE {partitions.month_name(table, last)}"))
        keeper = partitions.PartitionKeeper(db)
        made = await keeper.keep()
        assert sorted(made) == sorted(partitions.month_name(t, last) for t in partitions.TABLES)
        assert await keeper.keep() == []
        async with db.begin() as conn:
            row = {"run_id": "r", "type": "x", "data": {}, "created_at": last + timedelta(days=1)}
            await conn.execute(insert(EventRow), [row])
        assert set((await _homes(db, "events")).values()) == {partitions.month_name("events", last)}
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_runs_events_are_read_from_its_months_only(postgres_url: str) -> None:
    """The events of a run are read with a lower bound on created_at (the run's creation less
    a day of clock slack), so PostgreSQL plans no partition of the months before the run's."""
    await migrate.upgrade_async(postgres_url)
    db = create_engine(postgres_url)
    created = partitions.month_start(NOW - timedelta(days=62)) + timedelta(days=1, hours=2)
    earlier = [partitions.add_months(partitions.month_start(created), -n) for n in (1, 2)]
    try:
        async with db.begin() as conn:
            for month in (*earlier, partitions.month_start(created)):
                await conn.run_sync(partitions.create_month, "events", month)
            await conn.execute(
                insert(RunRow),
                [{"id": "r", "workflow_name": "w", "definition": {}, "status": "running",
                  "created_at": created}],
            )  # fmt: skip
            await conn.execute(
                insert(EventRow),
                [
                    # another replica's clock, a few hours behind the one that made the run
                    {"run_id": "r", "type": "a", "data": {}, "created_at": created - timedelta(hours=3)},
                    {"run_id": "r", "type": "b", "data": {}, "created_at": created},
                    {"run_id": "r", "type": "c", "data": {}, "created_at": NOW},
                    {"run_id": "other", "type": "x", "data": {}, "created_at": earlier[1]},
                ],
            )  # fmt: skip
        statements: list[tuple[str, Any]] = []

        def grab(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            statements.append((statement, params))

        event.listen(db.sync_engine, "before_cursor_execute", grab)
        async with AsyncSession(db) as session:
            found = await runs.events_of(session, "r", run_created_at=created)
            assert [e.type for e in found] == ["a", "b", "c"]
            assert await runs.last_event_id(session, "r", created) == found[-1].id
        event.remove(db.sync_engine, "before_cursor_execute", grab)
        for statement, params in statements:
            async with db.connect() as conn:
                plan = "\n".join(
                    row[0] for row in await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
                )
            assert partitions.month_name("events", partitions.month_start(created)) in plan
            for month in earlier:
                assert partitions.month_name("events", month) not in plan
    finally:
        await db.dispose()
