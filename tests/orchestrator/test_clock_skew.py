"""Leases are written by one replica and judged by another, so they are timed on the clock all
replicas share, the database's: a replica whose clock is a minute off (machines without time
sync; envelopes may be 5 minutes off, ``clock_skew_s``) neither keeps a dead replica's runs a
minute longer nor has live agents expired. PostgreSQL only: SQLite is the embedded mode, one
process and one clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from services.config import Settings
from services.db.models import AgentRow
from services.orchestrator.ownership import Ownership
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.fixtures.services import wait_until

pytestmark = [pytest.mark.postgres]

MINUTE = timedelta(seconds=60)


@pytest.fixture
async def runtime(postgres_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await Runtime.open(
        Settings(database_url=postgres_url, data_dir=tmp_path), orchestrate=False
    )
    try:
        yield runtime
    finally:
        await runtime.close()


def clock_off_by(offset: timedelta) -> time_machine.travel:
    """This process's clock ``offset`` from the true time (and ticking), as on another machine."""
    return time_machine.travel(datetime.now(UTC) + offset)


async def test_a_replica_ahead_neither_drops_the_others_nor_outlives_its_lease(
    runtime: Runtime,
) -> None:
    # Before leases were timed by the database, "b" found the lease of "a" expired, owned
    # every partition beside it, and, killed, kept half of them from "a" for a minute: runs
    # stuck in the chaos scenario replica-lost-skewed.
    a = Ownership(runtime.sessions, "a", partitions=12, lease_s=10.0)
    b = Ownership(runtime.sessions, "b", partitions=12, lease_s=0.5)
    await a.renew()
    with clock_off_by(MINUTE):
        await b.renew()  # "b" renews no more from here on
    assert b.members == ("a", "b") and len(b.mine) == 6

    async def took_over() -> bool:
        await a.renew()
        return len(a.mine) == 12

    await wait_until(took_over, timeout=30)
    assert a.members == ("a",)


async def test_a_heartbeat_taken_by_a_replica_behind_is_not_expired_by_another(
    runtime: Runtime,
) -> None:
    # A sweep before: a replica's first renews every lease that ran out (it swept none of them).
    assert await runtime.orchestrator.sweep_agents() == []
    card = AgentCard.model_validate({"name": "x", "capabilities": [{"name": "test.x"}]})
    with clock_off_by(-MINUTE):  # the replica that registered it, and takes its heartbeats
        async with runtime.sessions() as session, session.begin():
            agent, _ = await store.register_agent(session, card, lease_s=15.0)
        async with runtime.sessions() as session, session.begin():
            row = await session.get(AgentRow, agent.id)
            assert row is not None
            await store.heartbeat(session, row, in_flight=0, lease_s=15.0)
    assert await runtime.orchestrator.sweep_agents() == []  # the sweeping replica's clock
    async with runtime.readers() as session:
        [found] = [a for a in await store.list_agents(session) if a.id == agent.id]
    assert found.status == "online"
