"""Run ownership: live replicas split the partitions between them, and take over a replica's
partitions when it leaves or its lease runs out. On PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus._consumer import BaseSubscription
from bus.envelope import Envelope, Kind
from services.config import Settings
from services.orchestrator.definitions import parse_definition
from services.orchestrator.ownership import Ownership, PartitionMismatch, partition_of
from services.runtime import Runtime
from tests.fixtures.services import wait_until
from tests.fixtures.sqlite import open_connections

ALL = frozenset(range(12))
# No agent serves this capability: a run stays running on its first step.
WAITING = parse_definition(
    {"name": "waits", "steps": [{"id": "a", "capability": "test.nobody", "input": {}}]}
)


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_migrated_url"))
    return f"sqlite+aiosqlite:///{tmp_path}/modx.db"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    runtime = await Runtime.open(settings, orchestrate=False)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
def sessions(runtime: Runtime) -> async_sessionmaker[AsyncSession]:
    return runtime.sessions


def _replicas(
    sessions: async_sessionmaker[AsyncSession], *names: str, lease_s: float = 60.0
) -> list[Ownership]:
    return [Ownership(sessions, name, partitions=12, lease_s=lease_s) for name in names]


def test_a_run_keeps_its_partition_and_runs_spread_over_all() -> None:
    ids = [f"run-{i}" for i in range(1200)]
    assert [partition_of(i, 12) for i in ids] == [partition_of(i, 12) for i in ids]
    counts = [sum(partition_of(i, 12) == p for i in ids) for p in range(12)]
    assert min(counts) > 50, counts  # about 100 each


async def test_live_replicas_share_the_partitions_out_evenly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    replicas = _replicas(sessions, "b", "a", "c")
    for replica in replicas:
        await replica.renew()
    for replica in replicas:  # each has now seen all three
        await replica.renew()
    owned = [replica.mine for replica in replicas]
    assert [len(mine) for mine in owned] == [4, 4, 4]
    assert frozenset().union(*owned) == ALL
    assert replicas[0].members == ("a", "b", "c")
    run_id = "0192d9b2-7a3c-7d2e-9f00-0123456789ab"
    assert [replica.owns(run_id) for replica in replicas].count(True) == 1


async def test_a_replica_that_leaves_hands_its_partitions_over_at_the_next_renewal(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    a, b = _replicas(sessions, "a", "b")
    await a.renew()
    await b.renew()
    await a.renew()
    assert a.mine == frozenset(range(0, 12, 2)) and b.mine == frozenset(range(1, 12, 2))
    await b.leave()
    assert b.mine == frozenset() and not b.owns("any run")
    assert await a.renew() is True
    assert a.mine == ALL and a.members == ("a",)


async def test_a_dead_replicas_partitions_are_taken_once_its_lease_runs_out(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    survivor, dead = _replicas(sessions, "a", "b")
    await dead.renew()
    await survivor.renew()
    assert len(survivor.mine) == 6
    # Only now does "b" take a short lease: with both at 0.5 s, a slow machine (CI, SQLite)
    # let b's lease run out between the two renewals above.
    dead.lease_s = 0.5
    await dead.renew()  # "b" renews no more from here on

    async def took_over() -> bool:
        await survivor.renew()
        return survivor.mine == ALL

    await wait_until(took_over, timeout=30)
    assert survivor.members == ("a",)


async def test_replicas_that_split_runs_differently_refuse_to_run_together(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await Ownership(sessions, "a", partitions=12).renew()
    other = Ownership(sessions, "b", partitions=8)
    with pytest.raises(PartitionMismatch, match="MODX_RESULT_PARTITIONS"):
        await other.renew()


async def test_a_replica_refused_at_its_start_leaves_nothing_open(tmp_path: Path) -> None:
    """A start refused (another split of the runs) closes what ``Runtime.open`` opened. Its
    SQLite connections stayed open before, each with a worker thread, until collected."""
    path = tmp_path / "modx.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", data_dir=tmp_path)
    first = await Runtime.open(settings, orchestrate=False)
    try:  # a live replica that splits runs into 8
        await Ownership(first.sessions, "other", partitions=8, lease_s=3600).renew()
    finally:
        await first.close()
    assert open_connections(path) == []
    with pytest.raises(PartitionMismatch, match="MODX_RESULT_PARTITIONS"):
        await Runtime.open(settings)
    assert open_connections(path) == []
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def _one_of_three(runtime: Runtime) -> Ownership:
    """The runtime's replica, sharing the partitions with two others: it owns 4 of 12."""
    ownership = runtime.orchestrator.ownership
    others = _replicas(runtime.sessions, *(f"{ownership.replica_id}-{i}" for i in range(2)))
    for replica in [ownership, *others, ownership]:
        await replica.renew()
    assert len(ownership.mine) == 4
    return ownership


async def test_a_result_of_a_run_owned_elsewhere_is_forwarded_to_its_partition(
    runtime: Runtime,
) -> None:
    orchestrator = runtime.orchestrator
    ownership = await _one_of_three(runtime)
    run_id = next(f"run-{i}" for i in range(100) if not ownership.owns(f"run-{i}"))
    envelope = Envelope(kind=Kind.RESULT, topic="x", sender="agent", run_id=run_id)
    replies = await orchestrator.on_intake(envelope)
    assert replies == [(streams.result_partition(ownership.partition(run_id)), envelope)]
    assert orchestrator.forwarded == 1


async def test_a_replica_reads_the_partition_streams_it_owns_and_no_others(
    runtime: Runtime,
) -> None:
    orchestrator = runtime.orchestrator
    ownership = orchestrator.ownership
    await ownership.renew()
    await orchestrator._follow_partitions()
    assert set(orchestrator._partitions) == set(ALL)
    [other] = _replicas(runtime.sessions, f"{ownership.replica_id}-other")
    await other.renew()
    await ownership.renew()
    await orchestrator._follow_partitions()
    assert set(orchestrator._partitions) == set(ownership.mine) and len(ownership.mine) == 6
    await other.leave()
    await ownership.renew()
    await orchestrator._follow_partitions()
    assert set(orchestrator._partitions) == set(ALL)


async def test_a_run_made_on_a_replica_is_owned_by_it(runtime: Runtime) -> None:
    """So its first answer finds it in the owner's memory, not only in the database."""
    orchestrator = runtime.orchestrator
    ownership = await _one_of_three(runtime)
    made = [await orchestrator.create_run(WAITING, {}) for _ in range(20)]
    assert all(run is not None and ownership.owns(run.id) for run in made)
    assert all(run is not None and orchestrator.cache.peek(run.id) for run in made)
    # A child keeps the id its parent chose for it, wherever that falls.
    elsewhere = next(f"run-{i}" for i in range(100) if not ownership.owns(f"run-{i}"))
    child = await orchestrator.create_run(WAITING, {}, run_id=elsewhere)
    assert child is not None and child.id == elsewhere


async def test_an_idle_replicas_reads_of_its_streams_wait_long(runtime: Runtime) -> None:
    """Each read loop of an idle replica wakes once per 5 s, not every second."""
    orchestrator = runtime.orchestrator
    await orchestrator._follow_partitions()
    assert orchestrator._partitions
    for subscription in orchestrator._partitions.values():
        assert isinstance(subscription, BaseSubscription)
        assert subscription.options.block_ms >= 5000


async def test_a_stopping_replica_stops_its_stream_readers_together(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Redis unreachable, each reader's stop waits out its own I/O bound (10 s): one
    after the other, a dozen partitions held a shutdown for minutes."""
    orchestrator = runtime.orchestrator
    await orchestrator._follow_partitions()
    readers = list(orchestrator._partitions.values())
    stopping = most = 0

    for reader in readers:

        async def counted(drain: bool = True, stop: Any = reader.stop) -> None:
            nonlocal stopping, most
            stopping += 1
            most = max(most, stopping)
            await asyncio.sleep(0)  # the others start meanwhile, if they are stopped together
            try:
                await stop(drain)
            finally:
                stopping -= 1

        monkeypatch.setattr(reader, "stop", counted)
    await orchestrator.stop()
    assert most == len(readers) == len(ALL)
    assert not orchestrator._partitions


async def test_a_replica_cut_from_the_bus_lets_its_lease_run_out_and_joins_again_after(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Its renewal loop asks the bus first: a replica that cannot read its partitions' answers
    (cut from Redis alone, the database still in reach) renewed its lease regardless, and the
    others never took its runs over. A bus that does not answer at all counts as a no."""
    survivor, cut = _replicas(sessions, "a", "b")
    cut.lease_s = 0.6
    bus_up = asyncio.Event()
    bus_up.set()

    async def answers() -> bool:
        if bus_up.is_set():
            return True
        await asyncio.Event().wait()  # a silent link: the ping never returns
        return False

    async def nothing() -> None:
        return None

    loop = asyncio.create_task(cut.run(nothing, answers))
    try:

        async def members(expected: tuple[str, ...]) -> bool:
            await survivor.renew()
            return survivor.members == expected

        await wait_until(lambda: members(("a", "b")), timeout=30)
        bus_up.clear()
        await wait_until(lambda: members(("a",)), timeout=30)
        assert survivor.mine == ALL
        assert cut.bus_outage.down
        bus_up.set()
        await wait_until(lambda: members(("a", "b")), timeout=30)
        assert len(survivor.mine) == 6
        assert not cut.bus_outage.down
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_a_replica_whose_lease_ran_out_unrenewed_owns_and_leads_nothing_until_renewed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A renewal waiting on a silent database link says nothing for up to 30 s: the replica
    kept reading its partitions, and the answers it held (waiting on the database) kept them
    from the replica that owned them by then (``netns-replica-postgres``, steps in flight)."""
    other, cut = _replicas(sessions, "a", "b", lease_s=60.0)
    await other.renew()
    cut.lease_s = 0.6
    await cut.renew()
    assert len(cut.mine) == 6 and cut.members == ("a", "b")
    followed: list[frozenset[int]] = []

    async def follow() -> None:
        followed.append(cut.mine)

    watch = asyncio.create_task(cut.watch(follow))
    try:
        await wait_until(lambda: followed == [frozenset()], timeout=30)
        assert not cut.owns("any run") and not cut.leads
        await cut.renew()  # the database answers again
        assert len(cut.mine) == 6 and cut.members == ("a", "b")
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch


async def test_a_replica_alone_keeps_its_partitions_through_an_outage(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Nobody could take them over: the watch leaves a lone replica (embedded) as it was."""
    alone = Ownership(sessions, "a", partitions=12, lease_s=0.3)
    await alone.renew()
    watch = asyncio.create_task(alone.watch(_nothing))
    try:
        await asyncio.sleep(1.5)  # five leases without a renewal
        assert alone.mine == ALL and alone.leads
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch


async def _nothing() -> None:
    return None
