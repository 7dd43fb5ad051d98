"""The consumer loop both transports share, so their delivery rules cannot drift apart.

A subscription runs one reader and ``concurrency`` workers around a local buffer:

- the reader fetches up to ``batch_size`` entries whenever the buffer is at most half full,
  so the next batch is on its way while the workers process the current one;
- each worker takes entries in order and decides their fate: dead-letter at once (malformed,
  expired, rejected by the verifier, or already delivered more than ``max_deliveries``
  times), run the handler (which may reject the envelope itself: ``RejectEnvelope``) and
  acknowledge (publishing its replies first, if it returned any; unless the handler sent the
  acknowledgement itself, ``bus.transport.ack_of``), or on failure leave the
  entry pending for redelivery, and dead-letter it once the handler has run
  ``max_deliveries`` times.

A transport supplies the storage side: ``_fetch``, ``_ack``, ``_commit``, ``_retry_later``,
``_dead_letter``, ``_release`` and ``_flush``.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from bus import codec
from bus._backoff import Backoff
from bus.envelope import Envelope
from bus.errors import CodecError, RejectEnvelope
from bus.tasks import cancel_and_wait, cleanup, stop_within, time_left
from bus.transport import Ack, ConsumerOptions, Handler, Reply, Subscription, handling

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class Delivery:
    """One entry handed to this consumer."""

    id: str
    data: bytes | None
    deliveries: int
    """How many times the entry has been delivered, this time included."""
    answered: bool = False
    """The handler returned replies: the entry is settled by ``_commit``, not interrupted."""
    deadline: float | None = None
    """Until when (``time.time()``) publishing the handler's replies is worth retrying."""


class BaseSubscription(Subscription):
    """Buffer, workers, pause/resume and drain; subclasses talk to the store."""

    store = "the store"
    """The store's name in log lines ("Redis")."""

    def __init__(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions,
        on_stopped: Callable[[BaseSubscription], None] | None = None,
    ) -> None:
        if options.max_deliveries < 1 or options.concurrency < 1 or options.batch_size < 1:
            raise ValueError("max_deliveries, concurrency and batch_size must be at least 1")
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.options = options
        self._handler = handler
        self._on_stopped = on_stopped
        self._capacity = max(options.batch_size, options.concurrency)
        self._low_water = self._capacity // 2
        self._buffer: deque[Delivery] = deque()
        self._held: dict[str, Delivery] = {}  # buffered or running: this consumer owns them
        self._running: dict[str, Delivery] = {}
        self._interrupted: list[Delivery] = []  # handlers cancelled by stop(drain=False)
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        # Idle workers, each waiting on its own future: an entry wakes one worker, not all of
        # them (with many workers, waking all for every entry costs more than the handler).
        self._idle: deque[asyncio.Future[None]] = deque()
        self._space = asyncio.Event()  # the buffer is at or below the low-water mark
        self._space.set()
        self._stopping = False
        self._reader: asyncio.Task[None] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._aux: list[asyncio.Task[None]] = []
        self._fetchers: list[asyncio.Task[None]] = []  # stopped after the handlers, before release
        self._late: list[Delivery] = []  # fetched while stopping: released with the unstarted
        self._stop_task: asyncio.Task[None] | None = None

    # -- storage hooks ---------------------------------------------------------------------

    @abstractmethod
    async def _fetch(self, count: int) -> list[Delivery]:
        """Up to ``count`` entries for this consumer; may return none after a while."""

    @abstractmethod
    def _ack(self, delivery: Delivery) -> None:
        """Acknowledge (may be batched; ``_flush`` sends what is left)."""

    @abstractmethod
    async def _commit(self, delivery: Delivery, replies: Sequence[Reply]) -> None:
        """Publish ``replies``, then acknowledge the entry (one round trip where possible).

        Raises:
            PublishError: The replies were not all published; the entry stays pending.
        """

    @abstractmethod
    def _retry_later(self, delivery: Delivery) -> None:
        """The handler failed: leave the entry pending for redelivery."""

    @abstractmethod
    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Move the entry to the dead-letter stream and acknowledge it (never raises)."""

    @abstractmethod
    async def _release(self, unstarted: list[Delivery], interrupted: list[Delivery]) -> None:
        """On stop: make entries redeliverable at once; ``unstarted`` ones never ran."""

    async def _remove(self, delivery: Delivery) -> None:
        """Delete an acknowledged entry from the stream now (an oversized one), best effort:
        else trimming removes it later."""

    async def _flush(self) -> None:
        """On stop, after the last handler: send outstanding acknowledgements."""

    async def _after_stop(self) -> None:
        """On stop, once every loop has ended: clean up in the store."""

    async def _close(self) -> None:
        """On stop, last (also when the store could not be reached): close this
        subscription's own connections, without a round trip."""

    def _unreachable(self, exc: BaseException) -> bool:
        """True when ``exc`` means the store cannot be reached now (an outage, not a bug)."""
        return False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the reader and the workers (called by the transport)."""
        name = f"{self.stream}/{self.group}/{self.consumer}"
        self._reader = asyncio.create_task(self._read_loop(), name=f"bus-reader {name}")
        self._workers = [
            asyncio.create_task(self._work_loop(), name=f"bus-worker {name}")
            for _ in range(self.options.concurrency)
        ]

    def _spawn(
        self, coro: Coroutine[Any, Any, None], *, fetches: bool = False
    ) -> asyncio.Task[None]:
        """Run a background loop that stops with the subscription.

        A loop that ``fetches`` entries (a reclaimer) stops once the handlers are done, before
        entries are released; the others (an acknowledger) stop last, after the final flush.
        """
        task = asyncio.create_task(coro, name=f"bus {self.stream}/{self.group}/{self.consumer}")
        (self._fetchers if fetches else self._aux).append(task)
        return task

    async def stop(self, drain: bool = True) -> None:
        """Stop reading; with ``drain``, let running handlers finish and acknowledge them.

        Entries fetched but not started are released for redelivery to other consumers at
        once, and without counting this delivery. Calling ``stop(drain=False)`` while a
        draining stop waits cancels the handlers still running.
        """
        if self._stop_task is None:
            self._stop_task = asyncio.create_task(self._stop(drain))
        elif not drain:
            for worker in self._workers:
                worker.cancel()
        await asyncio.shield(self._stop_task)

    async def _stop(self, drain: bool) -> None:
        self._stopping = True
        if self._reader is not None:
            await cancel_and_wait([self._reader])
        self._wake_workers(len(self._workers))
        self._unpaused.set()
        if drain and self._workers:
            # Handlers take what they need, unless this stop is part of a bounded one (a
            # process shutting down): those still running at its deadline are interrupted.
            _, running = await asyncio.wait(self._workers, timeout=time_left())
            if running and self._running:
                _log.warning(
                    "%s: %d handler(s) still running at the stop's deadline: interrupted, "
                    "their entries stay pending for redelivery",
                    self,
                    len(self._running),
                )
        await cancel_and_wait(self._workers)
        # Reclaimers renew held entries while handlers drain; they go before the release, so
        # none can take back an entry just released.
        await cancel_and_wait(self._fetchers)
        unstarted = [*self._buffer, *self._late]
        interrupted = self._interrupted
        self._buffer.clear()
        self._running.clear()
        self._held.clear()
        # Bounded: with the store unreachable, stopping must not hang; whatever was not
        # released or acknowledged is redelivered after the visibility timeout.
        with stop_within():
            settled = await cleanup(
                f"{self}: settling entries on stop",
                self._settle_on_stop(unstarted, interrupted),
                server=self.store,
                unreachable=self._unreachable,
                logger=_log,
            )
            await cancel_and_wait(self._aux)
            if settled:  # else the store just failed: one line says so, not two
                await cleanup(
                    f"{self}: cleanup on stop",
                    self._after_stop(),
                    server=self.store,
                    unreachable=self._unreachable,
                    logger=_log,
                )
        await self._close()
        if self._on_stopped is not None:
            self._on_stopped(self)

    async def _settle_on_stop(self, unstarted: list[Delivery], interrupted: list[Delivery]) -> None:
        if unstarted or interrupted:
            await self._release(unstarted, interrupted)
        await self._flush()

    def pause(self) -> None:
        """Stop fetching and starting handlers; running handlers continue."""
        self._unpaused.clear()

    def resume(self) -> None:
        """Fetch and start handlers again."""
        if not self._stopping:
            self._unpaused.set()

    @property
    def paused(self) -> bool:
        """True between ``pause`` and ``resume``."""
        return not self._unpaused.is_set()

    @property
    def in_flight(self) -> int:
        """Handlers running now."""
        return len(self._running)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.stream} group={self.group} consumer={self.consumer}>"

    # -- loops -------------------------------------------------------------------------------

    def _room(self) -> int:
        """How many more entries the buffer takes (0 while paused or stopping)."""
        if self._stopping or not self._unpaused.is_set():
            return 0
        return min(self.options.batch_size, self._capacity - len(self._buffer))

    def _wake_workers(self, count: int) -> None:
        while count > 0 and self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                count -= 1

    def _push(self, batch: list[Delivery]) -> None:
        if self._stopping:  # a late fetch: released on stop like the buffered entries
            self._late.extend(d for d in batch if d.id not in self._held)
            return
        for delivery in batch:
            if delivery.id in self._held:  # reclaimed while we still hold it: keep one copy
                continue
            self._held[delivery.id] = delivery
            self._buffer.append(delivery)
        if self._buffer:
            self._wake_workers(len(self._buffer))
            if len(self._buffer) > self._low_water:
                self._space.clear()

    async def _read_loop(self) -> None:
        while not self._stopping:
            await self._unpaused.wait()
            await self._space.wait()
            room = self._room()
            if room > 0:
                batch = await self._fetch(room)
                self._push(batch)
                if batch:
                    # The woken workers start their entries before the next read is sent:
                    # a lone entry would otherwise wait for that send (tens of microseconds).
                    await asyncio.sleep(0)
            else:  # paused or stopping since the waits returned: look again, never spin
                await asyncio.sleep(0.001)

    async def _work_loop(self) -> None:
        while True:
            if self._stopping:
                return
            if not self._unpaused.is_set():
                await self._unpaused.wait()
                continue
            if not self._buffer:
                waiter = asyncio.get_running_loop().create_future()
                self._idle.append(waiter)
                try:
                    await waiter
                finally:
                    waiter.cancel()  # a no-op once woken; else it is never woken again
                continue
            delivery = self._buffer.popleft()
            if len(self._buffer) <= self._low_water and not self._space.is_set():
                self._space.set()
                await asyncio.sleep(0)  # let the reader ask for the next batch now
            self._running[delivery.id] = delivery
            try:
                await self._process(delivery)
            except asyncio.CancelledError:
                if not delivery.answered:  # an answered one is still acknowledged by _flush
                    self._interrupted.append(delivery)
                raise
            except Exception:  # a bug in a storage hook must not kill the worker
                _log.exception("%s: failed to process entry %s", self, delivery.id)
            finally:
                self._running.pop(delivery.id, None)
                self._held.pop(delivery.id, None)

    async def _process(self, delivery: Delivery) -> None:
        max_deliveries = self.options.max_deliveries
        bound = self.options.max_entry_bytes
        if bound is not None and delivery.data is not None and len(delivery.data) > bound:
            await self._drop_oversized(delivery, bound)
            return
        try:
            envelope = codec.decode(delivery.data)
        except CodecError as exc:
            await self._reject(delivery, str(exc))
            return
        reason = self._rejection(envelope)
        if reason is not None:
            await self._reject(delivery, reason)
            return
        if delivery.deliveries > max_deliveries:
            # The previous delivery never finished (its consumer stopped or crashed).
            await self._reject(
                delivery,
                f"delivered {delivery.deliveries} times, more than max_deliveries="
                f"{max_deliveries}, without success",
            )
            return
        replies = None
        ack = Ack(self.stream, self.group, delivery.id, envelope)
        try:
            replies = await self._handle(envelope, ack)
            if replies:
                delivery.answered = True
                if envelope.deadline is not None:
                    delivery.deadline = envelope.deadline.timestamp()
                await self._commit(delivery, replies)
        except Exception as exc:
            if ack.sent:  # the handler acknowledged the entry itself: its work was done
                _log.warning("%s: handler failed on %s after acknowledging it", self, delivery.id)
                return
            if isinstance(exc, RejectEnvelope):
                await self._reject(delivery, f"rejected: {exc.reason}")
                return
            if replies and self.options.on_unsent is not None:
                await self._hand_over(replies)
            if delivery.deliveries >= max_deliveries:
                await self._reject(
                    delivery, f"handler failed {delivery.deliveries} times; last error: {exc!r}"
                )
            else:
                _log.warning(
                    "%s: handler failed on %s (delivery %d of %d); will retry",
                    self,
                    delivery.id,
                    delivery.deliveries,
                    max_deliveries,
                    exc_info=True,
                )
                self._retry_later(delivery)
            return
        if not replies and not ack.sent:
            self._ack(delivery)

    async def _handle(self, envelope: Envelope, ack: Ack) -> Sequence[Reply] | None:
        """The handler's replies. While it fails for an outage (``ConsumerOptions.outage``),
        it is called again after a backoff, the entry held (and renewed) meanwhile: counted
        as deliveries, a database down for a few tries dead-lettered the answers in flight."""
        backoff: Backoff | None = None
        while True:
            token = handling.set(ack)
            try:
                replies = await self._handler(envelope)
            except Exception as exc:
                outage = self.options.outage
                if ack.sent or self._stopping or outage is None or not outage(exc):
                    raise
                error = exc
            else:
                if backoff is not None:
                    backoff.reset()
                return replies
            finally:
                handling.reset(token)
            backoff = backoff or Backoff(0.1, 2.0, f"{self}: handler held for an outage", _log)
            await backoff.wait(error)

    async def _hand_over(self, replies: Sequence[Reply]) -> None:
        assert self.options.on_unsent is not None
        try:
            await self.options.on_unsent(replies)
        except Exception:
            _log.exception("%s: on_unsent failed; %d replies are lost", self, len(replies))

    async def _drop_oversized(self, delivery: Delivery, bound: int) -> None:
        """Dead-letter an entry over ``bound`` bytes without its data (copied, the dead letter
        would hold as much memory again), then delete it from the stream."""
        assert delivery.data is not None
        size = len(delivery.data)
        # Redis does not record which user appended an entry: the reason says the size only.
        reason = (
            f"too large: {size} bytes, over the bound of {bound} "
            "(MODX_BUS_MAX_ENTRY_BYTES); removed from the stream, its data not kept"
        )
        delivery.data = None  # the buffer lets go of it too
        await self._reject(delivery, reason)
        await self._remove(delivery)

    async def _reject(self, delivery: Delivery, reason: str) -> None:
        _log.warning("%s: dead-lettering %s: %s", self, delivery.id, reason)
        await self._dead_letter(delivery, reason)

    def _rejection(self, envelope: Envelope) -> str | None:
        """Why a valid envelope must not reach the handler, or None."""
        if envelope.expired():
            assert envelope.deadline is not None
            return f"expired: deadline {envelope.deadline.isoformat()} has passed"
        verifier = self.options.verifier
        if verifier is None:
            return None
        try:
            reason = verifier(envelope)
        except Exception as exc:
            return f"rejected: verifier raised {exc!r}"
        return None if reason is None else f"rejected: {reason}"
