"""An in-process transport with the delivery rules of Redis Streams.

Embedded mode (one process) runs on it, and the contract tests hold it to the same rules as
``RedisStreamsTransport``. The model follows Redis:

- a stream is an append-only log of entries with increasing ids;
- a consumer group has its own cursor and a pending-entries list (PEL) with, per entry, the
  owning consumer, the delivery count and the time of the last delivery;
- an entry is pending from its delivery until it is acknowledged; one whose handler failed
  is redelivered, to any consumer of the group, once idle for the visibility timeout. An entry
  a live consumer still holds is never taken from it (Redis does the same by renewing it, see
  ``bus.redis_streams``);
- a stream longer than ``maxlen`` drops its oldest entries, but only those every group has
  acknowledged. A stream without groups is simply capped.

Everything runs on the event loop: no locks, and idle consumers wait on an event.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from bus import codec, streams
from bus._consumer import BaseSubscription, Delivery
from bus.envelope import Envelope, utcnow
from bus.errors import DeadLetterNotFoundError, TransportClosedError
from bus.ids import new_id
from bus.transport import (
    ACKNOWLEDGED_SCAN,
    Ack,
    ConsumerOptions,
    DeadLetter,
    Handler,
    Incarnation,
    PendingDelivery,
    Reply,
    Subscription,
    Transport,
)


@dataclass(slots=True)
class _Pending:
    holder: MemorySubscription | None  # None: nobody works on it (failed or released)
    deliveries: int
    since: float  # monotonic time of the last delivery


@dataclass(slots=True)
class _Group:
    cursor: int  # sequence number of the next entry never delivered to this group
    # Insertion order is delivery order, which follows the cursor: the first key is the oldest.
    pel: dict[int, _Pending] = field(default_factory=dict)
    released: dict[int, None] = field(default_factory=dict)  # pending entries nobody holds

    def ack(self, seq: int) -> None:
        self.pel.pop(seq, None)
        self.released.pop(seq, None)


class _Stream:
    """An append-only log; entry ``seq`` lives at ``entries[seq - first]``."""

    def __init__(self) -> None:
        self.entries: deque[dict[bytes, bytes] | None] = deque()  # None: deleted entry
        self.first = 1
        self.next = 1
        self.live = 0
        self.groups: dict[str, _Group] = {}
        self._changed: asyncio.Event | None = None

    def append(self, fields: dict[bytes, bytes]) -> int:
        seq = self.next
        self.entries.append(fields)
        self.next += 1
        self.live += 1
        return seq

    def get(self, seq: int) -> dict[bytes, bytes] | None:
        if self.first <= seq < self.next:
            return self.entries[seq - self.first]
        return None

    def delete(self, seq: int) -> bool:
        if self.get(seq) is None:
            return False
        self.entries[seq - self.first] = None
        self.live -= 1
        return True

    def trim(self, maxlen: int) -> int:
        """Drop the oldest entries beyond ``maxlen`` that no group still needs."""
        floor = math.inf
        for group in self.groups.values():
            floor = min(floor, next(iter(group.pel), group.cursor))
        removed = 0
        while self.entries and self.live > maxlen and self.first < floor:
            if self.entries.popleft() is not None:
                self.live -= 1
                removed += 1
            self.first += 1
        return removed

    def changed(self) -> asyncio.Event:
        """An event set by the next change (a new or released entry)."""
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def notify(self) -> None:
        if self._changed is not None:
            # Each waiter holds the old event; a fresh one serves the next round.
            self._changed.set()
            self._changed = None


class MemorySubscription(BaseSubscription):
    """A consumer of one group of a ``MemoryTransport`` stream."""

    def __init__(
        self,
        transport: MemoryTransport,
        log: _Stream,
        group: _Group,
        stream: str,
        group_name: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions,
    ) -> None:
        super().__init__(
            stream, group_name, consumer, handler, options, transport._forget_subscription
        )
        self._transport = transport
        self._stream_log = log
        self._group = group

    async def _fetch(self, count: int) -> list[Delivery]:
        now = time.monotonic()
        batch = self._take(count, now)
        if batch:
            return batch
        timeout = self.options.block_ms / 1000
        vt = self.options.visibility_timeout_s
        for seq in self._group.released:
            pending = self._group.pel.get(seq)
            if pending is not None:
                timeout = min(timeout, pending.since + vt - now)
        changed = self._stream_log.changed()
        try:
            async with asyncio.timeout(max(timeout, 0.001)):
                await changed.wait()
        except TimeoutError:
            pass
        return []

    def _take(self, count: int, now: float) -> list[Delivery]:
        group, log = self._group, self._stream_log
        out: list[Delivery] = []
        vt = self.options.visibility_timeout_s
        if log.live > self._transport.maxlen:  # acks since the last publish may allow more
            log.trim(self._transport.maxlen)
        for seq in list(group.released):  # redeliveries first, like XAUTOCLAIM
            if len(out) >= count:
                break
            pending = group.pel.get(seq)
            if pending is None or pending.holder is not None:
                del group.released[seq]
            elif now - pending.since >= vt:
                del group.released[seq]
                pending.holder, pending.since = self, now
                pending.deliveries += 1
                fields = log.get(seq)
                data = codec.entry_data(fields) if fields is not None else None
                out.append(Delivery(str(seq), data, pending.deliveries))
        while len(out) < count and group.cursor < log.next:
            seq = group.cursor
            group.cursor += 1
            fields = log.get(seq)
            if fields is None:  # deleted before this group reached it
                continue
            group.pel[seq] = _Pending(self, 1, now)
            out.append(Delivery(str(seq), codec.entry_data(fields), 1))
        return out

    def _ack(self, delivery: Delivery) -> None:
        self._group.ack(int(delivery.id))

    async def _commit(self, delivery: Delivery, replies: Sequence[Reply]) -> None:
        entries = [(stream, codec.encode(envelope)) for stream, envelope in replies]
        for stream, fields in entries:  # no await in between: all of it, or (closed) none
            self._transport._append(stream, fields)
        self._ack(delivery)

    def _retry_later(self, delivery: Delivery) -> None:
        pending = self._group.pel.get(int(delivery.id))
        if pending is not None and pending.holder is self:
            pending.holder = None
            self._group.released[int(delivery.id)] = None
            self._stream_log.notify()

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        fields = codec.dead_letter_fields(
            data=delivery.data,
            reason=reason,
            deliveries=delivery.deliveries,
            stream=self.stream,
            original_id=delivery.id,
            group=self.group,
            consumer=self.consumer,
        )
        self._transport._append(streams.dlq(self.stream), fields)
        self._ack(delivery)

    async def _remove(self, delivery: Delivery) -> None:
        self._stream_log.delete(int(delivery.id))

    async def _release(self, unstarted: list[Delivery], interrupted: list[Delivery]) -> None:
        for delivery, uncount in [(d, 1) for d in unstarted] + [(d, 0) for d in interrupted]:
            seq = int(delivery.id)
            pending = self._group.pel.get(seq)
            if pending is not None and pending.holder is self:
                pending.holder, pending.since = None, -math.inf
                pending.deliveries -= uncount
                self._group.released[seq] = None
        self._stream_log.notify()


class MemoryTransport(Transport):
    """Streams and consumer groups in this process's memory.

    Args:
        maxlen: Entries a stream keeps once all its groups acknowledged them.
        name: A label (``memory://<name>`` in ``bus.factory``).
    """

    def __init__(self, *, maxlen: int = 10_000, name: str = "default") -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.name = name
        self.maxlen = maxlen
        self._streams: dict[str, _Stream] = {}
        self._subscriptions: set[BaseSubscription] = set()
        self._published: dict[str, float] = {}  # envelope id -> until when it counts as published
        self._incarnation = new_id()
        self._started_at = utcnow()
        self._incarnation_seen = False
        self.closed = False

    def _stream_state(self, stream: str) -> _Stream:
        log = self._streams.get(stream)
        if log is None:
            log = self._streams[stream] = _Stream()
        return log

    def _append(self, stream: str, fields: dict[bytes, bytes]) -> str:
        if self.closed:
            raise TransportClosedError(f"memory transport {self.name!r} is closed")
        log = self._stream_state(stream)
        seq = log.append(fields)
        if log.live > self.maxlen:
            log.trim(self.maxlen)
        log.notify()
        return str(seq)

    def _forget_subscription(self, subscription: BaseSubscription) -> None:
        self._subscriptions.discard(subscription)

    async def publish(self, stream: str, envelope: Envelope) -> str:
        """Append an envelope; returns the entry id."""
        return self._append(stream, codec.encode(envelope))

    async def publish_many(self, items: Sequence[tuple[str, Envelope]]) -> list[str]:
        """Append many envelopes."""
        return [self._append(stream, codec.encode(envelope)) for stream, envelope in items]

    async def publish_unique(
        self,
        items: Sequence[tuple[str, Envelope]],
        within_s: float,
        *,
        notices: Sequence[tuple[str, str]] = (),
        acks: Sequence[Ack] = (),
    ) -> list[str | None]:
        """Append envelopes whose ids were not published in the last ``within_s`` seconds,
        and acknowledge ``acks``."""
        if notices:
            raise ValueError("the in-memory bus has no pub/sub for notices")
        now = time.monotonic()
        if len(self._published) > 10_000:
            self._published = {k: t for k, t in self._published.items() if t > now}
        ids: list[str | None] = []
        for stream, envelope in items:
            if self._published.get(envelope.id, 0.0) > now:
                ids.append(None)
                continue
            self._published[envelope.id] = now + within_s
            ids.append(self._append(stream, codec.encode(envelope)))
        for ack in acks:
            log = self._streams.get(ack.stream)
            group = None if log is None else log.groups.get(ack.group)
            if group is not None:
                group.ack(int(ack.entry_id))
            ack.sent = True
        return ids

    async def publish_raw(self, stream: str, data: bytes) -> str:
        """Append raw bytes as an entry's data, valid or not."""
        return self._append(stream, codec.encode_raw(data))

    async def subscribe(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions | None = None,
    ) -> Subscription:
        """Create the group if needed (from the start of the stream) and start consuming."""
        if self.closed:
            raise TransportClosedError(f"memory transport {self.name!r} is closed")
        log = self._stream_state(stream)
        state = log.groups.get(group)
        if state is None:
            state = log.groups[group] = _Group(cursor=log.first)
        subscription = MemorySubscription(
            self, log, state, stream, group, consumer, handler, options or ConsumerOptions()
        )
        self._subscriptions.add(subscription)
        subscription.start()
        return subscription

    async def dead_letters(self, stream: str, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters of ``stream``, newest first."""
        log = self._streams.get(streams.dlq(stream))
        if log is None:
            return []
        out: list[DeadLetter] = []
        for seq in range(log.next - 1, log.first - 1, -1):
            fields = log.get(seq)
            if fields is not None:
                out.append(codec.read_dead_letter(str(seq), stream, fields))
                if len(out) >= limit:
                    break
        return out

    def _dead_letter_seq(self, stream: str, dead_letter_id: str) -> tuple[_Stream, int] | None:
        log = self._streams.get(streams.dlq(stream))
        if log is None or not (dead_letter_id.isascii() and dead_letter_id.isdigit()):
            return None
        seq = int(dead_letter_id)
        return (log, seq) if log.get(seq) is not None else None

    async def replay_dead_letter(self, stream: str, dead_letter_id: str) -> str:
        """Publish a dead letter's data to its stream again and remove it from the DLQ."""
        found = self._dead_letter_seq(stream, dead_letter_id)
        if found is None:
            raise DeadLetterNotFoundError(f"{streams.dlq(stream)} has no entry {dead_letter_id}")
        log, seq = found
        fields = log.get(seq)
        assert fields is not None
        entry_id = self._append(stream, codec.encode_raw(codec.entry_data(fields) or b""))
        log.delete(seq)
        return entry_id

    async def discard_dead_letter(self, stream: str, dead_letter_id: str) -> bool:
        """Remove one dead letter; False when it does not exist."""
        found = self._dead_letter_seq(stream, dead_letter_id)
        return found is not None and found[0].delete(found[1])

    async def dlq_streams(self) -> dict[str, int]:
        """Every dead-letter stream that has entries, by original stream, with its depth."""
        return {
            streams.dlq_of(name): log.live
            for name, log in self._streams.items()
            if streams.is_dlq(name) and log.live > 0
        }

    async def stream_length(self, stream: str) -> int:
        """Entries now stored in ``stream``."""
        log = self._streams.get(stream)
        return 0 if log is None else log.live

    async def pending(self, stream: str, group: str) -> int:
        """Entries delivered to ``group`` and not yet acknowledged."""
        log = self._streams.get(stream)
        state = None if log is None else log.groups.get(group)
        return 0 if state is None else len(state.pel)

    async def pending_deliveries(self, stream: str, group: str) -> dict[str, PendingDelivery]:
        """The unacknowledged deliveries, by envelope id: a live subscription holding one
        renews it (idle 0, as on Redis between renewals); one nobody holds (its handler failed,
        or it was released) is idle since its last delivery (released: for ever)."""
        log = self._streams.get(stream)
        state = None if log is None else log.groups.get(group)
        if log is None or state is None:
            return {}
        now = time.monotonic()
        found: dict[str, PendingDelivery] = {}
        for seq, pending in state.pel.items():
            fields = log.get(seq)
            envelope_id = None if fields is None else codec.envelope_id(fields)
            if envelope_id is None:
                continue
            holder = pending.holder
            if holder is not None:
                found[envelope_id] = PendingDelivery(holder.consumer, 0.0, pending.deliveries)
            else:
                found[envelope_id] = PendingDelivery("", now - pending.since, pending.deliveries)
        return found

    async def acknowledged(self, stream: str, group: str) -> set[str]:
        """Envelope ids of the group's newest delivered entries that are not pending."""
        log = self._streams.get(stream)
        state = None if log is None else log.groups.get(group)
        if log is None or state is None:
            return set()
        found: set[str] = set()
        oldest = max(log.first, state.cursor - ACKNOWLEDGED_SCAN)
        for seq in range(state.cursor - 1, oldest - 1, -1):
            fields = None if seq in state.pel else log.get(seq)
            envelope_id = None if fields is None else codec.envelope_id(fields)
            if envelope_id is not None:
                found.add(envelope_id)
        return found

    async def withdraw(self, stream: str, group: str, envelope_ids: Collection[str]) -> set[str]:
        """Delete the entries past the group's cursor that carry one of ``envelope_ids``."""
        log = self._streams.get(stream)
        state = None if log is None else log.groups.get(group)
        if log is None or state is None or not envelope_ids:
            return set()
        wanted = set(envelope_ids)
        found: set[str] = set()
        for seq in range(state.cursor, log.next):
            fields = log.get(seq)
            envelope_id = None if fields is None else codec.envelope_id(fields)
            if envelope_id is not None and envelope_id in wanted and log.delete(seq):
                found.add(envelope_id)
        return found

    async def trim(self, stream: str) -> int:
        """Drop acknowledged entries beyond ``maxlen``; returns how many."""
        log = self._streams.get(stream)
        return 0 if log is None else log.trim(self.maxlen)

    async def published(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """Whether each envelope id was published with ``publish_unique`` within its window."""
        now = time.monotonic()
        return [self._published.get(envelope_id, 0.0) > now for _, envelope_id in items]

    async def incarnation(self) -> Incarnation:
        """One for the transport's life: memory is lost only with the process."""
        new, self._incarnation_seen = not self._incarnation_seen, True
        return Incarnation(self._incarnation, self._started_at, new)

    async def ping(self) -> bool:
        """True until closed."""
        return not self.closed

    async def close(self) -> None:
        """Stop every subscription without draining; later calls raise."""
        self.closed = True
        await asyncio.gather(
            *(s.stop(drain=False) for s in list(self._subscriptions)), return_exceptions=True
        )
        self._subscriptions.clear()
