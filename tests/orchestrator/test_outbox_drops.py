"""The relay publishes no dead task: superseded attempts, cancelled runs and tasks past their
deadline stay unsent after a bus outage, and each drop is an ``outbox.dropped`` event. A task
still in the outbox is not taken for lost by the claim sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update

from bus import streams
from services.config import Settings
from services.db.models import EventRow, StepRow, utcnow
from services.ledger.keys import create_key_file
from services.orchestrator.definitions import WorkflowDefinition, parse_definition
from services.orchestrator.redelivery import Redelivery
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.fixtures.proxy import TcpProxy, proxied
from tests.fixtures.services import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def one_step(timeout_s: float = 300.0) -> WorkflowDefinition:
    return parse_definition(
        {
            "name": "one",
            "steps": [{"id": "a", "capability": "test.x", "input": {}, "timeout_s": timeout_s}],
        }
    )


@pytest.fixture
async def bus(redis_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """Redis behind a proxy the test cuts: the orchestrator's publishing fails meanwhile."""
    proxy, through = await proxied(redis_url, 6379)
    yield proxy, through
    await proxy.cut()


@pytest.fixture
async def runtime(
    postgres_migrated_url: str, bus: tuple[TcpProxy, str], tmp_path: Path
) -> AsyncIterator[Runtime]:
    # No loops: the test drives the relay itself.
    create_key_file(tmp_path / "ledger.key")
    settings = Settings(
        database_url=postgres_migrated_url,
        redis_url=bus[1],
        data_dir=tmp_path,
        ledger_key_file=tmp_path / "ledger.key",
    )
    runtime = await Runtime.open(settings, orchestrate=False)
    card = AgentCard.model_validate({"name": "x", "capabilities": [{"name": "test.x"}]})
    async with runtime.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    try:
        yield runtime
    finally:
        await runtime.close()


async def test_the_relay_drops_dead_tasks_and_records_each_drop(
    runtime: Runtime, bus: tuple[TcpProxy, str]
) -> None:
    orchestrator = runtime.orchestrator
    await bus[0].cut()  # every task below stays in the outbox
    cancelled = await orchestrator.create_run(one_step(), {})
    assert cancelled is not None
    assert await orchestrator.cancel_run(cancelled.id, "no longer wanted")

    superseded = await orchestrator.create_run(one_step(), {})
    assert superseded is not None
    sent = await orchestrator.in_run(
        superseded.id,
        lambda ctx: orchestrator.engine.redeliver(ctx, lambda row: True, "test"),
    )
    assert sent == 1

    expired = await orchestrator.create_run(one_step(timeout_s=0.05), {})
    assert expired is not None
    async with runtime.readers() as session:
        due = (
            await session.execute(select(StepRow.due_at).where(StepRow.run_id == expired.id))
        ).scalar_one()
    assert due is not None
    await wait_until(lambda: utcnow() > due)

    await bus[0].restore()
    relay = orchestrator.relay
    before = relay.published
    assert await relay.flush(claim_after_s=0) == 4  # every row waiting is handled
    assert relay.published - before == 1  # only the superseding task of the second run
    assert relay.dropped == 3

    async with runtime.readers() as session:
        drops = (
            await session.execute(select(EventRow).where(EventRow.type == "outbox.dropped"))
        ).scalars()
        reasons = {event.run_id: event.data["reason"] for event in drops}
        current = (
            await session.execute(select(StepRow.task_id).where(StepRow.run_id == superseded.id))
        ).scalar_one()
    assert reasons[cancelled.id] == "its run is cancelled"
    assert reasons[superseded.id].startswith("superseded")
    assert reasons[expired.id] == "past its deadline"
    assert len(reasons) == 3 and current is not None


async def test_a_task_still_in_the_outbox_is_not_taken_for_lost_by_the_claim_sweep(
    runtime: Runtime, bus: tuple[TcpProxy, str], redis_url: str
) -> None:
    """A commit that took longer than the claim timeout (PostgreSQL frozen 40 s under load)
    publishes its task after it: the sweep then found the step unclaimed with no publish
    marker yet, said "the bus lost it" and sent it again, so the task ran twice and the first
    agent's answer was dead-lettered as unbound. A task whose outbox row is still there is
    the relay's to publish, not lost; once published and gone from Redis it is redelivered."""
    orchestrator = runtime.orchestrator
    await bus[0].cut()  # the task stays in the outbox, as behind a commit that was late
    run = await orchestrator.create_run(one_step(), {})
    assert run is not None
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(StepRow)
            .where(StepRow.run_id == run.id)
            .values(scheduled_at=utcnow() - timedelta(minutes=1))
        )
        task_id = (
            await session.execute(select(StepRow.task_id).where(StepRow.run_id == run.id))
        ).scalar_one()
    assert task_id is not None
    await bus[0].restore()
    sweep = Redelivery(orchestrator, claim_timeout_s=10)
    assert await sweep.unclaimed() == 0

    assert await orchestrator.relay.flush(claim_after_s=0) == 1  # published, row deleted
    direct = Redis.from_url(redis_url)
    try:
        marker = streams.published_marker(streams.tasks("test.x"), task_id)
        assert await direct.exists(marker) == 1
        await direct.delete(marker, streams.tasks("test.x"))  # the bus lost it after all
    finally:
        await direct.aclose()
    assert await sweep.unclaimed() == 1
