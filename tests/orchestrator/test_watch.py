"""Run wake-ups: one shared interest per run, and notices between replicas over Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable

import pytest

from bus.envelope import Envelope, Kind
from bus.factory import create_transport
from bus.redis_client import RedisClient, connect
from bus.redis_streams import RedisStreamsTransport
from services.orchestrator.ownership import partition_of
from services.orchestrator.watch import Commit, Feed, RunNotices, RunWatch
from tests.fixtures.services import wait_until


async def test_waiters_on_one_run_share_one_interest_and_wake_together() -> None:
    watch = RunWatch()
    woken: list[bool] = []

    async def waiter() -> None:
        with watch.on_finish("r1") as finished:
            woken.append(await finished.wait(60))

    tasks = [asyncio.create_task(waiter()) for _ in range(50)]
    await wait_until(lambda: len(watch._on_finish) == 1 and watch._on_finish["r1"].count == 50)
    await watch.notify(["r2"], [])  # another run's change wakes nobody here
    await watch.notify(["r1"], ["r1"])
    await asyncio.gather(*tasks)
    assert woken == [True] * 50
    assert watch._on_finish == {}  # the last waiter out drops the interest


async def test_a_change_before_the_wait_is_not_missed() -> None:
    watch = RunWatch()
    with watch.on_change("r1") as changed:
        await watch.notify(["r1"])  # as if committed between the caller's read and its wait
        assert await changed.wait(60)


def _commit(version: int, *ids: int) -> Commit:
    return Commit(version, "running", tuple({"id": i, "run_id": "r1"} for i in ids))


async def test_a_stream_gets_this_process_commits_of_its_run_in_order() -> None:
    watch = RunWatch()
    with watch.follow("r1") as feed:
        await watch.notify(["r1", "r2"], [], None, {"r1": _commit(4, 10, 11), "r2": None})
        await watch.notify(["r1"], [], None, {"r1": _commit(5, 12)})
        assert await feed.wait(60)
        assert feed.take() == ([_commit(4, 10, 11), _commit(5, 12)], False)
        # A transaction that wrote nothing to the run (no new version) brings nothing.
        await watch.notify(["r1"], [], None, {})
        assert not await feed.wait(0.01)
        assert feed.take() == ([], False)
    assert watch._feeds == {}  # the last stream out drops the run


async def test_a_stream_reads_when_its_commits_may_not_be_all() -> None:
    watch = RunWatch()
    with watch.follow("r1") as feed:
        await watch.wake(["r1"])  # another replica's notice: no events came with it
        assert feed.take() == ([], True)
        await watch.notify(["r1"], [], None, {"r1": None})  # events without ids
        assert feed.take() == ([], True)
        await watch.notify(["r1"], [], None, {"r1": _commit(2, 5)})
        await watch.wake_all()  # notices may have been lost
        await watch.notify(["r1"], [], None, {"r1": _commit(3, 6)})
        assert feed.take() == ([], True)  # the read covers what came before and with it
        for version in range(Feed.MAX_QUEUED + 1):  # a stream that does not keep up
            await watch.notify(["r1"], [], None, {"r1": _commit(version, version)})
        assert feed.take() == ([], True)


@contextlib.asynccontextmanager
async def _replicas(
    clients: list[RedisClient], *, linger_s: float = 30.0
) -> AsyncIterator[tuple[list[RunWatch], list[RunNotices]]]:
    """A ``RunWatch`` and its ``RunNotices`` per client (a replica each), on a channel of their
    own, started; stopped at the end (the clients are the caller's to close)."""
    channel = f"test:runs:{uuid.uuid4().hex}"
    watches = [RunWatch() for _ in clients]
    notices = [
        RunNotices(c, w, channel, partitions=12, linger_s=linger_s)
        for c, w in zip(clients, watches, strict=True)
    ]
    for n in notices:
        n.start()
    try:
        yield watches, notices
    finally:
        for n in notices:
            await n.stop()


@pytest.mark.parametrize("server", ["redis_url", "redis_cluster_url"])
async def test_a_finish_on_one_replica_wakes_waiters_on_another(
    server: str, request: pytest.FixtureRequest
) -> None:
    """On one Redis, and on a Redis Cluster (whose nodes pass PUBLISH on to each other)."""
    url = request.getfixturevalue(server)
    clients = [connect(url), connect(url)]
    try:
        async with _replicas(clients) as (watches, notices):
            # The subscriptions' confirmations wake each waiter once (to read again): let them.
            with watches[1].on_finish("r1") as finished, watches[1].on_change("r2") as changed:
                assert await finished.wait(60) and await changed.wait(60)
            listened = [  # still subscribed: the channels linger after their last waiter
                notices[1].channel_of(partition_of("r1", 12), finishes=True),
                notices[1].channel_of(partition_of("r2", 12)),
            ]
            with watches[1].on_finish("r1") as finished, watches[1].on_change("r2") as changed:
                # Garbage on the channels is ignored: it wakes nobody, nor breaks the listener
                # (whose new subscription would wake every waiter of the partition).
                for channel in listened:
                    for junk in (b"x", b"0" * 32 + b"{not json", b"1" * 32 + b'{"c": 5}'):
                        await clients[0].publish(channel, junk)
                await watches[0].notify(["r2"], [])
                assert await changed.wait(60)
                assert not finished._future.done()
                await watches[0].notify(["r1"], ["r1"])
                assert await finished.wait(60)
    finally:
        for c in clients:
            await c.aclose()


async def test_a_replica_listens_only_on_the_partitions_it_waits_on(redis_url: str) -> None:
    """Notices go to the run's partition channel; a replica subscribes to it while someone there
    waits on one of its runs, and not otherwise (before, every replica received every notice).
    A subscription that was not confirmed yet cannot lose a change: its confirmation makes the
    partition's waiters read again."""
    clients = [connect(redis_url), connect(redis_url)]
    waited, other = (
        "run-a",
        next(
            f"run-{i}"
            for i in range(100)
            if partition_of(f"run-{i}", 12) != partition_of("run-a", 12)
        ),
    )

    async def listeners(run_id: str) -> int:
        name = notices[1].channel_of(partition_of(run_id, 12), finishes=True)
        [(_, count)] = await clients[0].pubsub_numsub(name)
        return int(count)

    try:
        async with _replicas(clients, linger_s=0.0) as (watches, notices):
            assert await listeners(waited) == 0
            with watches[1].on_finish(waited) as first:
                await wait_until(lambda: listeners(waited), timeout=30)
                assert await first.wait(30)  # the confirmation: read the run again
            await wait_until(lambda: _zero(listeners(waited)), timeout=30)  # nobody waits: left
            with watches[1].on_finish(waited) as confirmed:
                await wait_until(lambda: listeners(waited), timeout=30)
                assert await confirmed.wait(30)
                with watches[1].on_finish(waited) as finished:
                    assert not finished._future.done()
                    await watches[0].notify(["run-x", other], [])  # not this partition's run
                    assert await listeners(other) == 0
                    await watches[0].notify([waited], [waited])
                    assert await finished.wait(30)
    finally:
        for c in clients:
            await c.aclose()


async def _zero(count: Awaitable[int]) -> bool:
    return await count == 0


async def test_notices_sent_with_the_tasks_publish_wake_waiters_on_another_replica(
    redis_url: str,
) -> None:
    """After a commit, the writer sends the other replicas' notices in the round trip that
    publishes the commit's tasks (``RunNotices.messages`` through ``publish_unique``), and
    ``notify(told=True)`` queues no round trip of their own."""
    transport = create_transport(redis_url)
    assert isinstance(transport, RedisStreamsTransport)
    other = connect(redis_url)
    stream = f"test.tasks.{uuid.uuid4().hex}"
    task = Envelope(kind=Kind.TASK, topic="t.x", sender="orchestrator", payload={})
    try:
        async with _replicas([transport.client, other]) as (watches, notices):
            with watches[1].on_finish("r1") as finished:
                await wait_until(
                    lambda: notices[1].subscribed.is_set() and bool(notices[1]._listening)
                )
                await finished.wait(30)  # the subscription's confirmation: a read
            with watches[1].on_finish("r1") as finished:
                messages = notices[0].messages(["r1"], ["r1"])
                await transport.publish_unique([(stream, task)], 60, notices=messages)
                await watches[0].notify(["r1"], ["r1"], told=True)
                assert notices[0]._changed == notices[0]._finished == {}  # nothing queued
                assert await finished.wait(30)
            assert await transport.stream_length(stream) == 1
    finally:
        await other.aclose()
        await transport.close()


async def test_a_long_poll_listens_to_finishes_only_and_a_stream_to_every_change(
    redis_url: str,
) -> None:
    """A replica where someone long-polls a run (``on_finish``) listens on its partition's
    channel of finishes only: the run's steps, committed by any replica (this one too: its
    own notices came back to it), wake nobody there. Event streams and ``on_change`` waiters
    listen to every change, finishes included."""
    clients = [connect(redis_url), connect(redis_url)]
    try:
        async with _replicas(clients, linger_s=0.0) as (watches, notices):
            partition = partition_of("r1", 12)
            every, ends = (notices[1].channel_of(partition, finishes=f) for f in (False, True))

            async def listeners() -> tuple[int, int]:
                counts = dict(await clients[0].pubsub_numsub(every, ends))
                return int(counts[every.encode()]), int(counts[ends.encode()])

            with watches[1].on_finish("r1") as finished:
                await wait_until(lambda: _equal(listeners(), (0, 1)), timeout=30)
                await finished.wait(30)  # the subscription's confirmation: a read
            with watches[1].on_finish("r1") as finished:
                await watches[0].notify(["r1"], [])  # a step: on the channel of every change
                await wait_until(lambda: not notices[0]._changed)
                assert await listeners() == (0, 1)
                await watches[0].notify(["r1"], ["r1"])
                assert await finished.wait(30)
            await wait_until(lambda: _equal(listeners(), (0, 0)), timeout=30)
            with watches[1].follow("r1") as feed, watches[1].on_change("r1") as changed:
                await wait_until(lambda: _equal(listeners(), (1, 0)), timeout=30)
                await watches[0].notify(["r1"], ["r1"])
                assert await changed.wait(30)
                assert await feed.wait(30)
    finally:
        for c in clients:
            await c.aclose()


async def _equal(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def test_stop_ends_a_sender_whose_client_swallowed_the_cancel(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py 8.2's pipeline can return normally when cancelled while it reconnects (seen
    as a shutdown hung for 300 s in CI, after a Redis outage): the send loop went back to
    waiting for notices, and ``stop`` waited on it for ever. It is cancelled again now."""
    import services.orchestrator.watch as watch_module

    sending = asyncio.Event()

    async def publish_swallowing_a_cancel(client: RedisClient, messages: object) -> None:
        sending.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()  # a reconnect in progress, that eats the cancel

    monkeypatch.setattr(watch_module, "publish_all", publish_swallowing_a_cancel)
    client = connect(redis_url)
    notices = RunNotices(client, RunWatch(), f"test:runs:{uuid.uuid4().hex}")
    notices.start()
    try:
        notices.send(["r1"], [])
        await sending.wait()
        stopping = asyncio.create_task(notices.stop())
        done, _ = await asyncio.wait({stopping}, timeout=60)  # a hang, not a time limit
        assert stopping in done and stopping.exception() is None
    finally:
        await client.aclose()
