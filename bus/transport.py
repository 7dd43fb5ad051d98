"""The transport interface: publish envelopes to streams, consume them in groups.

Two implementations share these semantics (and one contract test suite):
``bus.memory.MemoryTransport`` for the embedded mode and
``bus.redis_streams.RedisStreamsTransport``.

Delivery is at least once:
- a handler that returns normally acknowledges its entry, unless it sent the acknowledgement
  itself in a write it made anyway (``ack_of(envelope)`` gives it, ``publish_unique(acks=)``
  sends it and marks it ``sent``); one left unsent (the publish failed) is the subscription's
  to send, so no acknowledgement is lost;
- a handler that raises leaves the entry pending; it is redelivered once it has been idle for
  ``visibility_timeout_s`` (XAUTOCLAIM on Redis), to any consumer of the group;
- an entry whose handler is still running is never redelivered: its consumer renews it, so
  the visibility timeout bounds how long a crashed consumer keeps entries, not handler time;
- an entry whose handler has run ``max_deliveries`` times without success goes to
  ``<stream>.dlq`` with the reason and the delivery count, and is acknowledged;
- an entry that is not a valid envelope, is past its deadline, or fails the verifier goes to the
  DLQ at once, and so does one whose handler raises ``bus.errors.RejectEnvelope``;
- a handler may return replies, ``(stream, envelope)`` pairs: they are published together with
  the acknowledgement, in one round trip, and the entry is acknowledged only once they are
  published (on Redis, one Lua script: XADD each reply, then XACK). Publishing the replies is
  retried, with backoff, until the entry's envelope reaches its deadline (a finished task is
  worth keeping while it can still count); the entry stays held meanwhile, so it is not
  redelivered. Replies that still cannot be published (the deadline passed, or the
  subscription stopped) fail the handler, like an exception, and go to
  ``ConsumerOptions.on_unsent`` when set;
- trimming keeps streams bounded and never drops an entry that a group has not acknowledged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from bus import streams
from bus.audit import Audit
from bus.envelope import Envelope

Reply = tuple[str, Envelope]
"""An envelope a handler publishes with its acknowledgement: ``(stream, envelope)``."""

Handler = Callable[[Envelope], Awaitable[Sequence[Reply] | None]]
"""An async function that processes one envelope; raising means "not done, redeliver".

It returns None, or the replies to publish together with the acknowledgement."""

Verifier = Callable[[Envelope], str | None]
"""Returns None when an envelope is acceptable, or the reason it is not (e.g. a bad signature)."""


DEFAULT_MAX_ENTRY_BYTES = 5 * 1024 * 1024
"""The default bound on a bus entry where agents may append (``MODX_BUS_MAX_ENTRY_BYTES``):
an answer of 4 MiB (``MODX_MAX_ANSWER_BYTES``) rides in one, as in a gateway frame."""


@dataclass(frozen=True)
class ConsumerOptions:
    """How a subscription reads and retries."""

    visibility_timeout_s: float = 30.0
    max_deliveries: int = 5
    batch_size: int = 256
    block_ms: int = 1000
    concurrency: int = 1
    verifier: Verifier | None = None
    on_unsent: Callable[[Sequence[Reply]], Awaitable[None]] | None = None
    """Takes a handler's replies that could not be published (e.g. to keep them on disk)."""
    outage: Callable[[BaseException], bool] | None = None
    """True when a handler's failure means something it depends on is down for now (the
    database): the entry is then held and handled again after a backoff, never counted as a
    delivery, so an outage longer than ``max_deliveries`` tries dead-letters nothing."""
    max_entry_bytes: int | None = None
    """Entries whose data is larger are removed from the stream and dead-lettered without
    their data (``MODX_BUS_MAX_ENTRY_BYTES``): an agent's Redis user may append entries of
    any size, and the reader is where the server can bound them. None: no bound."""


@dataclass(slots=True, eq=False)
class Ack:
    """The acknowledgement of the entry a handler is handling (``ack_of``), for the handler to
    send with a publish of its own (``Transport.publish_unique(acks=)``): the subscription's
    own acknowledgement, a round trip of its own, is then left out."""

    stream: str
    group: str
    entry_id: str
    envelope: Envelope
    """The envelope handed to the handler (``ack_of`` matches it by identity)."""
    sent: bool = False
    """Set by the transport once the acknowledgement went out; while False when the handler
    returns, the subscription acknowledges the entry itself."""


handling: ContextVar[Ack | None] = ContextVar("handling", default=None)
"""The acknowledgement of the entry whose handler runs in this task (set by the consumer)."""


def ack_of(envelope: Envelope) -> Ack | None:
    """The acknowledgement of the entry being handled in this task, if ``envelope`` is the one
    its handler was given (not another, nor one a task inherited the context of); else None.

    Send it only once the entry's work is safely done (recorded): it is then acknowledged
    even if the handler raises afterwards."""
    ack = handling.get()
    return ack if ack is not None and ack.envelope is envelope else None


@dataclass(frozen=True)
class DeadLetter:
    """An entry of a dead-letter stream."""

    id: str
    stream: str
    reason: str
    deliveries: int
    data: bytes
    failed_at: datetime
    envelope: Envelope | None = field(default=None)


@dataclass(frozen=True)
class PendingDelivery:
    """An entry delivered to a group and not yet acknowledged (``Transport.pending_deliveries``)."""

    consumer: str
    """The consumer it was last delivered to ("" when the transport does not know it)."""
    idle_s: float
    """Seconds since it was last delivered or renewed: a consumer working on it renews it every
    third of its visibility timeout; one that stopped (dead, paused) lets it grow; a released
    entry is idle for ages, so that any consumer takes it at once."""
    deliveries: int


ACKNOWLEDGED_SCAN = 100
"""How many of a group's newest delivered entries ``Transport.acknowledged`` reads."""


@dataclass(frozen=True)
class Incarnation:
    """The store's contents as one lifetime: a store that lost its data starts a new one."""

    id: str
    started_at: datetime
    new: bool
    """True when this call started it (the store had no incarnation: empty, or brand new)."""


class Subscription(ABC):
    """A running consumer of one stream in one group."""

    @abstractmethod
    async def stop(self, drain: bool = True) -> None:
        """Stop reading; with ``drain``, wait for in-flight handlers to finish (and ack).

        Entries fetched but not started are released for immediate redelivery to the other
        consumers of the group, without counting that delivery.
        """

    @abstractmethod
    def pause(self) -> None:
        """Stop pulling new entries (backpressure); in-flight work continues."""

    @abstractmethod
    def resume(self) -> None:
        """Pull again after ``pause``."""

    @property
    @abstractmethod
    def in_flight(self) -> int:
        """Handlers running now."""


class Transport(ABC):
    """Streams of envelopes with consumer groups."""

    @abstractmethod
    async def publish(self, stream: str, envelope: Envelope) -> str:
        """Append an envelope; returns the entry id."""

    @abstractmethod
    async def publish_many(self, items: Sequence[tuple[str, Envelope]]) -> list[str]:
        """Append many envelopes in one round trip (a pipeline on Redis)."""

    @abstractmethod
    async def publish_unique(
        self,
        items: Sequence[tuple[str, Envelope]],
        within_s: float,
        *,
        notices: Sequence[tuple[str, str]] = (),
        acks: Sequence[Ack] = (),
    ) -> list[str | None]:
        """Like ``publish_many``, but skip an envelope whose id was published in the last
        ``within_s`` seconds (None in its place): a publisher that retries after a crash
        (the outbox relay) then adds nothing twice.

        ``notices``: (channel, message) pairs to send on the store's pub/sub in the same
        round trip, after the envelopes (a store without pub/sub refuses them: ValueError).
        ``acks``: entries to acknowledge in that same round trip, whatever becomes of the
        envelopes; each one acknowledged is marked ``sent`` (one left unsent, when publishing
        fails, is the subscription's to acknowledge).
        """

    @abstractmethod
    async def published(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """For each ``(stream, envelope id)``, whether ``publish_unique`` published it (within
        its window) and the store still remembers it; False after the store lost its data."""

    @abstractmethod
    async def incarnation(self) -> Incarnation:
        """The current incarnation of the store's contents, starting one if there is none.

        A store that restarts empty (Redis without persistence) gets a new one; one that kept
        its data (AOF) keeps it. Publishers compare it with what they saw before to learn that
        what they published is gone.
        """

    @abstractmethod
    async def publish_raw(self, stream: str, data: bytes) -> str:
        """Append raw bytes as an entry's data, valid or not (replays and tests)."""

    @abstractmethod
    async def subscribe(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions | None = None,
    ) -> Subscription:
        """Create the group if needed (from the start of the stream) and start consuming."""

    @abstractmethod
    async def dead_letters(self, stream: str, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters of ``stream`` (the original stream, not the ``.dlq`` name)."""

    @abstractmethod
    async def replay_dead_letter(self, stream: str, dead_letter_id: str) -> str:
        """Publish a dead letter's data to its stream again and remove it from the DLQ."""

    @abstractmethod
    async def discard_dead_letter(self, stream: str, dead_letter_id: str) -> bool:
        """Remove one dead letter; False when it does not exist."""

    @abstractmethod
    async def dlq_streams(self) -> dict[str, int]:
        """Every dead-letter stream that has entries, by original stream, with its depth."""

    async def stream_length(self, stream: str) -> int:
        """Entries now stored in ``stream`` (acknowledged ones included, until trimmed)."""
        raise NotImplementedError

    async def pending(self, stream: str, group: str) -> int:
        """Entries of ``stream`` delivered to ``group`` and not yet acknowledged."""
        raise NotImplementedError

    async def pending_deliveries(self, stream: str, group: str) -> dict[str, PendingDelivery]:
        """The entries of ``stream`` delivered to ``group`` and not yet acknowledged, by the id
        of the envelope each carries (none for an unknown stream or group). Meant for a stream
        whose group holds few pending entries (an agent's inbox): each is read."""
        raise NotImplementedError

    async def acknowledged(self, stream: str, group: str) -> set[str]:
        """The ids of the envelopes that the newest entries ``group`` was handed (the last
        ``ACKNOWLEDGED_SCAN``) carry, of those it acknowledged: answered, or dead-lettered.
        An entry never delivered to the group, or still pending, is not among them. Meant,
        like ``pending_deliveries``, for an agent's inbox: what its agent answered last."""
        raise NotImplementedError

    async def withdraw(self, stream: str, group: str, envelope_ids: Collection[str]) -> set[str]:
        """Take from ``stream`` the entries carrying ``envelope_ids`` that ``group`` was never
        handed, at once for all its consumers and atomically: each such entry is either
        removed, and no consumer ever gets it, or was handed already, and stays. Every other
        entry stays. Returns the ids of the envelopes taken. Meant for an agent's inbox once
        its tasks are sent elsewhere: the agent, should it live on, cannot run them too, and
        gets the tasks that were not sent elsewhere (another run's, sent meanwhile)."""
        raise NotImplementedError

    async def trim(self, stream: str) -> int:
        """Trim ``stream`` now (it is also trimmed periodically); returns entries removed."""
        raise NotImplementedError

    async def audit(
        self, names: Sequence[str], ahead_s: float, max_entry_bytes: int | None = None
    ) -> list[Audit]:
        """Find and undo, in each stream of ``names``, what an agent's own bus user can do
        beyond appending (``bus.audit``): ids more than ``ahead_s`` ahead of the clock, and
        entries trimmed before their group acknowledged them; a forged entry's data over
        ``max_entry_bytes`` is not kept in its dead letter. Only Redis hands agents users
        of their own; nothing else can do either."""
        return [Audit(name) for name in names]

    async def audit_dead_letters(
        self, names: Sequence[str], ahead_s: float, max_entry_bytes: int | None = None
    ) -> list[Audit]:
        """``audit`` the dead-letter streams of ``names`` (an agent's user may append to its
        capabilities'): ids more than ``ahead_s`` ahead of the clock, entries removed by
        anyone but MODX, and entries over ``max_entry_bytes`` (all their fields; removed, and
        told in the stream's own dead-letter stream without their data). Each ``Audit`` names
        the dead-letter stream."""
        return [Audit(streams.dlq(name)) for name in names]

    @abstractmethod
    async def ping(self) -> bool:
        """True when the backing store answers."""

    @abstractmethod
    async def close(self) -> None:
        """Stop every subscription (without draining) and release connections."""
