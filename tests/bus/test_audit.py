"""The audit of results streams (``bus.audit``) on a real Redis: it finds and undoes a forged id
and answers trimmed unread or pending, and never mistakes our own trimming for either."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from bus import ConsumerOptions, Envelope, RedisStreamsTransport, streams
from bus.audit import Audit
from bus.transport import Reply
from tests.bus.contract import envelope
from tests.fixtures.services import wait_until

pytestmark = pytest.mark.redis

STREAM = streams.result_partition(0)
GROUP = streams.ORCHESTRATOR_GROUP
LAST_ID = "18446744073709551615-18446744073709551615"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    yield client
    await client.aclose()


@pytest.fixture
async def transport(redis_url: str) -> AsyncIterator[RedisStreamsTransport]:
    bus = RedisStreamsTransport(redis_url, maxlen=1, trim_interval_s=0, approximate_trim=False)
    yield bus
    await bus.close()


async def add(redis: Redis, count: int) -> list[str]:
    return [_text(await redis.xadd(STREAM, {"data": f"answer {i}"})) for i in range(count)]


async def read(redis: Redis, count: int) -> list[str]:
    reply: Any = await redis.xreadgroup(GROUP, "replica", {STREAM: ">"}, count=count)
    return [_text(entry_id) for entry_id, _ in reply[0][1]] if reply else []


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def test_a_forged_last_id_is_dead_lettered_and_appends_work_again(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    honest = await add(redis, 2)
    await redis.xadd(STREAM, {"data": "forged"}, id=LAST_ID)
    assert await read(redis, 10) == [*honest, LAST_ID]  # the group read past the clock too
    with pytest.raises(Exception, match="exhausted the last possible ID"):
        await redis.xadd(STREAM, {"data": "blocked"})

    [found] = await transport.audit([STREAM], ahead_s=300)

    assert found == Audit(STREAM, forged=1)
    [dead] = await transport.dead_letters(STREAM)
    assert (dead.data, dead.stream) == (b"forged", STREAM)
    assert dead.reason.startswith("forged: entry id " + LAST_ID)
    later = await add(redis, 1)
    assert await read(redis, 10) == later  # the group was set back: not skipped
    assert await redis.xpending(STREAM, GROUP) == {
        "pending": 3,
        "min": honest[0].encode(),
        "max": later[0].encode(),
        "consumers": [{"name": b"replica", "pending": 3}],
    }
    assert (await transport.audit([STREAM], ahead_s=300))[0].clean


async def test_answers_trimmed_unread_or_pending_are_counted_once(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    await add(redis, 5)
    await read(redis, 2)  # two held (pending), three unread
    await redis.xadd(STREAM, {"data": "sabotage"}, maxlen=0, approximate=False)

    [found] = await transport.audit([STREAM], ahead_s=300)

    # The three unread answers and the saboteur's own entry; the two held.
    assert (found.lost, found.lost_pending, found.forged) == (4, 2, 0)
    assert (await transport.audit([STREAM], ahead_s=300))[0].clean
    kept = await add(redis, 2)
    assert await read(redis, 10) == kept


async def test_a_partial_trim_of_unread_answers_is_found(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    ids = await add(redis, 4)
    await redis.xack(STREAM, GROUP, *await read(redis, 1))
    # MINID: everything before the last answer goes; it and a new entry stay.
    await redis.xadd(STREAM, {"data": "sabotage"}, minid=ids[3], approximate=False)

    [found] = await transport.audit([STREAM], ahead_s=300)

    assert (found.lost, found.lost_pending) == (2, 0)
    assert (await transport.audit([STREAM], ahead_s=300))[0].clean
    assert len(await read(redis, 10)) == 2


async def test_our_own_trimming_is_never_taken_for_sabotage(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    held: list[str] = []
    for _ in range(5):
        await add(redis, 20)
        held += await read(redis, 15)
        done, held = held[:-5], held[-5:]
        await redis.xack(STREAM, GROUP, *done)  # five stay pending, five unread
        assert await transport.trim(STREAM) > 0  # it did trim: acknowledged answers went
        assert (await transport.audit([STREAM], ahead_s=300))[0].clean
    info = await redis.xinfo_stream(STREAM)
    assert info["entries-added"] == 100 and info["length"] < 100


async def test_an_id_within_the_skew_allowance_is_left_alone(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    [now] = await add(redis, 1)
    soon = f"{int(now.split('-')[0]) + 60_000}-0"
    await redis.xadd(STREAM, {"data": "a minute ahead"}, id=soon)

    assert (await transport.audit([STREAM], ahead_s=300))[0].clean
    assert await redis.xlen(STREAM) == 2


async def test_an_answer_to_a_blocked_stream_waits_for_the_audit_and_lands_once(
    redis: Redis, transport: RedisStreamsTransport, caplog: pytest.LogCaptureFixture
) -> None:
    """An honest agent's answer while a forged id blocks the results stream: its commit is
    retried (the task stays held, the handler is not run again) until the audit sets the
    stream back."""
    await redis.xadd(STREAM, {"data": "forged"}, id=LAST_ID)
    tasks = streams.tasks("audit.test")
    runs: list[int] = []

    async def answer(task: Envelope) -> list[Reply]:
        runs.append(task.payload["i"])
        return [(STREAM, envelope(task.payload["i"], causation_id=task.id))]

    deadline = datetime.now(UTC) + timedelta(hours=1)
    options = ConsumerOptions(visibility_timeout_s=3600, block_ms=50)
    subscription = await transport.subscribe(tasks, "audit.test", "agent", answer, options)
    try:
        await transport.publish(tasks, envelope(7, deadline=deadline))

        def refused() -> bool:
            return any("exhausted the last possible ID" in _logged(r) for r in caplog.records)

        await wait_until(refused)
        assert (await transport.audit([STREAM], ahead_s=300))[0].forged == 1

        async def landed() -> bool:
            return bool(await redis.xrange(STREAM, "-", "+"))

        await wait_until(landed)
        [(_, fields)] = await redis.xrange(STREAM, "-", "+") or []
        assert fields is not None
        assert Envelope.from_json(fields[b"data"]).payload == {"i": 7}
        assert runs == [7]  # retried as a commit, not run again
        await wait_until(lambda: subscription.in_flight == 0)
        assert await transport.pending(tasks, "audit.test") == 0
    finally:
        await subscription.stop()


def _logged(record: logging.LogRecord) -> str:
    error = record.exc_info[1] if record.exc_info else None
    return f"{record.getMessage()} {error!r}"


async def test_the_audit_runs_in_the_streams_slot_on_a_cluster(redis_cluster_url: str) -> None:
    bus = RedisStreamsTransport(redis_cluster_url, trim_interval_s=0)
    client: Any = bus.client
    try:
        await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        await client.xadd(STREAM, {"data": "unread"})
        await client.xadd(STREAM, {"data": "forged"}, id=LAST_ID, maxlen=1, approximate=False)

        [found] = await bus.audit([STREAM], ahead_s=300)

        # The answer trimmed unread and the forged entry (unread too), which is dead-lettered.
        assert (found.forged, found.lost) == (1, 2)
        [dead] = await bus.dead_letters(STREAM)
        assert dead.data == b"forged"
        assert await client.xadd(STREAM, {"data": "an append"})
        assert (await bus.audit([STREAM], ahead_s=300))[0].clean
    finally:
        await bus.close()


async def test_a_dead_letter_stream_is_audited_in_its_slot_on_a_cluster(
    redis_cluster_url: str,
) -> None:
    """Its own dead-letter stream and its count of MODX's removals share its slot: the audit
    and the counted removals are one script each."""
    bus = RedisStreamsTransport(redis_cluster_url, trim_interval_s=0)
    client: Any = bus.client
    tasks = streams.tasks("audit.cluster")
    dlq = streams.dlq(tasks, cluster=True)
    try:
        kept = [await client.xadd(dlq, {"data": f"letter {i}"}) for i in range(3)]
        assert await bus.discard_dead_letter(tasks, kept[0].decode())
        await client.xadd(dlq, {"data": "forged"}, id=LAST_ID, maxlen=2, approximate=False)

        [found] = await bus.audit_dead_letters([tasks], ahead_s=300)

        # Counted: the letter trimmed by the append, not the one discarded; forged: moved.
        assert found == Audit(dlq, forged=1, lost=1)
        [moved] = await bus.dead_letters(dlq)
        assert moved.data == b"forged"
        assert await client.xadd(dlq, {"data": "a dead letter"})
        assert (await bus.audit_dead_letters([tasks], ahead_s=300))[0].clean
    finally:
        await bus.close()


async def test_more_forged_dead_letters_than_one_call_moves_are_not_taken_for_trimming(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    """The audit moves at most 1000 forged entries a call; those it moved before it can set the
    stream back are its own removals, not an agent's."""
    tasks = streams.tasks("audit.many")
    dlq = streams.dlq(tasks)
    ahead = int(datetime.now(UTC).timestamp() * 1000) + 86_400_000
    pipe = redis.pipeline(transaction=False)
    for seq in range(1001):
        pipe.xadd(dlq, {"data": "forged"}, id=f"{ahead}-{seq}")
    await pipe.execute()

    assert await transport.audit_dead_letters([tasks], ahead_s=300) == [Audit(dlq, forged=1000)]
    assert await transport.audit_dead_letters([tasks], ahead_s=300) == [Audit(dlq, forged=1)]
    assert (await transport.audit_dead_letters([tasks], ahead_s=300))[0].clean
    assert await redis.xlen(streams.dlq(dlq)) == 1001
    entry_id = _text(await redis.xadd(dlq, {"data": "an honest dead letter"}))
    assert int(entry_id.split("-")[0]) < ahead


async def test_a_forged_entry_over_the_bound_is_dead_lettered_without_its_data(
    redis: Redis, transport: RedisStreamsTransport
) -> None:
    await redis.xadd(STREAM, {"data": "y" * 100_000}, id=LAST_ID)
    assert await read(redis, 10) == [LAST_ID]  # read: else counted as lost too

    [found] = await transport.audit([STREAM], ahead_s=300, max_entry_bytes=4096)

    assert found == Audit(STREAM, forged=1)
    [dead] = await transport.dead_letters(STREAM)
    assert dead.reason.startswith("forged: entry id " + LAST_ID)
    assert dead.data == b""
    assert await redis.xlen(STREAM) == 0
