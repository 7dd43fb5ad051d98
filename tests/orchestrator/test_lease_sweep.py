"""The lease sweep: a replica renews, rather than expires, the agents' leases that ran out
before it swept them (it just started, or just started leading), and expires those that run
out while it sweeps. On PostgreSQL and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.config import Settings
from services.db.models import AgentRow
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_migrated_url"))
    return f"sqlite+aiosqlite:///{tmp_path}/modx.db"


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    runtime = await Runtime.open(settings, orchestrate=False)  # the test sweeps itself
    try:
        yield runtime
    finally:
        await runtime.close()


async def lapse(runtime: Runtime, agent_id: str) -> None:
    """Move the agent's lease a minute into the past."""
    async with runtime.sessions() as session, session.begin():
        row = await session.get(AgentRow, agent_id)
        assert row is not None
        row.lease_expires_at -= timedelta(seconds=60)


async def status(runtime: Runtime, agent_id: str) -> str:
    async with runtime.readers() as session:
        row = await session.get(AgentRow, agent_id)
        assert row is not None
        return str(row.status)


async def test_a_replicas_first_sweep_renews_what_ran_out_before_and_later_ones_expire(
    runtime: Runtime,
) -> None:
    """A lease that ran out before this replica swept (it was down, or another led; agents'
    heartbeats may have had nowhere to go) says nothing about its agent: the first sweep
    marked it offline and sent its tasks again. Once the replica sweeps, a lease that runs
    out is expired as before."""
    card = AgentCard.model_validate({"name": "x", "capabilities": [{"name": "test.x"}]})
    async with runtime.sessions() as session, session.begin():
        agent, _ = await store.register_agent(session, card, lease_s=15.0)
    await lapse(runtime, agent.id)
    orchestrator = runtime.orchestrator
    assert await orchestrator.sweep_agents() == []
    assert await status(runtime, agent.id) == "online"

    await lapse(runtime, agent.id)  # the renewed lease ran out while this replica swept
    assert await orchestrator.sweep_agents() == [agent.id]
    assert await status(runtime, agent.id) == "offline"
