"""The delivery contract every transport must keep (see ``bus.transport``).

Mixed into one class per transport with a config that provides ``make_transport``
(``tests/bus/test_memory.py``, ``tests/bus/test_redis_streams.py``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from bus import (
    ConsumerOptions,
    DeadLetterNotFoundError,
    Envelope,
    KeyringVerifier,
    Kind,
    RejectEnvelope,
    Transport,
    TransportClosedError,
    ack_of,
    generate_keypair,
    sign,
    utcnow,
)
from tests.fixtures.services import wait_until

FAST = ConsumerOptions(visibility_timeout_s=0.2, max_deliveries=3, batch_size=16, block_ms=200)


def envelope(i: int, **fields: object) -> Envelope:
    """A task envelope whose payload is ``{"i": i}``."""
    fields.setdefault("sender", "tester")
    return Envelope(kind=Kind.TASK, topic="test", payload={"i": i}, **fields)


class Recorder:
    """A handler that records the ``i`` of every envelope it completes."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    async def __call__(self, env: Envelope) -> None:
        self.seen.append(env.payload["i"])


class TransportContract:
    """Delivery semantics, run against each transport."""

    @pytest.fixture
    def stream(self) -> str:
        return f"modx.test.{uuid.uuid4().hex[:8]}"

    @pytest.fixture
    async def transport(self, make_transport) -> Transport:
        transport: Transport = make_transport()
        return transport

    async def test_ten_thousand_envelopes_arrive_once_each(self, transport, stream):
        record = Recorder()
        await transport.subscribe(stream, "g", "c1", record, ConsumerOptions(batch_size=256))
        for start in range(0, 10_000, 1000):
            ids = await transport.publish_many(
                [(stream, envelope(i)) for i in range(start, start + 1000)]
            )
            assert len(set(ids)) == 1000
        await wait_until(lambda: len(record.seen) >= 10_000, timeout=120)
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        assert len(record.seen) == 10_000
        assert sorted(record.seen) == list(range(10_000))
        assert await transport.pending(stream, "g") == 0

    async def test_consumers_of_one_group_share_the_work(self, transport, stream):
        records = [Recorder(), Recorder()]

        async def slow(record: Recorder, env: Envelope) -> None:
            await asyncio.sleep(0.002)
            await record(env)

        for n, record in enumerate(records):
            await transport.subscribe(
                stream,
                "workers",
                f"c{n}",
                lambda e, r=record: slow(r, e),
                ConsumerOptions(batch_size=4),
            )
        await transport.publish_many([(stream, envelope(i)) for i in range(300)])
        await wait_until(lambda: sum(len(r.seen) for r in records) >= 300)
        assert all(r.seen for r in records), "both consumers should get a share"
        assert sorted(records[0].seen + records[1].seen) == list(range(300))

    async def test_every_group_gets_every_envelope(self, transport, stream):
        records = [Recorder(), Recorder()]
        for n, record in enumerate(records):
            await transport.subscribe(stream, f"group{n}", "c", record)
        await transport.publish_many([(stream, envelope(i)) for i in range(200)])
        await wait_until(lambda: all(len(r.seen) >= 200 for r in records))
        for record in records:
            assert sorted(record.seen) == list(range(200))

    async def test_a_group_created_late_reads_from_the_start(self, transport, stream):
        await transport.publish_many([(stream, envelope(i)) for i in range(5)])
        record = Recorder()
        await transport.subscribe(stream, "late", "c", record)
        await wait_until(lambda: len(record.seen) >= 5)
        assert record.seen == [0, 1, 2, 3, 4]

    async def test_a_failed_handler_gets_the_entry_again(self, transport, stream):
        calls: Counter[int] = Counter()
        done: list[int] = []

        async def flaky(env: Envelope) -> None:
            i = env.payload["i"]
            calls[i] += 1
            if calls[i] == 1:
                raise RuntimeError("first attempt fails")
            done.append(i)

        await transport.subscribe(stream, "g", "c", flaky, FAST)
        await transport.publish_many([(stream, envelope(i)) for i in range(10)])
        await wait_until(lambda: len(done) >= 10)
        assert sorted(done) == list(range(10))
        assert all(calls[i] == 2 for i in range(10)), calls
        assert await transport.dead_letters(stream) == []

    async def test_dead_letter_after_exactly_max_deliveries(self, transport, stream):
        calls: list[int] = []

        async def fails(env: Envelope) -> None:
            calls.append(env.payload["i"])
            if env.payload["i"] == 1 or calls.count(2) == 1:  # 1 always; 2 on its first try
                raise ValueError("boom")

        await transport.subscribe(stream, "g", "c", fails, FAST)
        sent = envelope(1)
        await transport.publish(stream, sent)
        await wait_until(lambda: _has_dead_letters(transport, stream, 1))
        [dead] = await transport.dead_letters(stream)
        assert calls == [1] * FAST.max_deliveries == [1, 1, 1]
        assert dead.deliveries == 3
        assert "handler failed 3 times" in dead.reason and "boom" in dead.reason
        assert dead.envelope == sent and dead.stream == stream
        assert await transport.pending(stream, "g") == 0
        # A later entry that fails once comes back only through a redelivery, which looks at
        # every entry past its visibility timeout: by then a dead letter would be back too.
        await transport.publish(stream, envelope(2))
        await wait_until(lambda: calls.count(2) == 2)
        assert calls.count(1) == 3, "a dead letter must not be delivered again"
        assert await transport.dlq_streams() == {stream: 1}

    async def test_a_handler_failing_for_an_outage_is_held_not_dead_lettered(
        self, transport, stream
    ):
        calls: list[int] = []

        async def down_for_a_while(env: Envelope) -> None:
            calls.append(env.payload["i"])
            if len(calls) <= 2 * FAST.max_deliveries:
                raise ConnectionError("the database is down")

        options = replace(FAST, outage=lambda exc: isinstance(exc, ConnectionError))
        await transport.subscribe(stream, "g", "c", down_for_a_while, options)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: len(calls) > 2 * FAST.max_deliveries, timeout=60)
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        assert await transport.dead_letters(stream) == []
        assert calls == [1] * (2 * FAST.max_deliveries + 1)

    async def test_bad_entries_go_to_the_dlq_and_consumption_continues(self, transport, stream):
        record = Recorder()
        await transport.subscribe(stream, "g", "c", record, FAST)
        await transport.publish_raw(stream, b"\xff\x00 not json")
        await transport.publish_raw(stream, b'{"kind": "nonsense", "topic": 1}')
        await transport.publish(stream, envelope(-1, deadline=utcnow() - timedelta(seconds=1)))
        await transport.publish(stream, envelope(7))
        await wait_until(lambda: record.seen == [7])
        await wait_until(lambda: _has_dead_letters(transport, stream, 3))
        by_data = {d.data: d for d in await transport.dead_letters(stream)}
        assert len(by_data) == 3
        garbage = by_data[b"\xff\x00 not json"]
        assert garbage.reason.startswith("malformed: ") and "JSON" in garbage.reason
        invalid = by_data[b'{"kind": "nonsense", "topic": 1}']
        assert invalid.reason.startswith("malformed: ") and "kind" in invalid.reason
        [expired] = [d for d in by_data.values() if d.envelope is not None]
        assert expired.reason.startswith("expired: deadline")
        assert expired.envelope.payload == {"i": -1}
        assert all(d.deliveries == 1 for d in by_data.values())
        await transport.publish(stream, envelope(8))
        await wait_until(lambda: record.seen == [7, 8])

    async def test_an_entry_over_max_entry_bytes_is_removed_and_told_without_its_data(
        self, transport, stream
    ):
        record = Recorder()
        bounded = replace(FAST, max_entry_bytes=4096)
        await transport.subscribe(stream, "g", "c", record, bounded)
        big = envelope(1).model_copy(update={"payload": {"i": 1, "pad": "x" * 100_000}})
        await transport.publish(stream, big)
        await transport.publish(stream, envelope(2))
        await wait_until(lambda: record.seen == [2])
        await wait_until(lambda: _has_dead_letters(transport, stream, 1))
        [told] = await transport.dead_letters(stream)
        size = len(big.to_json())
        assert told.reason.startswith(f"too large: {size} bytes, over the bound of 4096")
        assert told.data == b"" and told.deliveries == 1
        # Gone from the stream at once, not when trimming gets to it.
        assert await transport.stream_length(stream) == 1
        await transport.publish(stream, envelope(3))  # and the consumer goes on
        await wait_until(lambda: record.seen == [2, 3])

    async def test_verifier_rejects_unsigned_and_forged_envelopes(self, transport, stream):
        alice_key, alice_public = generate_keypair()
        mallory_key, _ = generate_keypair()
        verifier = KeyringVerifier({"alice": alice_public})
        record = Recorder()
        options = ConsumerOptions(visibility_timeout_s=0.2, verifier=verifier)
        await transport.subscribe(stream, "g", "c", record, options)
        await transport.publish(stream, sign(envelope(1, sender="alice"), mallory_key))
        await transport.publish(stream, envelope(2, sender="alice"))
        await transport.publish(stream, sign(envelope(3, sender="bob"), alice_key))
        tampered = sign(envelope(4, sender="alice"), alice_key).model_copy(
            update={"payload": {"i": 4, "extra": True}}
        )
        await transport.publish(stream, tampered)
        await transport.publish(stream, sign(envelope(5, sender="alice"), alice_key))
        await wait_until(lambda: record.seen == [5])
        await wait_until(lambda: _has_dead_letters(transport, stream, 4))
        reasons = {d.envelope.payload["i"]: d.reason for d in await transport.dead_letters(stream)}
        assert reasons[1] == "rejected: bad signature for sender 'alice'"
        assert reasons[2] == "rejected: missing signature"
        assert reasons[3] == "rejected: unknown sender 'bob'"
        assert reasons[4] == "rejected: bad signature for sender 'alice'"

    async def test_a_handler_rejects_an_envelope_to_the_dead_letters_at_once(
        self, transport, stream
    ):
        calls: list[int] = []

        async def refuses(env: Envelope) -> None:
            calls.append(env.payload["i"])
            if env.payload["i"] == 1:
                raise RejectEnvelope("not an answer to any task")

        options = ConsumerOptions(visibility_timeout_s=0.2, max_deliveries=5)
        await transport.subscribe(stream, "g", "c", refuses, options)
        await transport.publish(stream, envelope(1))
        await transport.publish(stream, envelope(2))
        await wait_until(lambda: _has_dead_letters(transport, stream, 1))
        await wait_until(lambda: calls == [1, 2])
        [dead] = await transport.dead_letters(stream)
        assert dead.reason == "rejected: not an answer to any task"
        assert dead.deliveries == 1 and dead.envelope is not None
        # The second envelope's acknowledgement follows its handler: wait for it.
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))

    async def test_replay_and_discard_dead_letters(self, transport, stream):
        async def fails(env: Envelope) -> None:
            raise RuntimeError("no")

        await transport.subscribe(stream, "g", "c", fails, ConsumerOptions(max_deliveries=1))
        await transport.publish_many([(stream, envelope(i)) for i in range(2)])
        await wait_until(lambda: _has_dead_letters(transport, stream, 2))
        assert await transport.dlq_streams() == {stream: 2}
        newest, oldest = await transport.dead_letters(stream)
        assert (newest.envelope.payload["i"], oldest.envelope.payload["i"]) == (1, 0)
        assert newest.deliveries == 1 and "handler failed 1 times" in newest.reason

        replayed = Recorder()
        await transport.subscribe(stream, "replays", "c", replayed)
        await wait_until(lambda: len(replayed.seen) >= 2)  # a new group reads from the start
        await transport.replay_dead_letter(stream, oldest.id)
        await wait_until(lambda: len(replayed.seen) >= 3)
        assert replayed.seen == [0, 1, 0]

        assert await transport.discard_dead_letter(stream, newest.id) is True
        assert await transport.discard_dead_letter(stream, newest.id) is False
        with pytest.raises(DeadLetterNotFoundError):
            await transport.replay_dead_letter(stream, newest.id)
        with pytest.raises(DeadLetterNotFoundError):
            await transport.replay_dead_letter(stream, "not-an-id")
        # Group g failed the replayed entry again: the DLQ holds only that new dead letter.
        await wait_until(lambda: _has_dead_letters(transport, stream, 1))
        [again] = await transport.dead_letters(stream)
        assert again.id not in (newest.id, oldest.id) and again.envelope.payload["i"] == 0
        assert await transport.dlq_streams() == {stream: 1}

    async def test_trimming_bounds_the_stream_but_keeps_unacked_entries(
        self, make_transport, stream
    ):
        transport = make_transport(maxlen=50)
        lagging = await transport.subscribe(stream, "lagging", "c", Recorder())
        await lagging.stop()  # the group exists and has read nothing
        held = {100, 101}
        release = asyncio.Event()
        work = Recorder()

        async def holds_some(env: Envelope) -> None:
            if env.payload["i"] in held and not release.is_set():
                raise RuntimeError("not yet")
            await work(env)

        options = ConsumerOptions(visibility_timeout_s=0.05, max_deliveries=100_000)
        await transport.subscribe(stream, "work", "c", holds_some, options)
        await transport.publish_many([(stream, envelope(i)) for i in range(200)])
        await wait_until(lambda: len(work.seen) >= 198)
        # Acknowledgements follow the handlers: wait until only the held two are pending.
        await wait_until(lambda: _pending_is(transport, stream, "work", len(held)))

        await transport.trim(stream)
        assert await transport.stream_length(stream) == 200, "the lagging group read nothing"

        late = Recorder()
        await transport.subscribe(stream, "lagging", "c", late)
        await wait_until(lambda: len(late.seen) >= 200)
        assert sorted(late.seen) == list(range(200))
        await wait_until(lambda: _pending_is(transport, stream, "lagging", 0))

        await transport.trim(stream)
        length = await transport.stream_length(stream)
        assert 100 <= length < 200, "acked entries before the held ones go, the held stay"
        release.set()
        await wait_until(lambda: held <= set(work.seen))
        await wait_until(lambda: _pending_is(transport, stream, "work", 0))
        await transport.trim(stream)
        assert await transport.stream_length(stream) <= 50
        assert sorted(work.seen) == list(range(200))

    async def test_a_stream_without_groups_is_capped(self, make_transport, stream):
        transport = make_transport(maxlen=50)
        await transport.publish_many([(stream, envelope(i)) for i in range(300)])
        await transport.trim(stream)
        assert 50 <= await transport.stream_length(stream) < 100

    async def test_pause_and_resume(self, transport, stream):
        record = Recorder()
        sub = await transport.subscribe(stream, "g", "c", record, FAST)
        sub.pause()
        await transport.publish_many([(stream, envelope(i)) for i in range(20)])
        # The entries are there to be read: another group's consumer gets them all.
        other = Recorder()
        await transport.subscribe(stream, "other", "c", other, FAST)
        await wait_until(lambda: len(other.seen) == 20)
        assert record.seen == [], "a paused subscription starts no handler"
        assert await transport.pending(stream, "g") == 0, "nor fetches anything"
        sub.resume()
        await wait_until(lambda: len(record.seen) >= 20)
        assert record.seen == list(range(20))

    async def test_stop_drains_running_handlers_and_acks_them(self, transport, stream):
        gate = asyncio.Event()
        done: list[int] = []
        sub = None

        async def waits(env: Envelope) -> None:
            await gate.wait()
            done.append(env.payload["i"])

        sub = await transport.subscribe(
            stream, "g", "c", waits, ConsumerOptions(concurrency=3, batch_size=3)
        )
        await transport.publish_many([(stream, envelope(i)) for i in range(3)])
        await wait_until(lambda: sub.in_flight == 3)
        stopping = asyncio.create_task(sub.stop(drain=True))
        stopping.add_done_callback(lambda _: done.append(-1))
        # stop has stopped reading: from here on it can only wait for the handlers.
        await wait_until(lambda: sub._reader is not None and sub._reader.done())
        assert not stopping.done(), "stop must wait for running handlers"
        gate.set()
        await stopping
        assert sorted(done[:3]) == [0, 1, 2] and done[3:] == [-1], "handlers finished first"
        assert await transport.pending(stream, "g") == 0

    async def test_stop_releases_fetched_entries_without_counting_them(self, transport, stream):
        gate = asyncio.Event()
        first = Recorder()

        async def waits(env: Envelope) -> None:
            await gate.wait()
            await first(env)

        await transport.publish_many([(stream, envelope(i)) for i in range(5)])
        sub = await transport.subscribe(
            stream, "g", "c1", waits, ConsumerOptions(concurrency=1, batch_size=10)
        )
        await wait_until(lambda: sub.in_flight == 1)
        stopping = asyncio.create_task(sub.stop())
        await asyncio.sleep(0.1)  # let the stop begin before the running handler ends
        gate.set()
        await stopping
        assert first.seen == [0]
        # One delivery each is allowed: the release took back the delivery that never ran.
        second = Recorder()
        options = ConsumerOptions(visibility_timeout_s=30, max_deliveries=1)
        await transport.subscribe(stream, "g", "c2", second, options)
        await wait_until(lambda: len(second.seen) >= 4)
        assert sorted(second.seen) == [1, 2, 3, 4]
        assert await transport.dead_letters(stream) == []

    async def test_an_interrupted_handler_counts_its_delivery(self, transport, stream):
        started = asyncio.Event()

        async def hangs(env: Envelope) -> None:
            started.set()
            await asyncio.Event().wait()

        sub = await transport.subscribe(stream, "g", "c1", hangs, ConsumerOptions(max_deliveries=1))
        await transport.publish(stream, envelope(1))
        await asyncio.wait_for(started.wait(), 30)
        await sub.stop(drain=False)
        record = Recorder()
        await transport.subscribe(stream, "g", "c2", record, ConsumerOptions(max_deliveries=1))
        await wait_until(lambda: _has_dead_letters(transport, stream, 1))
        [dead] = await transport.dead_letters(stream)
        assert dead.deliveries == 2 and "more than max_deliveries=1" in dead.reason
        assert record.seen == []

    async def test_replies_are_published_with_the_acknowledgement(self, transport, stream):
        replies = f"{stream}.replies"

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            i = env.payload["i"]
            return [(replies, envelope(i, sender="w")), (replies, envelope(-i, sender="w"))]

        options = ConsumerOptions(concurrency=4, batch_size=8)
        await transport.subscribe(stream, "g", "c", answers, options)
        record = Recorder()
        await transport.subscribe(replies, "readers", "c", record)
        await transport.publish_many([(stream, envelope(i)) for i in range(1, 101)])
        await wait_until(lambda: len(record.seen) >= 200)
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        assert sorted(record.seen) == [*range(-100, 0), *range(1, 101)]
        assert all(record.seen.index(i) < record.seen.index(-i) for i in range(1, 101))

    async def test_a_handler_sends_its_acknowledgement_with_a_publish_of_its_own(
        self, transport, stream
    ):
        """``ack_of`` gives a handler its entry's acknowledgement, to send in the write that
        publishes its work (the orchestrator's next task): the entry is acknowledged by that
        write, before the handler returns, and not again by the subscription."""
        out = f"{stream}.out"
        seen: list[tuple[int, bool, int]] = []

        async def publishes(env: Envelope) -> None:
            ack = ack_of(env)
            assert ack is not None and (ack.stream, ack.group) == (stream, "g")
            assert ack_of(envelope(env.payload["i"])) is None  # only for the envelope given
            before = await transport.pending(stream, "g")
            await transport.publish_unique([(out, envelope(-env.payload["i"]))], 60, acks=[ack])
            seen.append((before, ack.sent, await transport.pending(stream, "g")))

        await transport.subscribe(stream, "g", "c", publishes)
        for i in range(1, 4):
            await transport.publish(stream, envelope(i))
            await wait_until(lambda: len(seen) >= i)  # noqa: B023 - awaited within the loop
        assert seen == [(1, True, 0)] * 3
        assert await transport.stream_length(out) == 3
        assert ack_of(envelope(1)) is None  # outside a handler

    async def test_an_acknowledgement_its_handler_kept_is_sent_by_the_subscription(
        self, transport, stream
    ):
        """A handler that took its acknowledgement but did not send it (its publish failed,
        or it published nothing) leaves it to the subscription: the entry comes back no more."""
        record = Recorder()

        async def keeps(env: Envelope) -> None:
            assert ack_of(env) is not None
            await record(env)

        await transport.subscribe(stream, "g", "c", keeps, FAST)
        await transport.publish_many([(stream, envelope(i)) for i in range(5)])
        await wait_until(lambda: len(record.seen) >= 5)
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        await asyncio.sleep(3 * FAST.visibility_timeout_s)
        assert sorted(record.seen) == list(range(5))

    async def test_ping_and_close(self, make_transport, stream):
        transport = make_transport()
        assert await transport.ping() is True
        await transport.subscribe(stream, "g", "c", Recorder())
        await transport.close()
        with pytest.raises(TransportClosedError):
            await transport.publish(stream, envelope(1))

    async def test_publish_unique_adds_an_envelope_once_within_the_window(self, transport, stream):
        first, second = envelope(1), envelope(2)
        ids = await transport.publish_unique([(stream, first), (stream, second)], within_s=60)
        assert all(ids)
        again = await transport.publish_unique(
            [(stream, second), (stream, envelope(3))], within_s=60
        )
        assert again[0] is None and again[1] is not None  # a retry after a crash adds nothing
        short = envelope(4)
        assert (await transport.publish_unique([(stream, short)], within_s=0.05))[0] is not None
        await asyncio.sleep(0.2)
        assert (await transport.publish_unique([(stream, short)], within_s=0.05))[0] is not None
        assert await transport.stream_length(stream) == 5

    async def test_pending_deliveries_name_their_consumer_while_it_holds_them(
        self, transport, stream
    ):
        """``pending_deliveries`` lists the group's pending entries by the envelope each
        carries: held by a running handler, one names the consumer and is idle for less than
        the visibility timeout (renewed); released by a stop, it is idle past any timeout;
        answered (acknowledged) or never delivered, it is not listed, nor in another group."""
        started = {1: asyncio.Event(), 2: asyncio.Event()}
        finish = {1: asyncio.Event(), 2: asyncio.Event()}

        async def holds(env: Envelope) -> None:
            started[env.payload["i"]].set()
            await finish[env.payload["i"]].wait()

        first, second = envelope(1), envelope(2)
        await transport.publish_many([(stream, first)])
        sub = await transport.subscribe(stream, "g", "c1", holds, FAST)
        await asyncio.wait_for(started[1].wait(), 10)
        await asyncio.sleep(3 * FAST.visibility_timeout_s)  # renewed meanwhile, never idle
        held = await transport.pending_deliveries(stream, "g")
        assert list(held) == [first.id], held
        assert held[first.id].consumer == "c1" and held[first.id].deliveries == 1, held
        assert held[first.id].idle_s < FAST.visibility_timeout_s, held
        await transport.publish_many([(stream, second)])
        assert await transport.pending_deliveries(stream, "other") == {}  # never delivered
        assert await transport.pending_deliveries(f"{stream}.none", "g") == {}
        finish[1].set()
        await asyncio.wait_for(started[2].wait(), 10)  # the first answered, the second taken
        await sub.stop(drain=False)
        released = await transport.pending_deliveries(stream, "g")
        assert list(released) == [second.id] and released[second.id].idle_s > 1000, released

    async def test_acknowledged_names_the_entries_the_group_answered(self, transport, stream):
        """``acknowledged`` lists the envelopes of the group's delivered entries that it
        acknowledged (answered): not one still pending (held by a running handler), nor one
        never delivered, nor those of another group or stream."""
        finish = asyncio.Event()
        started: list[str] = []

        async def answers_the_first(env: Envelope) -> None:
            started.append(env.id)
            if env.payload["i"] == 2:
                await finish.wait()

        first, second, third = envelope(1), envelope(2), envelope(3)
        await transport.publish_many([(stream, first), (stream, second)])
        assert await transport.acknowledged(stream, "g") == set()  # no group yet
        sub = await transport.subscribe(stream, "g", "c1", answers_the_first, FAST)
        await wait_until(lambda: len(started) == 2)
        assert await transport.acknowledged(stream, "g") == {first.id}  # the second is held
        finish.set()
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        await sub.stop()
        await transport.publish_many([(stream, third)])  # never delivered
        assert await transport.acknowledged(stream, "g") == {first.id, second.id}
        assert await transport.acknowledged(stream, "other") == set()
        assert await transport.acknowledged(f"{stream}.none", "g") == set()

    async def test_withdraw_takes_only_the_named_entries_the_group_never_read(
        self, transport, stream
    ):
        """``withdraw`` takes the entries carrying the envelopes it is given that the group
        was never handed, so that no consumer of it ever is; it leaves every other entry (the
        unread tasks of other runs go on to the agent), and those the group read. A stream or
        group that does not exist gives nothing. (Before, it took every unread entry.)"""
        seen: list[int] = []

        async def records(env: Envelope) -> None:
            seen.append(env.payload["i"])

        first = envelope(1)
        await transport.publish_many([(stream, first)])
        sub = await transport.subscribe(stream, "g", "c1", records, FAST)
        await wait_until(lambda: seen == [1])
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        await sub.stop()
        second, fourth = envelope(2), envelope(4)
        third = envelope(3, causation_id=second.id)  # names the second, is another envelope
        await transport.publish_many([(stream, second), (stream, third), (stream, fourth)])
        asked = {first.id, second.id, fourth.id, "not-there"}
        assert await transport.withdraw(stream, "g", asked) == {second.id, fourth.id}
        assert await transport.withdraw(stream, "g", asked) == set()
        assert await transport.withdraw(stream, "g", set()) == set()
        assert await transport.stream_length(stream) == 2  # the first (read) and the third
        assert await transport.pending(stream, "g") == 0  # nothing taken as if delivered
        assert await transport.acknowledged(stream, "g") == {first.id}
        sub = await transport.subscribe(stream, "g", "c2", records, FAST)
        await transport.publish_many([(stream, envelope(5))])
        await wait_until(lambda: 5 in seen)
        assert seen == [1, 3, 5]
        await sub.stop()
        assert await transport.withdraw(f"{stream}.none", "g", {third.id}) == set()
        assert await transport.withdraw(stream, "other", {third.id}) == set()

    async def test_withdraw_and_a_reader_never_both_get_an_entry(self, transport, stream):
        """A withdraw while a consumer reads: each entry is either withdrawn or delivered,
        never both and never neither, and nothing of the withdraw stays behind in the group
        (no entry left pending, none counted acknowledged that was not delivered)."""
        seen: list[str] = []

        async def records(env: Envelope) -> None:
            seen.append(env.id)

        await transport.subscribe(stream, "g", "c1", records, FAST)  # makes the group
        tasks = [envelope(i) for i in range(200)]
        await transport.publish_many([(stream, task) for task in tasks])
        withdrawn = await transport.withdraw(stream, "g", {task.id for task in tasks})
        await wait_until(lambda: _pending_is(transport, stream, "g", 0))
        await asyncio.sleep(3 * FAST.block_ms / 1000)  # anything left would be read by now
        assert withdrawn.isdisjoint(seen), withdrawn & set(seen)
        assert withdrawn | set(seen) == {task.id for task in tasks}
        assert len(seen) == len(set(seen))
        assert await transport.pending_deliveries(stream, "g") == {}
        assert withdrawn.isdisjoint(await transport.acknowledged(stream, "g"))


async def _has_dead_letters(transport: Transport, stream: str, count: int) -> bool:
    return len(await transport.dead_letters(stream)) >= count


async def _pending_is(transport: Transport, stream: str, group: str, count: int) -> bool:
    return await transport.pending(stream, group) == count
