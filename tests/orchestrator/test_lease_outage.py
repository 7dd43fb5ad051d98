"""Agents' leases are not expired for time in which the server could not take their
heartbeats: a bus outage (the API answers heartbeats 503 without Redis) as well as a database
outage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from pathlib import Path

import pytest

from bus.tasks import cancel_and_wait
from services.config import Settings
from services.db.models import utcnow
from services.ledger.keys import create_key_file
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.fixtures.proxy import TcpProxy, proxied
from tests.fixtures.services import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """Redis behind a proxy the test cuts."""
    proxy, through = await proxied(redis_url, 6379)
    yield proxy, through
    await proxy.cut()


@pytest.fixture
async def runtime(
    postgres_migrated_url: str, bus: tuple[TcpProxy, str], tmp_path: Path
) -> AsyncIterator[Runtime]:
    # No loops: the test turns the lease loop itself.
    create_key_file(tmp_path / "ledger.key")
    settings = Settings(
        database_url=postgres_migrated_url,
        redis_url=bus[1],
        data_dir=tmp_path,
        ledger_key_file=tmp_path / "ledger.key",
    )
    runtime = await Runtime.open(settings, orchestrate=False)
    try:
        yield runtime
    finally:
        await runtime.close()


async def status(runtime: Runtime, agent_id: str) -> str:
    async with runtime.readers() as session:
        [agent] = [a for a in await store.list_agents(session) if a.id == agent_id]
    return str(agent.status)


async def test_a_lease_that_runs_out_while_the_bus_is_down_is_renewed_not_expired(
    runtime: Runtime, bus: tuple[TcpProxy, str]
) -> None:
    """A 30 s Redis freeze under load: every heartbeat got a 503 (the API checks tokens in
    Redis), the lease sweep, which needs only the database, marked both agents offline after
    15 s and sent their running tasks again."""
    orchestrator = runtime.orchestrator
    card = AgentCard.model_validate({"name": "x", "capabilities": [{"name": "test.x"}]})
    async with runtime.sessions() as session, session.begin():
        agent, _ = await store.register_agent(session, card, lease_s=1.0)
    agent_id = agent.id
    await orchestrator.lease_round()  # a sweep with the bus up: nothing ran out yet
    assert await status(runtime, agent_id) == "online"

    await bus[0].cut()
    expires = utcnow()
    await wait_until(lambda: (utcnow() - expires).total_seconds() > 1.5)
    await orchestrator.lease_round()  # the bus is down: its silence says nothing
    assert await status(runtime, agent_id) == "online"

    await bus[0].restore()
    await orchestrator.lease_round()  # renewed for one lease, not expired
    assert await status(runtime, agent_id) == "online"


async def test_a_replica_that_leads_after_an_outage_all_saw_gives_agents_a_lease_first(
    postgres_migrated_url: str, bus: tuple[TcpProxy, str], tmp_path: Path
) -> None:
    """Redis down for longer than a replica lease and an agent lease, seen by both replicas:
    every replica lease lapsed, and on the heal "b", which had never led, renewed first and
    led. Its memory held no outage (only the leader's lease rounds noted one), so its first
    sweep marked every agent offline and sent their tasks again: live agents ran them twice."""
    create_key_file(tmp_path / "ledger.key")
    opened: list[Runtime] = []
    try:
        for name in ("a", "b"):  # "a" sorts first: it leads while it is a member
            (tmp_path / name).mkdir()
            settings = Settings(
                database_url=postgres_migrated_url,
                redis_url=bus[1],
                data_dir=tmp_path / name,
                ledger_key_file=tmp_path / "ledger.key",
                orchestrator_id=name,
                replica_lease_s=0.5,
            )
            opened.append(await Runtime.open(settings, orchestrate=False))
        a, b = (runtime.orchestrator for runtime in opened)
        sent_on: list[str] = []

        async def send_on(agent_ids: Collection[str], why: str) -> None:
            sent_on.extend(agent_ids)

        a.send_on = b.send_on = send_on  # type: ignore[method-assign]
        for replica in (a, b, a):
            await replica.ownership.renew()
        assert a.ownership.leads and not b.ownership.leads
        card = AgentCard.model_validate({"name": "x", "capabilities": [{"name": "test.x"}]})
        async with opened[0].sessions() as session, session.begin():
            agent, _ = await store.register_agent(session, card, lease_s=1.0)
        for replica in (a, b):
            await replica.lease_round()
        assert await status(opened[0], agent.id) == "online"

        await bus[0].cut()  # heartbeats get 503; no replica renews its lease
        for replica in (a, b):
            await replica.lease_round()  # "a" notes the outage; "b" does not lead
        watches = [asyncio.create_task(r.ownership.watch(_nothing)) for r in (a, b)]
        try:
            expires = utcnow()
            await wait_until(lambda: (utcnow() - expires).total_seconds() > 1.5)
            await wait_until(lambda: not a.ownership.leads and not b.ownership.leads)
        finally:
            await cancel_and_wait(watches)

        await bus[0].restore()
        await b.ownership.renew()  # "b" renews first: alone, it leads
        assert b.ownership.members == ("b",) and b.ownership.leads
        await b.lease_round()
        assert await status(opened[0], agent.id) == "online"
        await a.ownership.renew()  # "a" back, and leading again
        await a.lease_round()
        assert await status(opened[0], agent.id) == "online"
        assert sent_on == []
    finally:
        for runtime in opened:
            await runtime.close()


async def _nothing() -> None:
    return None
