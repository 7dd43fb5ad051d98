"""A Redis Streams consumer: XREADGROUP batches, batched XACK, XAUTOCLAIM, and renewal.

Round trips are the cost to avoid, so:
- reads are XREADGROUP with COUNT and BLOCK, and the next read starts while the workers are
  still on half of the previous batch;
- acknowledgements collect while one XACK is on the wire; the next XACK carries all of them;
- the delivery count is Redis's own (XREADGROUP counts 1, each XAUTOCLAIM adds 1), read back
  with XPENDING only for the rare reclaimed entries.

Entries this consumer holds (buffered or running) are renewed every third of the visibility
timeout with ``XCLAIM ... JUSTID``, which resets their idle time without counting a delivery.
So the visibility timeout bounds how long a *crashed* consumer keeps its entries, not how long
a handler may run.

Every loop survives a lost connection: it backs off (capped, with jitter) and retries, and
recreates its group when Redis comes back empty (NOGROUP).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bus import codec, streams
from bus._backoff import Backoff
from bus._consumer import BaseSubscription, Delivery
from bus.transport import ConsumerOptions, Handler

_log = logging.getLogger(__name__)

RECOVERABLE = (RedisConnectionError, RedisTimeoutError, OSError)
"""Errors after which the same command may succeed later (Redis down, restarting, slow)."""

_ACK_CHUNK = 1000  # ids per XACK command: keeps each command small, all in one pipeline
_RELEASED_IDLE_MS = 10**9  # "idle for ~11 days": any consumer's XAUTOCLAIM takes it at once
_FLUSH_ATTEMPTS = 3


def is_nogroup(error: ResponseError) -> bool:
    """True when the stream or group is gone (Redis restarted empty, or the key was deleted).

    Redis answers NOGROUP, or UNBLOCKED to a blocked XREADGROUP whose stream was deleted.
    """
    return str(error).startswith(("NOGROUP", "UNBLOCKED"))


class RedisSubscription(BaseSubscription):
    """A consumer of one group of one Redis stream."""

    def __init__(
        self,
        client: Redis,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions,
        *,
        block_ms: int,
        reconnect_base_s: float,
        reconnect_cap_s: float,
        remember_stream: Callable[[str], None],
        on_stopped: Callable[[BaseSubscription], None],
    ) -> None:
        super().__init__(stream, group, consumer, handler, options, on_stopped)
        self._client = client
        self._block_ms = block_ms
        self._vt_ms = max(1, int(options.visibility_timeout_s * 1000))
        self._remember_stream = remember_stream
        self._group_ready = False
        self._claim_cursor: bytes | str = "0-0"
        self._acks: list[str] = []
        self._ack_wanted = asyncio.Event()
        self._flushing = False
        self._ack_task: asyncio.Task[None] | None = None

        def backoff(role: str) -> Backoff:
            what = f"{role} {stream}/{group}/{consumer}"
            return Backoff(reconnect_base_s, reconnect_cap_s, what, _log)

        self._read_backoff = backoff("reader")
        self._ack_backoff = backoff("acker")
        self._claim_backoff = backoff("reclaimer")

    def start(self) -> None:
        """Start reading, acknowledging and reclaiming."""
        super().start()
        self._ack_task = self._spawn(self._ack_loop())
        self._spawn(self._maintain_loop())

    async def ensure_group(self) -> None:
        """Create the group from the start of the stream (and the stream) unless it exists."""
        try:
            await self._client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    # -- reading -----------------------------------------------------------------------------

    async def _fetch(self, count: int) -> list[Delivery]:
        while not self._stopping:
            try:
                if not self._group_ready:
                    await self.ensure_group()
                reply: Any = await self._client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: ">"},
                    count=count,
                    block=self._block_ms,
                )
            except ResponseError as exc:
                if is_nogroup(exc) and self._group_ready:
                    _log.warning("%s: group is gone (%s); recreating it", self, exc)
                    self._group_ready = False  # recreate it at once, then read again
                    continue
                await self._read_backoff.wait(exc)
                continue
            except RECOVERABLE as exc:
                await self._read_backoff.wait(exc)
                continue
            self._read_backoff.reset()
            if not reply:
                return []
            return [
                Delivery(entry_id.decode(), fields.get(codec.DATA), 1)
                for entry_id, fields in reply[0][1]
            ]
        return []

    async def _maintain_loop(self) -> None:
        """Renew held entries and reclaim idle ones, each on its own schedule."""
        vt = self.options.visibility_timeout_s
        claim_every = min(max(vt / 4, 0.02), 2.0)
        renew_every = vt / 3
        next_renewal = time.monotonic() + renew_every
        while not self._stopping:
            claimed_full = False
            try:
                if time.monotonic() >= next_renewal:
                    await self._renew_held()
                    next_renewal = time.monotonic() + renew_every
                if self._group_ready:
                    claimed_full = await self._reclaim()
                self._claim_backoff.reset()
            except ResponseError as exc:
                if is_nogroup(exc):
                    self._group_ready = False  # the reader recreates it
                else:
                    await self._claim_backoff.wait(exc)
            except RECOVERABLE as exc:
                await self._claim_backoff.wait(exc)
            await asyncio.sleep(0 if claimed_full else claim_every)

    async def _renew_held(self) -> None:
        ids: list[Any] = list(self._held)
        for start in range(0, len(ids), _ACK_CHUNK):
            await self._client.xclaim(
                self.stream,
                self.group,
                self.consumer,
                0,
                ids[start : start + _ACK_CHUNK],
                justid=True,
            )

    async def _reclaim(self) -> bool:
        """XAUTOCLAIM entries idle past the visibility timeout; True when more may wait."""
        room = self._room()
        if room <= 0:
            return False
        reply: Any = await self._client.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            self._vt_ms,
            start_id=self._claim_cursor,
            count=room,
        )
        self._claim_cursor, entries = reply[0], reply[1]
        if not entries:
            return False
        pipe = self._client.pipeline(transaction=False)
        for entry_id, _ in entries:
            pipe.xpending_range(self.stream, self.group, entry_id, entry_id, 1)
        counts = await pipe.execute()
        batch = []
        for (entry_id, fields), info in zip(entries, counts, strict=True):
            if info:  # acknowledged in between: nothing to redo
                batch.append(
                    Delivery(entry_id.decode(), fields.get(codec.DATA), info[0]["times_delivered"])
                )
        self._push(batch)
        return len(entries) >= room and self._claim_cursor not in (b"0-0", "0-0")

    # -- settling ------------------------------------------------------------------------------

    def _ack(self, delivery: Delivery) -> None:
        self._acks.append(delivery.id)
        self._ack_wanted.set()

    def _retry_later(self, delivery: Delivery) -> None:
        """Nothing to do: the entry stays pending, and XAUTOCLAIM picks it up when idle."""

    async def _ack_loop(self) -> None:
        failures_while_flushing = 0
        while True:
            if not self._acks:
                if self._flushing:
                    return
                self._ack_wanted.clear()
                await self._ack_wanted.wait()
                continue
            ids, self._acks = self._acks, []
            try:
                await self._send_acks(ids)
                self._ack_backoff.reset()
            except ResponseError as exc:
                # NOGROUP after Redis lost its data: the entries are gone, nothing to ack.
                _log.warning("%s: dropped %d acks: %s", self, len(ids), exc)
            except RECOVERABLE as exc:
                if self._flushing:
                    failures_while_flushing += 1
                    if failures_while_flushing >= _FLUSH_ATTEMPTS:
                        _log.warning(
                            "%s: %d acks not sent on stop (%s); they will be redelivered",
                            self,
                            len(ids) + len(self._acks),
                            exc,
                        )
                        return
                self._acks[:0] = ids
                await self._ack_backoff.wait(exc)

    async def _send_acks(self, ids: list[str]) -> None:
        if len(ids) <= _ACK_CHUNK:
            await self._client.xack(self.stream, self.group, *ids)
            return
        pipe = self._client.pipeline(transaction=False)
        for start in range(0, len(ids), _ACK_CHUNK):
            pipe.xack(self.stream, self.group, *ids[start : start + _ACK_CHUNK])
        await pipe.execute()

    async def _flush(self) -> None:
        self._flushing = True
        self._ack_wanted.set()
        if self._ack_task is not None:
            await asyncio.gather(self._ack_task, return_exceptions=True)

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        dlq = streams.dlq(self.stream)
        fields = codec.dead_letter_fields(
            data=delivery.data,
            reason=reason,
            deliveries=delivery.deliveries,
            stream=self.stream,
            original_id=delivery.id,
            group=self.group,
            consumer=self.consumer,
        )
        # MULTI/EXEC: the entry is in the DLQ and acknowledged, or neither.
        pipe = self._client.pipeline(transaction=True)
        pipe.xadd(dlq, fields)  # type: ignore[arg-type]
        pipe.xack(self.stream, self.group, delivery.id)
        try:
            await pipe.execute()
        except (ResponseError, *RECOVERABLE) as exc:
            # Still pending: it comes back after the visibility timeout and is judged again.
            _log.warning("%s: could not dead-letter %s (%s): %s", self, delivery.id, reason, exc)
            return
        self._remember_stream(dlq)

    async def _release(self, unstarted: list[Delivery], interrupted: list[Delivery]) -> None:
        # XCLAIM ... IDLE makes an entry reclaimable at once; RETRYCOUNT takes back the
        # delivery of entries whose handler never started. Best effort: if Redis is away,
        # the entries come back after the visibility timeout anyway.
        pipe = self._client.pipeline(transaction=False)
        for delivery in unstarted:
            pipe.xclaim(
                self.stream,
                self.group,
                self.consumer,
                0,
                [delivery.id],
                idle=_RELEASED_IDLE_MS,
                retrycount=max(0, delivery.deliveries - 1),
                justid=True,
            )
        if interrupted:
            pipe.xclaim(
                self.stream,
                self.group,
                self.consumer,
                0,
                [d.id for d in interrupted],
                idle=_RELEASED_IDLE_MS,
                justid=True,
            )
        await pipe.execute()

    async def _after_stop(self) -> None:
        """Remove this consumer's name from the group if it owns no pending entry.

        Unique consumer names (one per process) would otherwise pile up in the group. A
        consumer that still owns entries stays, so that XAUTOCLAIM can move them.
        """
        try:
            for info in await self._client.xinfo_consumers(self.stream, self.group):
                if info["name"].decode() == self.consumer and info["pending"] == 0:
                    await self._client.xgroup_delconsumer(self.stream, self.group, self.consumer)
        except (ResponseError, *RECOVERABLE):
            pass  # best effort
