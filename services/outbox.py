"""The transactional outbox: envelopes leave only after the transaction that caused them commits.

The engine writes each envelope to the ``outbox`` table in the same transaction as the state
change that caused it. After the commit the orchestrator hands the rows to ``publish_committed``
(the fast path: no extra transaction on the way out), with the acknowledgements of the results
that commit recorded (in the same write, not a round trip each); the writer deletes the
published rows in its next write (``take_published``), or the relay does once the writer is
idle. Rows the fast path could not publish (the bus was down, the process died) are picked up
by the relay's poll once they are ``claim_after_s`` old, claimed with ``FOR UPDATE SKIP
LOCKED`` so replicas never take the same row (the acknowledgements are then left to the
results' subscriptions). Bus envelopes are published with ``publish_unique``: a row published again
after a crash adds nothing to the stream.

A row that waited may carry a task nobody needs any more: its attempt was superseded (the
step was sent again), its run was cancelled or ended, or its deadline passed. The relay drops
those instead of publishing them (an agent would only dead-letter them), and records each drop
as an ``outbox.dropped`` event in the run's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus.envelope import Envelope
from bus.transport import Ack, Transport
from services.db.models import EventRow, OutboxRow, utcnow
from services.orchestrator.dead import dead_tasks
from services.orchestrator.routing import remote_agent
from services.outage import Outage, log_failure

log = logging.getLogger(__name__)

RemoteSubmit = Callable[[str, Envelope], None]
Committed = Sequence[tuple[str, Envelope]]


class OutboxRelay:
    """Moves committed envelopes from the outbox table to the bus (or to remote agents)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        remote_submit: RemoteSubmit | None = None,
        *,
        poll_s: float = 0.5,
        claim_after_s: float = 2.0,
        coalesce_s: float = 0.5,
        batch: int = 500,
        dedupe_s: float = 3600.0,
        before_delete: Callable[[list[OutboxRow]], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.remote_submit = remote_submit
        self.poll_s = poll_s
        self.claim_after_s = claim_after_s
        self.coalesce_s = coalesce_s
        self.batch = batch
        self.dedupe_s = dedupe_s
        self.before_delete = before_delete  # a hook for crash tests
        self.published = 0
        self.dropped = 0
        self.outage = Outage("the database or the bus, for the outbox relay", log)
        self._done: list[str] = []
        self._wake = asyncio.Event()
        self._urgent = False
        # Whether this process sweeps the table for rows anyone left behind (a crash): one
        # replica is enough (``Ownership.leads``); the others only retry rows they failed to
        # publish themselves.
        self.sweeps: Callable[[], bool] = lambda: True
        self._own_until = 0.0  # until then (monotonic), sweep anyway: rows of ours are left

    def take_published(self) -> list[str]:
        """Ids of rows published since the last delete, for a writer to delete in its own next
        transaction (no transaction of the relay's own); ``restore_published`` if it fails."""
        done, self._done = self._done, []
        return done

    def restore_published(self, ids: list[str]) -> None:
        """Give back ids a writer took but could not delete."""
        self._done.extend(ids)

    def wake(self) -> None:
        """Publish every committed row now, however young (for writers without a RunContext)."""
        self._urgent = True
        self._wake.set()

    async def publish_committed(
        self,
        rows: Committed,
        notices: Sequence[tuple[str, str]] = (),
        acks: Sequence[Ack] = (),
    ) -> bool:
        """Publish (destination, envelope) pairs whose outbox rows just committed; the relay
        deletes the rows later. ``notices`` (pub/sub channel, message) go out in the same round
        trip as the rows on the bus, and so do ``acks`` (entries the same commit recorded:
        each sent is marked); True when the notices did (False: none, or publishing failed)."""
        if not rows:
            return False
        try:
            carried = await self._send(list(rows), notices, acks)
        except Exception as exc:
            # The rows stay in the table: the relay's poll publishes them.
            log_failure(self.outage, exc, log, "outbox: publishing after commit")
            self._left_rows()
            return False
        self._done.extend(envelope.id for _, envelope in rows)
        self._wake.set()
        return carried

    async def run(self) -> None:
        """Delete what was published and retry what was not; survives bus and database outages."""
        backoff = self.poll_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            if not self._urgent:
                # Coalesce: one DELETE for the rows of many steps, not one per step; while the
                # orchestrator is busy its writer deletes them (``take_published``) first.
                await asyncio.sleep(self.coalesce_s)
            self._wake.clear()
            claim_after_s = 0.0 if self._urgent else None
            sweep = self._urgent or time.monotonic() < self._own_until or self.sweeps()
            self._urgent = False
            try:
                await self._delete_done()
                while sweep and await self.flush(claim_after_s) >= self.batch:
                    pass
                backoff = self.poll_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(self.outage, exc, log, "outbox relay flush")
                self._left_rows()
                backoff = min(max(backoff * 2, 0.05), 5.0)
            else:
                self.outage.recovered()

    def _left_rows(self) -> None:
        """Rows of ours may be left in the table: sweep until they are old enough to be taken."""
        self._own_until = time.monotonic() + self.claim_after_s + self.coalesce_s + 2 * self.poll_s

    async def flush(self, claim_after_s: float | None = None) -> int:
        """Publish one batch of rows older than ``claim_after_s`` and delete them."""
        older = utcnow() - timedelta(
            seconds=self.claim_after_s if claim_after_s is None else claim_after_s
        )
        async with self.sessions() as session, session.begin():
            query = (
                select(OutboxRow)
                .where(OutboxRow.created_at <= older)
                .order_by(OutboxRow.id)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(query)).scalars())
            if not rows:
                return 0
            items = [(row.destination, Envelope.from_json(row.envelope)) for row in rows]
            # These rows waited (an outage, a crash): some may no longer be worth sending.
            dead = await dead_tasks(session, [env for _, env in items], utcnow())
            if dead:
                session.add_all(_drop_events(items, dead))
                self.dropped += len(dead)
                log.info("outbox: dropped %d task(s) nobody needs any more", len(dead))
            await self._send([(dest, env) for dest, env in items if env.id not in dead])
            if self.before_delete is not None:
                await self.before_delete(rows)
            await session.execute(
                delete(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows]))
            )
        return len(rows)

    async def _send(
        self,
        items: list[tuple[str, Envelope]],
        notices: Sequence[tuple[str, str]] = (),
        acks: Sequence[Ack] = (),
    ) -> bool:
        """Publish ``items``; True when ``notices`` went out with the ones on the bus (and
        ``acks`` with them)."""
        on_bus = [(dest, env) for dest, env in items if remote_agent(dest) is None]
        carried = bool(on_bus and notices)
        if on_bus:
            await self.transport.publish_unique(
                on_bus, self.dedupe_s, notices=notices if carried else (), acks=acks
            )
        if self.remote_submit is not None:
            # Remote agents have no de-duplication of their own; a lost delivery is covered by
            # the step's timeout and retry, so a relay crash here can only cause a late duplicate.
            for dest, env in items:
                agent_id = remote_agent(dest)
                if agent_id is not None:
                    self.remote_submit(agent_id, env)
        self.published += len(items)
        return carried

    async def _delete_done(self) -> None:
        done, self._done = self._done, []
        for start in range(0, len(done), 1000):
            chunk = done[start : start + 1000]
            try:
                async with self.sessions() as session, session.begin():
                    await session.execute(delete(OutboxRow).where(OutboxRow.id.in_(chunk)))
            except Exception:
                self._done.extend(chunk)  # try again next round; a re-publish would be a no-op
                raise


def _drop_events(items: list[tuple[str, Envelope]], dead: dict[str, str]) -> list[EventRow]:
    """One ``outbox.dropped`` event in its run's history per task not sent."""
    return [
        EventRow(
            run_id=envelope.run_id,
            step_id=envelope.step_id,
            type="outbox.dropped",
            attempt=envelope.attempt,
            agent_id=envelope.recipient,
            envelope_id=envelope.id,
            data={"reason": dead[envelope.id], "destination": destination},
            created_at=utcnow(),
        )
        for destination, envelope in items
        if envelope.id in dead
    ]
