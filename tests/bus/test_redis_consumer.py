"""The Redis consumer's own rules (``bus._redis_consumer``), beyond the transport contract: how
long a commit that Redis does not take is retried, what stop gives up on, which consumer names
stop removes from the group, and RESP3 replies. On the test database of a real Redis; a link
that fails is the consumer's acknowledging connection made to raise what a lost connection
raises, for as long as the test says.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bus import ConsumerOptions, Envelope, Kind, RedisStreamsTransport
from bus._redis_consumer import RedisSubscription
from tests.fixtures.services import free_port, missing, wait_until

pytestmark = pytest.mark.redis


def envelope(i: int, **fields: Any) -> Envelope:
    return Envelope(kind=Kind.TASK, topic="test", sender="tester", payload={"i": i}, **fields)


@pytest.fixture
async def transport(redis_url: str) -> AsyncIterator[RedisStreamsTransport]:
    made = RedisStreamsTransport(redis_url, reconnect_base_s=0.01, reconnect_cap_s=0.05)
    yield made
    await made.close()


@pytest.fixture
def stream() -> str:
    return f"modx.test.{uuid.uuid4().hex[:8]}"


class FailingLink:
    """Makes a subscription's acknowledging link raise a lost connection while ``failing``."""

    def __init__(self, sub: RedisSubscription, monkeypatch: pytest.MonkeyPatch) -> None:
        self.failing = True
        self.failures = 0
        call = sub._acker_link.call

        async def fails(commands: Sequence[Sequence[Any]], **kwargs: Any) -> list[Any]:
            if self.failing:
                self.failures += 1
                raise RedisConnectionError("connection lost (test)")
            return await call(commands, **kwargs)

        monkeypatch.setattr(sub._acker_link, "call", fails)


async def subscribe(
    transport: RedisStreamsTransport, stream: str, handler: Any, **options: Any
) -> RedisSubscription:
    sub = await transport.subscribe(stream, "g", "c", handler, ConsumerOptions(**options))
    assert isinstance(sub, RedisSubscription)
    return sub


async def test_a_commit_is_retried_until_the_envelopes_deadline(
    transport: RedisStreamsTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies of an envelope with a deadline are retried past the few quick attempts, until
    Redis takes them: the handler runs once, and so do plain acknowledgements sent meanwhile."""
    replies = f"{stream}.replies"
    calls: list[int] = []

    async def answers(env: Envelope) -> list[tuple[str, Envelope]] | None:
        calls.append(env.payload["i"])
        return [(replies, envelope(env.payload["i"]))] if env.payload["i"] else None

    # The default visibility timeout: an acknowledgement not sent is not redelivered meanwhile.
    sub = await subscribe(transport, stream, answers)
    link = FailingLink(sub, monkeypatch)
    until = datetime.now(UTC) + timedelta(minutes=10)
    await transport.publish(stream, envelope(1, deadline=until))
    await transport.publish(stream, envelope(0))  # no replies: a plain acknowledgement
    await wait_until(lambda: link.failures >= 8)  # well past the 3 quick attempts
    assert await transport.stream_length(replies) == 0
    link.failing = False
    await wait_until(lambda: _pending(transport, stream, 0))
    assert await transport.stream_length(replies) == 1
    assert sorted(calls) == [0, 1], "neither entry ran again"
    assert await transport.dead_letters(stream) == []


async def test_a_commit_without_deadline_fails_after_a_few_attempts(
    transport: RedisStreamsTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a deadline, replies Redis does not take after 3 attempts fail the handler: the
    entry stays pending and runs again (counting a delivery) once Redis takes writes again."""
    replies = f"{stream}.replies"
    calls: list[int] = []
    link: FailingLink | None = None

    async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
        calls.append(env.payload["i"])
        if link is not None and len(calls) == 2:
            link.failing = False  # the second delivery's commit goes through
        return [(replies, envelope(env.payload["i"]))]

    sub = await subscribe(transport, stream, answers, visibility_timeout_s=0.2, max_deliveries=5)
    link = FailingLink(sub, monkeypatch)
    await transport.publish(stream, envelope(7))
    await wait_until(lambda: len(calls) == 2)
    await wait_until(lambda: _pending(transport, stream, 0))
    assert calls == [7, 7]
    assert link.failures == 3, "the first commit was tried 3 times, then given up"
    assert await transport.stream_length(replies) == 1
    assert await transport.dead_letters(stream) == []


async def test_stop_gives_up_settling_after_a_few_attempts(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Stopping while the acknowledging link fails: stop tries 3 times, says what it did not
    send, and returns; the entries stay pending and go to the next consumer."""
    replies = f"{stream}.replies"
    done: list[int] = []

    async def answers(env: Envelope) -> list[tuple[str, Envelope]] | None:
        done.append(env.payload["i"])
        return [(replies, envelope(1))] if env.payload["i"] == 1 else None

    until = datetime.now(UTC) + timedelta(minutes=10)  # kept for its deadline while running
    sub = await subscribe(transport, stream, answers, visibility_timeout_s=0.2, concurrency=2)
    link = FailingLink(sub, monkeypatch)
    await transport.publish(stream, envelope(1, deadline=until))
    await transport.publish(stream, envelope(2))
    await wait_until(lambda: len(done) == 2 and link.failures >= 4)
    before = link.failures
    with caplog.at_level(logging.WARNING, logger="bus"):
        await sub.stop()
    assert link.failures - before <= 3
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    gave_up = f"{sub!r}: 1 acks and 1 commits not sent on stop (connection lost (test)); "
    assert gave_up + "they will be redelivered" in messages
    assert not [m for m in messages if "could not settle entries on stop" in m]
    assert await transport.pending(stream, "g") == 2
    again: list[int] = []

    async def takes(env: Envelope) -> None:
        again.append(env.payload["i"])

    await transport.subscribe(stream, "g", "c2", takes, ConsumerOptions(visibility_timeout_s=0.2))
    await wait_until(lambda: sorted(again) == [1, 2])
    assert await transport.stream_length(replies) == 0


async def test_a_stopped_consumer_leaves_the_group_unless_it_holds_entries(
    transport: RedisStreamsTransport, stream: str
) -> None:
    """Consumer names (one per process) would pile up in the group: stop removes its own,
    unless entries are still pending on it (XAUTOCLAIM moves those from it later)."""
    seen: list[int] = []
    started = asyncio.Event()

    async def record(env: Envelope) -> None:
        seen.append(env.payload["i"])

    async def hangs(env: Envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    quick = await transport.subscribe(stream, "g", "quick", record)
    stuck = await transport.subscribe(stream, "g2", "stuck", hangs)
    await transport.publish(stream, envelope(1))
    await wait_until(lambda: seen == [1])
    await wait_until(lambda: _pending(transport, stream, 0))
    await asyncio.wait_for(started.wait(), 30)
    assert await _consumers(transport, stream, "g") == {"quick": 0}
    await quick.stop()
    assert await _consumers(transport, stream, "g") == {}
    await stuck.stop(drain=False)  # interrupted: released, but still pending on it
    assert await _consumers(transport, stream, "g2") == {"stuck": 1}


async def test_a_resp3_connection_reads_and_reclaims_entries(redis_url: str, stream: str) -> None:
    """With ``protocol=3`` Redis answers XREADGROUP with a map: entries, their data, and an
    entry without data (dead-lettered) read the same."""
    transport = RedisStreamsTransport(f"{redis_url}?protocol=3")
    try:
        seen: list[int] = []
        fails_once: set[int] = set()

        async def handler(env: Envelope) -> None:
            i = env.payload["i"]
            if i == 2 and i not in fails_once:
                fails_once.add(i)
                raise RuntimeError("again")  # reclaimed after the visibility timeout
            seen.append(i)

        options = ConsumerOptions(visibility_timeout_s=0.2, block_ms=200)
        await transport.subscribe(stream, "g", "c", handler, options)
        await transport.client.xadd(stream, {b"other": b"field"})
        await transport.publish_many([(stream, envelope(i)) for i in range(3)])
        await wait_until(lambda: sorted(seen) == [0, 1, 2])
        await wait_until(lambda: _dead_letter_count(transport, stream, 1))
        [dead] = await transport.dead_letters(stream)
        assert dead.reason == "malformed: entry has no data field"
    finally:
        await transport.close()


async def test_an_entry_released_unstarted_keeps_the_delivery_that_ran(
    transport: RedisStreamsTransport, stream: str
) -> None:
    """A reclaimed entry (its second delivery) still in the buffer when the consumer stops goes
    back counting the one delivery that ran: its handler ran once, and failed."""
    gate = asyncio.Event()
    runs: list[int] = []

    async def handler(env: Envelope) -> None:
        i = env.payload["i"]
        runs.append(i)
        if i == 0:
            raise RuntimeError("fails")
        await gate.wait()

    sub = await subscribe(transport, stream, handler, visibility_timeout_s=0.2, batch_size=2)
    first = await transport.publish(stream, envelope(0))
    await wait_until(lambda: runs == [0])
    await transport.publish(stream, envelope(1))
    await wait_until(lambda: runs == [0, 1])  # 1 holds the only worker
    # 0 comes back (XAUTOCLAIM: its second delivery) and waits in the buffer.
    await wait_until(lambda: [(d.id, d.deliveries) for d in sub._buffer] == [(first, 2)])
    stopping = asyncio.create_task(sub.stop())
    await wait_until(lambda: sub._stopping)  # the worker takes no more entries
    gate.set()
    await stopping
    assert runs == [0, 1]
    entries: Any = await transport.client.xpending_range(stream, "g", "-", "+", 10)
    [pending] = entries
    assert (pending["message_id"].decode(), pending["times_delivered"]) == (first, 1)


async def test_a_consumer_blocked_on_a_deleted_stream_recreates_its_group(
    transport: RedisStreamsTransport,
    stream: str,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Deleting a stream answers UNBLOCKED to the consumer blocked on it: that is a lost group
    too, recreated at once (not an outage to back off from)."""
    seen: list[int] = []

    async def record(env: Envelope) -> None:
        seen.append(env.payload["i"])

    db = int(urlsplit(redis_url).path.strip("/") or 0)
    with caplog.at_level(logging.WARNING, logger="bus"):
        sub = await subscribe(transport, stream, record, block_ms=5000)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: seen == [1])
        await wait_until(lambda: _blocked_reader(transport, db))
        await transport.client.delete(stream)
        await wait_until(lambda: _group_exists(transport, stream))
        await transport.publish(stream, envelope(2))
        await wait_until(lambda: seen == [1, 2])
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"{sub!r}: group is gone (UNBLOCKED the stream key no longer exists); recreating it"
    ]


async def test_replies_a_consumer_publishes_are_trimmed(redis_url: str, stream: str) -> None:
    """The transport trims the streams it writes to, the replies its consumers commit too."""
    transport = RedisStreamsTransport(
        redis_url, maxlen=5, trim_interval_s=0.02, approximate_trim=False
    )
    replies = f"{stream}.replies"
    answered: list[int] = []
    try:

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            answered.append(env.payload["i"])
            return [(replies, envelope(env.payload["i"]))]

        await transport.subscribe(stream, "g", "c", answers, ConsumerOptions(batch_size=4))
        await transport.publish_many([(stream, envelope(i)) for i in range(20)])
        await wait_until(lambda: len(answered) == 20)
        await wait_until(lambda: _pending(transport, stream, 0))
        # 20 replies were committed; the trimmer keeps the newest 5.
        await wait_until(lambda: _length_is(transport, replies, 5))
        newest: Any = await transport.client.xrevrange(replies, count=1)
        assert Envelope.from_json(newest[0][1][b"data"]).payload == {"i": 19}
    finally:
        await transport.close()


async def test_commits_run_the_loaded_script_by_its_hash(stream: str) -> None:
    """The commit script is sent once (EVAL, when Redis does not know it), then named by its
    SHA-1 (EVALSHA): a commit is one small round trip. On a private server, whose command
    counts are this test's alone."""
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server")
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        executable,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        stdout=subprocess.DEVNULL,
    )
    transport = RedisStreamsTransport(f"redis://127.0.0.1:{port}/0")
    try:
        await wait_until(transport.ping)
        replies = f"{stream}.replies"

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            return [(replies, envelope(env.payload["i"]))]

        await transport.subscribe(stream, "g", "c", answers)
        for i in range(5):  # one commit each
            await transport.publish(stream, envelope(i))
            await wait_until(lambda: _pending(transport, stream, 0))
        assert await transport.stream_length(replies) == 5
        stats = await transport.client.info("commandstats")
        assert stats["cmdstat_eval"]["calls"] == 1
        assert stats["cmdstat_evalsha"]["calls"] - stats["cmdstat_evalsha"]["failed_calls"] == 4
    finally:
        await transport.close()
        server.kill()
        await server.wait()


async def _blocked_reader(transport: RedisStreamsTransport, db: int) -> bool:
    """A client of this database blocked in XREADGROUP (the test's database is its own)."""
    clients = await transport.client.client_list()
    return any(
        c["cmd"] == "xreadgroup" and "b" in c["flags"] and int(c["db"]) == db for c in clients
    )


async def _group_exists(transport: RedisStreamsTransport, stream: str) -> bool:
    return bool(await transport.client.exists(stream)) and bool(
        await transport.client.xinfo_groups(stream)
    )


async def _length_is(transport: RedisStreamsTransport, stream: str, count: int) -> bool:
    return await transport.stream_length(stream) == count


async def _pending(transport: RedisStreamsTransport, stream: str, count: int) -> bool:
    return await transport.pending(stream, "g") == count


async def _dead_letter_count(transport: RedisStreamsTransport, stream: str, count: int) -> bool:
    return len(await transport.dead_letters(stream)) >= count


async def _consumers(transport: RedisStreamsTransport, stream: str, group: str) -> dict[str, int]:
    infos = await transport.client.xinfo_consumers(stream, group)
    return {info["name"].decode(): info["pending"] for info in infos}
