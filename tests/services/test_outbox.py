"""The transactional outbox: nothing leaves before its transaction commits, and a relay that
crashes between publishing and deleting publishes nothing twice. On both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bus import streams
from bus.envelope import Envelope, Kind
from bus.factory import create_transport
from bus.redis_streams import RedisStreamsTransport
from bus.transport import Transport
from services.db import migrate
from services.db.engine import create_engine, session_factory
from services.db.models import OutboxRow, utcnow
from services.outbox import OutboxRelay


@dataclass
class Backend:
    relay: OutboxRelay
    transport: Transport


@pytest.fixture(params=["embedded", "distributed"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "distributed":
        db_url, bus_url = (
            request.getfixturevalue("postgres_migrated_url"),
            request.getfixturevalue("redis_url"),
        )
    else:
        db_url, bus_url = f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}", "memory://outbox-test"
    await migrate.upgrade_async(db_url)
    engine = create_engine(db_url)
    transport = create_transport(bus_url)
    try:
        yield Backend(OutboxRelay(session_factory(engine), transport, claim_after_s=0), transport)
    finally:
        await transport.close()
        await engine.dispose()


def task(i: int) -> Envelope:
    # No run: the relay's check for dead tasks (tested in tests/orchestrator/test_outbox_drops.py)
    # has nothing to say about it, so only the outbox's own guarantees are under test here.
    return Envelope(kind=Kind.TASK, topic="t.x", sender="orchestrator", payload={"i": i})


async def write(relay: OutboxRelay, envelopes: list[Envelope], commit: bool) -> None:
    async with relay.sessions() as session, session.begin() as transaction:
        for envelope in envelopes:
            session.add(
                OutboxRow(
                    id=envelope.id,
                    destination=streams.tasks("t.x"),
                    envelope=envelope.to_json().decode(),
                    created_at=utcnow(),
                )
            )
        if not commit:
            await transaction.rollback()


async def outbox_rows(relay: OutboxRelay) -> int:
    async with relay.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(OutboxRow))).scalar_one()
        )


async def test_a_rolled_back_transaction_publishes_nothing(backend: Backend) -> None:
    await write(backend.relay, [task(1), task(2)], commit=False)
    assert await backend.relay.flush() == 0
    assert await backend.transport.stream_length(streams.tasks("t.x")) == 0


async def test_committed_envelopes_are_published_once_even_if_the_relay_crashes(
    backend: Backend,
) -> None:
    envelopes = [task(i) for i in range(5)]
    await write(backend.relay, envelopes, commit=True)

    async def crash(_rows: list[OutboxRow]) -> None:
        raise RuntimeError("the relay died after publishing, before deleting")

    crashing = OutboxRelay(
        backend.relay.sessions, backend.transport, claim_after_s=0, before_delete=crash
    )
    with pytest.raises(RuntimeError):
        await crashing.flush()
    assert await outbox_rows(backend.relay) == 5  # the delete rolled back with the crash
    assert await backend.transport.stream_length(streams.tasks("t.x")) == 5

    assert await backend.relay.flush() == 5  # a restarted relay publishes the rows again...
    assert await outbox_rows(backend.relay) == 0
    assert await backend.transport.stream_length(streams.tasks("t.x")) == 5  # ...which adds nothing


async def test_the_fast_path_publishes_after_commit_and_the_relay_deletes(backend: Backend) -> None:
    envelopes = [task(i) for i in range(3)]
    async with backend.relay.sessions() as session, session.begin():
        rows = [
            OutboxRow(
                id=e.id,
                destination=streams.tasks("t.x"),
                envelope=e.to_json().decode(),
                created_at=utcnow(),
            )
            for e in envelopes
        ]
        session.add_all(rows)
    await backend.relay.publish_committed(
        [(row.destination, e) for row, e in zip(rows, envelopes, strict=True)]
    )
    assert await backend.transport.stream_length(streams.tasks("t.x")) == 3
    assert await backend.relay.flush() == 3  # not deleted yet: a poll now would re-publish...
    assert await backend.transport.stream_length(streams.tasks("t.x")) == 3  # ...as a no-op


async def test_notices_go_out_in_the_round_trip_of_the_tasks(
    postgres_url: str, redis_url: str
) -> None:
    """``publish_committed`` sends the run-change notices it is given with the rows on the bus,
    in one round trip (one write on the publish connection), and says so; with no row on the
    bus it sends none (the caller's own notices go out)."""
    await migrate.upgrade_async(postgres_url)
    engine = create_engine(postgres_url)
    transport = create_transport(redis_url)
    assert isinstance(transport, RedisStreamsTransport)
    relay = OutboxRelay(session_factory(engine), transport)
    channel = f"test:notices:{task(0).id}"
    pubsub = transport.client.pubsub()
    try:
        await pubsub.subscribe(channel)
        assert (await pubsub.get_message(timeout=10))["type"] == "subscribe"
        link = transport._publish_link
        assert link is not None
        calls: list[int] = []
        call = link.call

        async def counted(commands: Any, **kwargs: Any) -> list[Any]:
            calls.append(len(commands))
            return await call(commands, **kwargs)

        link.call = counted  # type: ignore[method-assign]
        envelope = task(1)
        assert await relay.publish_committed(
            [(streams.tasks("t.x"), envelope)], [(channel, "changed")]
        )
        assert calls == [2]  # the script and the PUBLISH, one write
        message = await pubsub.get_message(timeout=10)
        assert message is not None and message["data"] == b"changed"
        assert not await relay.publish_committed([], [(channel, "again")])
        assert await pubsub.get_message(timeout=0.2) is None
    finally:
        await pubsub.aclose()
        await transport.close()
        await engine.dispose()
