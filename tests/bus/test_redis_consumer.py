"""The Redis consumer's own rules (``bus._redis_consumer``), beyond the transport contract: how
long a commit that Redis does not take is retried, what stop gives up on, which consumer names
stop removes from the group, and RESP3 replies. On the test database of a real Redis; a link
that fails is the consumer's acknowledging connection made to raise what a lost connection
raises, for as long as the test says.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bus import ConsumerOptions, Envelope, Kind, RedisStreamsTransport, RejectEnvelope
from bus._redis_consumer import RedisSubscription
from bus.tasks import stop_within
from tests.fixtures.proxy import TcpProxy
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
    """Makes one of a subscription's links (``_acker_link``, ``_reader_link``) raise a lost
    connection while ``failing``."""

    def __init__(
        self, sub: RedisSubscription, monkeypatch: pytest.MonkeyPatch, link: str = "_acker_link"
    ) -> None:
        self.failing = True
        self.failures = 0
        self.while_stopping = 0
        target = getattr(sub, link)
        method = "call" if link == "_acker_link" else "call_packed"
        call = getattr(target, method)

        async def fails(*args: Any, **kwargs: Any) -> list[Any]:
            if self.failing:
                self.failures += 1
                self.while_stopping += sub._stopping
                raise RedisConnectionError("connection lost (test)")
            result: list[Any] = await call(*args, **kwargs)
            return result

        monkeypatch.setattr(target, method, fails)


async def subscribe(
    transport: RedisStreamsTransport, stream: str, handler: Any, **options: Any
) -> RedisSubscription:
    sub = await transport.subscribe(stream, "g", "c", handler, ConsumerOptions(**options))
    assert isinstance(sub, RedisSubscription)
    return sub


async def test_a_commit_is_retried_until_the_envelopes_deadline(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
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
    with caplog.at_level(logging.WARNING, logger="bus"):
        await wait_until(lambda: link.failures >= 8)  # well past the 3 quick attempts
    assert await transport.stream_length(replies) == 0
    assert [r.getMessage() for r in caplog.records if r.name == "bus._redis_consumer"] == [
        f"acker {stream}/g/c: connection lost (test) (attempt 1); retrying"
    ]
    link.failing = False
    await wait_until(lambda: _pending(transport, stream, 0))
    assert await transport.stream_length(replies) == 1
    assert sorted(calls) == [0, 1], "neither entry ran again"
    assert await transport.dead_letters(stream) == []


async def test_a_reader_that_loses_its_connection_backs_off_and_reads_on(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []

    async def record(env: Envelope) -> None:
        seen.append(env.payload["i"])

    sub = await subscribe(transport, stream, record, block_ms=100)
    with caplog.at_level(logging.INFO, logger="bus"):
        link = FailingLink(sub, monkeypatch, "_reader_link")
        await wait_until(lambda: link.failures >= 3)
        await transport.publish(stream, envelope(1))
        link.failing = False
        await wait_until(lambda: seen == [1])
    messages = [r.getMessage() for r in caplog.records if r.name == "bus._redis_consumer"]
    assert messages[0] == f"reader {stream}/g/c: connection lost (test) (attempt 1); retrying"
    assert messages[-1].startswith(f"reader {stream}/g/c: recovered after ")


async def test_acks_redis_refuses_are_dropped_and_said(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Acknowledgements held back by a lost connection, refused once it is back (the stream's
    key now holds something else), are dropped with a warning, not retried for ever."""
    seen: list[int] = []

    async def record(env: Envelope) -> None:
        seen.append(env.payload["i"])

    sub = await subscribe(transport, stream, record)
    link = FailingLink(sub, monkeypatch)
    await transport.publish(stream, envelope(1))
    await wait_until(lambda: seen == [1] and link.failures >= 1)
    with caplog.at_level(logging.WARNING, logger="bus._redis_consumer"):
        await transport.client.delete(stream)
        await transport.client.set(stream, "not a stream")
        link.failing = False
        await wait_until(
            lambda: any("dropped" in m for m in _logged(caplog, "bus._redis_consumer"))
        )
    dropped = [m for m in _logged(caplog, "bus._redis_consumer") if "dropped" in m]
    assert dropped == [
        f"{sub!r}: dropped 1 acks: WRONGTYPE Operation against a key holding the wrong kind "
        "of value"
    ]


async def test_a_reclaimer_that_loses_its_connection_backs_off_and_reclaims_on(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def fails_once(env: Envelope) -> None:
        runs.append(env.payload["i"])
        if len(runs) == 1:
            raise RuntimeError("again")  # pending: the reclaimer brings it back

    failures: list[int] = []
    xautoclaim = transport.client.xautoclaim

    async def lost(*args: Any, **kwargs: Any) -> Any:
        if len(failures) < 2:
            failures.append(1)
            raise RedisConnectionError("connection lost (test)")
        return await xautoclaim(*args, **kwargs)

    monkeypatch.setattr(transport.client, "xautoclaim", lost)
    with caplog.at_level(logging.WARNING, logger="bus._redis_consumer"):
        await subscribe(transport, stream, fails_once, visibility_timeout_s=0.2)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: runs == [1, 1])
    assert _logged(caplog, "bus._redis_consumer") == [
        f"reclaimer {stream}/g/c: connection lost (test) (attempt 1); retrying"
    ]


async def test_a_consumer_with_a_batch_of_one_reclaims(
    transport: RedisStreamsTransport, stream: str
) -> None:
    runs: list[int] = []

    async def fails_once(env: Envelope) -> None:
        runs.append(env.payload["i"])
        if len(runs) == 1:
            raise RuntimeError("again")

    await subscribe(transport, stream, fails_once, visibility_timeout_s=0.2, batch_size=1)
    await transport.publish(stream, envelope(1))
    await wait_until(lambda: runs == [1, 1])


async def test_the_reclaimer_stops_before_entries_are_released(
    transport: RedisStreamsTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Else it could take back an entry just released (a reclaimer fetches entries)."""
    started = asyncio.Event()

    async def hangs(env: Envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    sub = await subscribe(transport, stream, hangs)
    seen: list[bool] = []
    release = sub._release

    async def released(unstarted: list[Any], interrupted: list[Any]) -> None:
        seen.append(len(sub._fetchers) == 1 and sub._fetchers[0].done())
        await release(unstarted, interrupted)

    monkeypatch.setattr(sub, "_release", released)
    await transport.publish(stream, envelope(1))
    await asyncio.wait_for(started.wait(), 30)
    await sub.stop(drain=False)
    assert seen == [True]


async def test_a_commit_without_deadline_fails_after_a_few_attempts(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
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
    with caplog.at_level(logging.WARNING, logger="bus._consumer"):
        await transport.publish(stream, envelope(7))
        await wait_until(lambda: len(calls) == 2)
    await wait_until(lambda: _pending(transport, stream, 0))
    assert calls == [7, 7]
    assert link.failures == 3, "the first commit was tried 3 times, then given up"
    [failed] = [r for r in caplog.records if r.exc_info]
    assert failed.exc_info is not None
    assert str(failed.exc_info[1]) == f"cannot publish replies to {stream}: connection lost (test)"
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
    with caplog.at_level(logging.WARNING, logger="bus"):
        await sub.stop()
    assert link.while_stopping == 3
    # The worker whose replies were not published was told why (it counts a failed delivery).
    [failed] = [r for r in caplog.records if r.name == "bus._consumer" and r.exc_info]
    assert failed.exc_info is not None
    assert str(failed.exc_info[1]) == "not published on stop: connection lost (test)"
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
    assert quick not in transport._subscriptions  # the transport forgot it (on_stopped)
    await stuck.stop(drain=False)  # interrupted: released, but still pending on it
    assert await _consumers(transport, stream, "g2") == {"stuck": 1}


@pytest.mark.parametrize("protocol", [2, 3])
async def test_both_protocols_read_and_reclaim_entries(
    redis_url: str, stream: str, protocol: int
) -> None:
    """RESP2 answers XREADGROUP with a list, RESP3 with a map: entries, their data (found
    among other fields), and an entry without data (dead-lettered) read the same."""
    transport = RedisStreamsTransport(f"{redis_url}?protocol={protocol}")
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
        await transport.client.xadd(stream, {b"other": b"x", b"data": envelope(3).to_json()})
        await wait_until(lambda: sorted(seen) == [0, 1, 2, 3])
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
        # Dead letters too.
        for _ in range(10):
            await transport.publish_raw(stream, b"not an envelope")
        await wait_until(lambda: _length_is(transport, f"{stream}.dlq", 5))
    finally:
        await transport.close()


async def test_commits_call_the_loaded_function(stream: str) -> None:
    """A commit is one small round trip: an FCALL of the function the server loads, loaded
    by the consumer itself when Redis lacks it (restarted empty). On a private server, whose
    command counts are this test's alone."""
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
        assert stats["cmdstat_function|load"]["calls"] == 1
        assert stats["cmdstat_fcall"]["calls"] - stats["cmdstat_fcall"]["failed_calls"] == 5
        assert "cmdstat_eval" not in stats and "cmdstat_evalsha" not in stats
        # The reclaimer looks every 2 s here (a quarter of the visibility timeout, at most
        # 2 s), not in a loop: a few XAUTOCLAIMs at most over this test.
        assert stats.get("cmdstat_xautoclaim", {"calls": 0})["calls"] < 20
    finally:
        await transport.close()
        server.kill()
        await server.wait()


async def test_a_dead_letter_is_written_with_its_acknowledgement_or_not_at_all(
    stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The DLQ entry and the acknowledgement go in one script: a Redis out of memory
    refuses the DLQ entry, so the acknowledgement does not happen either, and the entry is
    dead-lettered on a later delivery. On a private server (its memory limit is changed)."""
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server")
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *(executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
        stdout=subprocess.DEVNULL,
    )
    transport = RedisStreamsTransport(f"redis://127.0.0.1:{port}/0")
    try:
        await wait_until(transport.ping)
        calls: list[int] = []

        async def rejects(env: Envelope) -> None:
            calls.append(env.payload["i"])
            if len(calls) == 1:
                await transport.client.config_set("maxmemory", 1)  # writes refused: OOM
            raise RejectEnvelope("not for us")

        with caplog.at_level(logging.WARNING, logger="bus._redis_consumer"):
            sub = await subscribe(transport, stream, rejects, visibility_timeout_s=0.2)
            entry = await transport.publish(stream, envelope(1))
            await wait_until(lambda: _logged(caplog, "bus._redis_consumer"))
        [warning] = _logged(caplog, "bus._redis_consumer")
        assert warning.startswith(
            f"{sub!r}: could not dead-letter {entry} (rejected: not for us): "
        )
        assert "command not allowed when used memory > 'maxmemory'" in warning
        assert await transport.pending(stream, "g") == 1, "not acknowledged either"
        assert await transport.client.xlen(f"{stream}.dlq") == 0
        await transport.client.config_set("maxmemory", 0)
        await wait_until(lambda: _pending(transport, stream, 0))
        [dead] = await transport.dead_letters(stream)
        assert dead.reason == "rejected: not for us" and calls == [1, 1]
    finally:
        await transport.close()
        server.kill()
        await server.wait()


async def test_a_commit_refused_for_memory_is_kept_and_retried_not_run_again(
    stream: str,
) -> None:
    """Redis at ``maxmemory`` (noeviction) refuses the commit's XADD with OOM: that is Redis
    full for now, not a reply it will never take. The commit is retried until the envelope's
    deadline, like an unreachable Redis, and goes out once memory is freed; the handler is
    not run again. (It failed the delivery at once: an agent spilled its result to a file
    and the task ran again elsewhere after the visibility timeout, 35 re-executions and
    refused answers in 25 s of a full Redis under load.) On a private server."""
    executable = shutil.which("redis-server")
    if executable is None:
        missing("redis-server")
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *(executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
        stdout=subprocess.DEVNULL,
    )
    transport = RedisStreamsTransport(
        f"redis://127.0.0.1:{port}/0", reconnect_base_s=0.01, reconnect_cap_s=0.2
    )
    try:
        await wait_until(transport.ping)
        replies = f"{stream}.replies"
        calls: list[int] = []

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            calls.append(env.payload["i"])
            if len(calls) == 1:
                await transport.client.config_set("maxmemory", 1)  # writes refused: OOM
            return [(replies, envelope(env.payload["i"]))]

        await subscribe(transport, stream, answers, visibility_timeout_s=0.2)
        deadline = datetime.now(UTC) + timedelta(seconds=120)
        await transport.publish(stream, envelope(1, deadline=deadline))
        await wait_until(lambda: len(calls) == 1)
        await asyncio.sleep(2)  # past the commit's quick attempts and the visibility timeout
        await transport.client.config_set("maxmemory", 0)
        await wait_until(lambda: _pending(transport, stream, 0))
        assert await transport.stream_length(replies) == 1
        assert calls == [1]
    finally:
        await transport.close()
        server.kill()
        await server.wait()


async def test_a_dead_letter_refused_at_run_time_leaves_the_entry_pending(
    transport: RedisStreamsTransport, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A DLQ key of the wrong type fails the XADD when it runs (WRONGTYPE), which MULTI/EXEC
    would not stop from acknowledging the entry: it would be gone from both streams. It stays
    pending, and is dead-lettered once the key is usable."""
    await transport.client.set(f"{stream}.dlq", "not a stream")

    async def rejects(env: Envelope) -> None:
        raise RejectEnvelope("not for us")

    with caplog.at_level(logging.WARNING, logger="bus._redis_consumer"):
        await subscribe(transport, stream, rejects, visibility_timeout_s=0.2)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: _logged(caplog, "bus._redis_consumer"))
    assert "WRONGTYPE" in _logged(caplog, "bus._redis_consumer")[0]
    assert await transport.pending(stream, "g") == 1, "not acknowledged"
    await transport.client.delete(f"{stream}.dlq")
    await wait_until(lambda: _pending(transport, stream, 0))
    [dead] = await transport.dead_letters(stream)
    assert dead.reason == "rejected: not for us"


def _logged(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


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


async def test_stopping_with_redis_frozen_says_why_once_per_consumer_and_loses_nothing(
    redis_url: str,
    transport: RedisStreamsTransport,
    stream: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two consumers, each with a handler running and two entries buffered, reach Redis
    through a proxy that stops answering. Stopping them gives up at the stop's deadline: one
    line each names the outage, with no traceback. Every entry is still pending in Redis, and
    another consumer gets them all."""
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379, free_port())
    await proxy.restore()
    through = RedisStreamsTransport(f"redis://127.0.0.1:{proxy.port}{target.path}")
    names = [stream, f"{stream}.b"]

    async def hangs(env: Envelope) -> None:
        await asyncio.Event().wait()

    try:
        subs = [
            await subscribe(through, name, hangs, concurrency=1, visibility_timeout_s=0.2)
            for name in names
        ]
        for name in names:
            await transport.publish_many([(name, envelope(i)) for i in range(3)])
        await wait_until(lambda: all(s.in_flight == 1 and len(s._buffer) == 2 for s in subs))
        proxy.freeze()
        with caplog.at_level(logging.WARNING, logger="bus"), stop_within(0.5):
            await asyncio.gather(*(sub.stop(drain=False) for sub in subs))
    finally:
        await proxy.cut()
        await through.close()
    assert [r for r in caplog.records if r.exc_info] == []
    messages = sorted(r.getMessage() for r in caplog.records)
    assert len(messages) == 2
    for sub, message in zip(sorted(subs, key=repr), messages, strict=True):
        assert re.fullmatch(
            rf"{re.escape(repr(sub))}: settling entries on stop failed: TimeoutError after "
            r"[0-9.]+ s \(the stop's deadline\), Redis unreachable",
            message,
        )
    seen: list[tuple[str, int]] = []
    for name in names:
        assert await transport.pending(name, "g") == 3

        async def takes(env: Envelope, name: str = name) -> None:
            seen.append((name, env.payload["i"]))

        await transport.subscribe(name, "g", "c2", takes, ConsumerOptions(visibility_timeout_s=0.2))
    await wait_until(lambda: len(seen) == 6)
    assert sorted(seen) == [(name, i) for name in names for i in range(3)]


async def test_an_unexpected_error_in_cleanup_on_stop_keeps_its_traceback(
    transport: RedisStreamsTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis answers, but the cleanup has a bug: its one line comes with the traceback."""

    async def handler(env: Envelope) -> None:
        return None

    sub = await subscribe(transport, stream, handler)

    async def broken() -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(sub, "_after_stop", broken)
    with caplog.at_level(logging.WARNING, logger="bus"):
        await sub.stop()
    [record] = caplog.records
    assert record.getMessage() == f"{sub!r}: cleanup on stop failed: ValueError: a bug"
    assert record.exc_info is not None and str(record.exc_info[1]) == "a bug"
