"""The consumer loop's own rules (``bus._consumer``), beyond the transport contract: options
below one, stop when a draining stop is overtaken or the store cannot settle, replies the store
refused handed to ``on_unsent``, and what the loop logs. On the in-memory transport; a store
that fails is that transport with one storage hook made to fail."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from bus import ConsumerOptions, Envelope, Kind, MemoryTransport
from bus import _consumer as consumer_module
from bus._consumer import BaseSubscription, cancel_and_wait
from bus.errors import PublishError
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
        with pytest.raises(ValueError, match="must be at least 1"):
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
    assert len(loops_left()) == 4  # a reader and three workers
    await sub.stop()
    assert loops_left() == []


async def test_a_store_that_cannot_settle_on_stop_does_not_hang_it(
    transport: MemoryTransport,
    stream: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(consumer_module, "_STOP_IO_TIMEOUT_S", 0.2)
    started = asyncio.Event()

    async def hangs(env: Envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    sub = await transport.subscribe(stream, "g", "c1", hangs)

    async def unreachable(*args: Any) -> None:
        await asyncio.Event().wait()

    async def broken() -> None:
        raise ConnectionError("store gone")

    monkeypatch.setattr(sub, "_release", unreachable)
    monkeypatch.setattr(sub, "_after_stop", broken)
    await transport.publish(stream, envelope(1))
    await asyncio.wait_for(started.wait(), 30)
    with caplog.at_level(logging.WARNING, logger="bus._consumer"):
        await sub.stop(drain=False)
    assert sub not in transport._subscriptions
    warnings = [(r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert warnings == [
        (f"{sub!r}: could not settle entries on stop", True),
        (f"{sub!r}: cleanup on stop failed", True),
    ]


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
    records = [(r.getMessage(), r.exc_info is not None) for r in caplog.records]
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
    assert [(r.getMessage(), r.exc_info is not None) for r in caplog.records] == [
        (f"{sub!r}: on_unsent failed; 2 replies are lost", True)
    ]
    assert await transport.dead_letters(stream) == []


async def _settled(transport: MemoryTransport, stream: str) -> bool:
    return await transport.pending(stream, "g") == 0
