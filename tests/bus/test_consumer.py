"""The consumer loop's own rules (``bus._consumer``), beyond the transport contract: options
below one, stop when a draining stop is overtaken or the store cannot settle, replies the store
refused handed to ``on_unsent``, and what the loop logs. On the in-memory transport; a store
that fails is that transport with one storage hook made to fail."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from bus import ConsumerOptions, Envelope, Kind, MemoryTransport
from bus._consumer import BaseSubscription, Delivery
from bus.errors import PublishError
from bus.tasks import cancel_and_wait, stop_within
from bus.transport import Reply
from tests.fixtures.services import wait_until


def envelope(i: int) -> Envelope:
    return Envelope(kind=Kind.TASK, topic="test", sender="tester", payload={"i": i})


@pytest.fixture
async def transport() -> Any:
    made = MemoryTransport()
    yield made
    await made.close()


@pytest.fixture
def stream() -> str:
    return f"modx.test.{uuid.uuid4().hex[:8]}"


def loops_left() -> list[str]:
    """Names of the subscriptions' tasks still running."""
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("bus")]


async def test_options_below_one_are_refused(transport: MemoryTransport, stream: str) -> None:
    async def handler(env: Envelope) -> None:
        return None

    for options in (
        ConsumerOptions(max_deliveries=0),
        ConsumerOptions(concurrency=0),
        ConsumerOptions(batch_size=0),
    ):
        with pytest.raises(ValueError, match=r"^max_deliveries, concurrency and batch_size must"):
            await transport.subscribe(stream, "g", "c", handler, options)
    sub = await transport.subscribe(
        stream, "g", "c", handler, ConsumerOptions(max_deliveries=1, concurrency=1, batch_size=1)
    )
    assert repr(sub) == f"<MemorySubscription {stream} group=g consumer=c>"
    await sub.stop()


async def test_a_task_that_swallows_a_cancel_is_cancelled_again() -> None:
    """Client libraries can turn a cancel into a timeout and carry on: ``cancel_and_wait``
    cancels again until the task has ended."""
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancels += 1
                if cancels == 2:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await cancel_and_wait([task])
    assert task.cancelled() and cancels == 2


async def test_stop_without_draining_overtakes_a_draining_stop(
    transport: MemoryTransport, stream: str
) -> None:
    """The handler never ends: a draining stop waits for it; a stop(drain=False) meanwhile
    cancels it, both return, the entry goes back counting its delivery, and no loop is left."""
    started = asyncio.Event()

    async def hangs(env: Envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    sub = await transport.subscribe(stream, "g", "c1", hangs, ConsumerOptions(max_deliveries=1))
    await transport.publish(stream, envelope(1))
    await asyncio.wait_for(started.wait(), 30)
    draining = asyncio.create_task(sub.stop())
    # The draining stop has stopped reading: from here on it only waits for the handler.
    reader = sub._reader if isinstance(sub, BaseSubscription) else None
    await wait_until(lambda: reader is not None and reader.done())
    assert not draining.done()
    await sub.stop(drain=False)
    await draining  # returns, not cancelled
    assert loops_left() == []
    assert sub not in transport._subscriptions  # the transport forgot it (on_stopped)
    record: list[int] = []

    async def takes(env: Envelope) -> None:
        record.append(env.payload["i"])

    await transport.subscribe(stream, "g", "c2", takes, ConsumerOptions(max_deliveries=1))
    await wait_until(lambda: transport.dead_letters(stream))
    [dead] = await transport.dead_letters(stream)
    assert dead.deliveries == 2 and record == []


async def test_stop_leaves_no_loop_running(transport: MemoryTransport, stream: str) -> None:
    async def handler(env: Envelope) -> None:
        return None

    options = ConsumerOptions(block_ms=60_000, concurrency=3)
    sub = await transport.subscribe(stream, "g", "c", handler, options)
    await asyncio.sleep(0)
    name = f"{stream}/g/c"  # named for a task dump
    assert sorted(loops_left()) == [f"bus-reader {name}", *[f"bus-worker {name}"] * 3]
    await sub.stop()
    assert loops_left() == []


async def test_a_reclaimer_has_no_room_while_paused_or_stopping(
    transport: MemoryTransport, stream: str
) -> None:
    """``_room`` is what a transport's reclaimer may take into the buffer: a batch, never past
    the buffer's capacity, and nothing while the subscription is paused or stopping."""

    async def handler(env: Envelope) -> None:
        return None

    sub = await transport.subscribe(stream, "g", "c", handler, ConsumerOptions(batch_size=4))
    assert isinstance(sub, BaseSubscription)
    assert sub._room() == 4
    sub.pause()
    assert sub._room() == 0
    sub.resume()
    assert sub._room() == 4
    await sub.stop()
    assert sub._room() == 0 and not sub.paused


async def test_a_store_that_cannot_settle_on_stop_does_not_hang_it(
    transport: MemoryTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The release never ends: the stop gives up at its deadline, says so once (with the
    traceback: an in-memory store that hangs is a bug, not an outage), and does not ask the
    store again to clean up."""
    started = asyncio.Event()

    async def hangs(env: Envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    sub = await transport.subscribe(stream, "g", "c1", hangs)
    cleaned: list[bool] = []

    async def unreachable(*args: Any) -> None:
        await asyncio.Event().wait()

    async def after_stop() -> None:
        cleaned.append(True)

    monkeypatch.setattr(sub, "_release", unreachable)
    monkeypatch.setattr(sub, "_after_stop", after_stop)
    await transport.publish(stream, envelope(1))
    await asyncio.wait_for(started.wait(), 30)
    with caplog.at_level(logging.WARNING, logger="bus._consumer"), stop_within(0.2):
        await sub.stop(drain=False)
    assert sub not in transport._subscriptions
    [(message, traceback)] = [(r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert re.fullmatch(
        rf"{re.escape(repr(sub))}: settling entries on stop failed: TimeoutError after "
        r"[0-9.]+ s \(the stop's deadline\)",
        message,
    )
    assert traceback and cleaned == []


async def test_a_draining_stop_interrupts_the_handlers_still_running_at_its_deadline(
    transport: MemoryTransport, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Part of a bounded stop (a process shutting down), a draining stop waits for running
    handlers until the deadline, then interrupts them: their entries go back, nothing lost."""
    started = asyncio.Event()

    async def hangs(env: Envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    sub = await transport.subscribe(stream, "g", "c1", hangs)
    await transport.publish(stream, envelope(1))
    await asyncio.wait_for(started.wait(), 30)
    with caplog.at_level(logging.WARNING, logger="bus._consumer"), stop_within(0.2):
        await sub.stop(drain=True)
    assert [(r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        (
            f"{sub!r}: 1 handler(s) still running at the stop's deadline: interrupted, their "
            "entries stay pending for redelivery",
            False,
        )
    ]
    seen: list[int] = []

    async def takes(env: Envelope) -> None:
        seen.append(env.payload["i"])

    await transport.subscribe(stream, "g", "c2", takes)
    await wait_until(lambda: seen == [1])


async def test_a_failing_handler_is_logged_retried_then_dead_lettered(
    transport: MemoryTransport, stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def fails(env: Envelope) -> None:
        raise ValueError("boom")

    options = ConsumerOptions(visibility_timeout_s=0.05, max_deliveries=2)
    with caplog.at_level(logging.WARNING, logger="bus._consumer"):
        sub = await transport.subscribe(stream, "g", "c", fails, options)
        entry = await transport.publish(stream, envelope(1))
        await wait_until(lambda: transport.dead_letters(stream))
    [dead] = await transport.dead_letters(stream)
    assert dead.reason == "handler failed 2 times; last error: ValueError('boom')"
    records = [(r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert records == [
        (f"{sub!r}: handler failed on {entry} (delivery 1 of 2); will retry", True),
        (f"{sub!r}: dead-lettering {entry}: {dead.reason}", False),
    ]


async def test_replies_the_store_refused_go_to_on_unsent_and_the_entry_is_retried(
    transport: MemoryTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    replies_stream = f"{stream}.replies"
    unsent: list[list[int]] = []
    refusals = 0

    async def keep(replies: Sequence[Reply]) -> None:
        unsent.append([env.payload["i"] for _, env in replies])
        if len(unsent) == 2:
            raise OSError("disk full")

    failed: list[int] = []

    async def answers(env: Envelope) -> list[Reply] | None:
        i = env.payload["i"]
        if i < 0:
            if not failed:
                failed.append(i)
                raise RuntimeError("no answer")  # no replies: nothing to hand over
            return None
        return [(replies_stream, envelope(i * 10)), (replies_stream, envelope(i * 10 + 1))]

    options = ConsumerOptions(visibility_timeout_s=0.05, max_deliveries=5, on_unsent=keep)
    sub = await transport.subscribe(stream, "g", "c", answers, options)
    commit = sub._commit  # type: ignore[attr-defined]

    async def refuses_twice(delivery: Any, replies: Sequence[Reply]) -> None:
        nonlocal refusals
        if refusals < 2:
            refusals += 1
            raise PublishError("store unreachable")
        await commit(delivery, replies)

    monkeypatch.setattr(sub, "_commit", refuses_twice)
    published: list[int] = []

    async def reads(env: Envelope) -> None:
        published.append(env.payload["i"])

    await transport.subscribe(replies_stream, "r", "c", reads)
    with caplog.at_level(logging.ERROR, logger="bus._consumer"):
        await transport.publish(stream, envelope(-1))
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: published == [10, 11])
        await wait_until(lambda: _settled(transport, stream))
    # Each refused commit handed its replies over (the second hand-over failed, and said so);
    # the failing handler had none to hand over.
    assert unsent == [[10, 11], [10, 11]]
    assert [(r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        (f"{sub!r}: on_unsent failed; 2 replies are lost", True)
    ]
    assert await transport.dead_letters(stream) == []


async def _settled(transport: MemoryTransport, stream: str) -> bool:
    return await transport.pending(stream, "g") == 0


async def test_the_buffer_is_refilled_at_half_and_never_over_capacity(
    transport: MemoryTransport, stream: str
) -> None:
    """batch_size 4, one worker: the reader holds at most 4 entries, and asks for more once
    the buffer is down to 2 (the next batch is on its way while the worker runs)."""
    gates = [asyncio.Event() for _ in range(10)]
    running: list[int] = []

    async def gated(env: Envelope) -> None:
        i = env.payload["i"]
        running.append(i)
        await gates[i].wait()

    await transport.publish_many([(stream, envelope(i)) for i in range(10)])
    sub = await transport.subscribe(stream, "g", "c", gated, ConsumerOptions(batch_size=4))
    await wait_until(lambda: running == [0])
    assert await transport.pending(stream, "g") == 4  # 0 running, 1-3 buffered
    gates[0].set()
    await wait_until(lambda: running == [0, 1])
    # Down to 2 buffered: 2 more fetched (4 - 2 of room), 0 acknowledged.
    # (One fetch takes them at once: a larger one would never show 5.) The buffer is full
    # again, so the reader waits for room.
    await wait_until(lambda: _pending_is(transport, stream, 5))
    assert sub.in_flight == 1
    for gate in gates:
        gate.set()
    await wait_until(lambda: len(running) == 10)
    await wait_until(lambda: _pending_is(transport, stream, 0))
    assert running == list(range(10)) and sub.in_flight == 0


async def test_a_batch_of_one_and_workers_that_run_together(
    transport: MemoryTransport, stream: str
) -> None:
    together = asyncio.Barrier(2)
    seen: list[int] = []

    async def meets(env: Envelope) -> None:
        await together.wait()  # both entries must be running at once
        seen.append(env.payload["i"])

    options = ConsumerOptions(batch_size=2, concurrency=2)
    await transport.subscribe(stream, "g", "pair", meets, options)
    await transport.publish_many([(stream, envelope(i)) for i in range(4)])
    await wait_until(lambda: len(seen) == 4)
    one: list[int] = []

    async def takes(env: Envelope) -> None:
        one.append(env.payload["i"])

    await transport.subscribe(stream, "single", "c", takes, ConsumerOptions(batch_size=1))
    await wait_until(lambda: len(one) == 4)
    assert sorted(seen) == one == [0, 1, 2, 3]


async def test_a_storage_hook_that_fails_is_logged_and_the_worker_goes_on(
    transport: MemoryTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []

    async def handler(env: Envelope) -> None:
        seen.append(env.payload["i"])

    sub = await transport.subscribe(stream, "g", "c", handler)
    dead_letter = sub._dead_letter  # type: ignore[attr-defined]
    failures: list[str] = []

    async def fails_once(delivery: Any, reason: str) -> None:
        if not failures:
            failures.append(delivery.id)
            raise ConnectionError("store gone")
        await dead_letter(delivery, reason)

    monkeypatch.setattr(sub, "_dead_letter", fails_once)
    with caplog.at_level(logging.ERROR, logger="bus._consumer"):
        await transport.publish_raw(stream, b"not json")
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: seen == [1])
    assert [(r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        (f"{sub!r}: failed to process entry {failures[0]}", True)
    ]


async def _pending_is(transport: MemoryTransport, stream: str, count: int) -> bool:
    return await transport.pending(stream, "g") == count


async def test_background_loops_stop_in_order_with_the_subscription(
    transport: MemoryTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transport's extra loops (``_spawn``): one that fetches entries (a reclaimer) stops
    before entries are released, the others (an acknowledger) after the final flush."""
    order: list[str] = []

    async def runner() -> None:
        return None

    sub = await transport.subscribe(stream, "g", "c", lambda env: runner())
    assert isinstance(sub, BaseSubscription)

    async def loop(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            order.append(f"{name} stopped")

    async def flush() -> None:
        order.append("flush")

    monkeypatch.setattr(sub, "_flush", flush)
    fetcher = sub._spawn(loop("reclaimer"), fetches=True)
    other = sub._spawn(loop("acknowledger"))
    assert fetcher.get_name() == other.get_name() == f"bus {stream}/g/c"
    await asyncio.sleep(0)
    await sub.stop()
    assert order == ["reclaimer stopped", "flush", "acknowledger stopped"]
    assert fetcher.done() and other.done()


async def test_entries_a_reclaimer_brings_are_run_once_and_late_ones_are_released(
    transport: MemoryTransport, stream: str
) -> None:
    """A reclaimer can bring back entries this consumer still holds: each runs once, and the
    others of the batch still run. Entries brought while stopping are released with it."""
    gate = asyncio.Event()
    runs: list[int] = []

    async def gated(env: Envelope) -> None:
        runs.append(env.payload["i"])
        await gate.wait()

    await transport.publish_many([(stream, envelope(i)) for i in range(3)])
    sub = await transport.subscribe(stream, "g", "c", gated, ConsumerOptions(batch_size=2))
    assert isinstance(sub, BaseSubscription)
    await wait_until(lambda: runs == [0])
    held = [sub._held[key] for key in sorted(sub._held)]
    new = Delivery(id="999", data=envelope(7).to_json(), deliveries=1)
    sub._push([*held, new])  # entries it holds, then one it does not
    gate.set()
    await wait_until(lambda: len(runs) == 4)
    await wait_until(lambda: sub.in_flight == 0)
    assert sorted(runs) == [0, 1, 2, 7]
    # While stopping: a late batch is kept apart, then released (not run).
    late = Delivery(id="4", data=envelope(9).to_json(), deliveries=1)
    sub._stopping = True
    sub._push([late])
    assert sub._late == [late] and len(runs) == 4


async def test_a_commit_learns_the_deadline_and_an_answered_entry_is_not_interrupted(
    transport: MemoryTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the storage hooks are told: ``_commit`` how long its replies are worth retrying
    (the envelope's deadline), and ``_release`` on stop only entries whose handler was
    interrupted, not one whose replies were being published (``_flush`` settles that)."""
    replies_stream = f"{stream}.replies"

    async def answers(env: Envelope) -> list[Reply]:
        return [(replies_stream, envelope(env.payload["i"]))]

    sub = await transport.subscribe(stream, "g", "c", answers)
    assert isinstance(sub, BaseSubscription)
    deadlines: list[float | None] = []
    answered: list[bool] = []
    stuck = asyncio.Event()
    released: list[tuple[list[str], list[str]]] = []

    async def slow_commit(delivery: Any, replies: Sequence[Reply]) -> None:
        deadlines.append(delivery.deadline)
        answered.append(delivery.answered)
        if len(deadlines) == 3:  # the store stops answering
            stuck.set()
            await asyncio.Event().wait()

    async def release(unstarted: list[Delivery], interrupted: list[Delivery]) -> None:
        released.append(([d.id for d in unstarted], [d.id for d in interrupted]))

    monkeypatch.setattr(sub, "_commit", slow_commit)
    monkeypatch.setattr(sub, "_release", release)
    until = datetime.now(UTC) + timedelta(hours=1)
    await transport.publish(stream, envelope(1).model_copy(update={"deadline": until}))
    await transport.publish(stream, envelope(2))
    await transport.publish(stream, envelope(3))
    await asyncio.wait_for(stuck.wait(), 30)
    assert deadlines[:2] == [until.timestamp(), None] and answered == [True, True, True]
    await sub.stop(drain=False)
    assert released == []  # the one being committed was answered: not released


async def test_entries_arriving_one_by_one_are_fetched_while_the_buffer_is_half_empty(
    transport: MemoryTransport, stream: str
) -> None:
    """batch_size 4 (2 is half): with the one worker busy, the reader keeps fetching until the
    buffer holds more than 2 entries."""
    gate = asyncio.Event()
    running: list[int] = []

    async def gated(env: Envelope) -> None:
        running.append(env.payload["i"])
        await gate.wait()

    await transport.subscribe(stream, "g", "c", gated, ConsumerOptions(batch_size=4))
    for i in range(5):
        await transport.publish(stream, envelope(i))
        await wait_until(lambda: running == [0])
        # 0 runs; 1..i wait in the buffer, up to 3 (more than half): then the reader waits.
        held = min(i, 3) + 1
        await wait_until(partial(_pending_is, transport, stream, held))
    gate.set()
    await wait_until(lambda: len(running) == 5)


async def test_a_reader_woken_while_paused_asks_for_nothing_and_reads_again_on_resume(
    transport: MemoryTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader can wake for room (a worker took an entry) just as the subscription is
    paused: it must not ask the store for 0 entries (Redis reads ``COUNT 0`` as no limit), and
    it reads again once resumed."""
    gate = asyncio.Event()
    running: list[int] = []

    async def gated(env: Envelope) -> None:
        running.append(env.payload["i"])
        await gate.wait()

    await transport.publish_many([(stream, envelope(i)) for i in range(5)])
    sub = await transport.subscribe(stream, "g", "c", gated, ConsumerOptions(batch_size=2))
    assert isinstance(sub, BaseSubscription)
    # 0 runs, 1 and 2 fill the buffer: the reader waits for room.
    await wait_until(lambda: running == [0])
    await wait_until(partial(_pending_is, transport, stream, 3))
    assert not sub._space.is_set()
    counts: list[int] = []
    rooms: list[int] = []
    fetch, room = sub._fetch, sub._room

    async def counted(count: int) -> list[Delivery]:
        counts.append(count)
        return await fetch(count)

    def measured() -> int:
        rooms.append(room())
        return rooms[-1]

    monkeypatch.setattr(sub, "_fetch", counted)
    monkeypatch.setattr(sub, "_room", measured)
    sub.pause()
    sub._space.set()  # what a worker does when it takes an entry
    await wait_until(lambda: rooms == [0])  # the reader woke, paused
    sub.resume()
    gate.set()
    await wait_until(lambda: len(running) == 5)
    assert running == [0, 1, 2, 3, 4]
    assert counts and 0 not in counts


async def test_a_fetched_entry_starts_before_the_next_read_is_asked_for(
    transport: MemoryTransport, stream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone entry's handler runs first; the reader's next request (a round trip to send, on
    Redis) waits its turn instead of delaying the handler."""
    order: list[str] = []

    async def handler(env: Envelope) -> None:
        order.append("handler")

    sub = await transport.subscribe(stream, "g", "c", handler)
    assert isinstance(sub, BaseSubscription)
    await asyncio.sleep(0.05)  # the reader waits in its first fetch
    fetch = sub._fetch

    async def recorded(count: int) -> list[Delivery]:
        order.append("fetch")
        return await fetch(count)

    monkeypatch.setattr(sub, "_fetch", recorded)
    await transport.publish(stream, envelope(1))  # the waiting fetch wakes with nothing
    await wait_until(lambda: order.count("fetch") >= 2)
    assert order[:3] == ["fetch", "handler", "fetch"]  # the entry, its handler, the next read
