"""The transactional outbox relay: publishes envelopes whose transaction committed.

The engine writes envelopes to the ``outbox`` table in the same transaction as the state change
that caused them. The relay publishes committed rows and deletes them. Rows are claimed with
``FOR UPDATE SKIP LOCKED`` so replicas never publish the same row concurrently; a relay that
crashes after publishing but before deleting leaves rows that are published again, and the
transport's de-duplication by envelope id (``dedupe_s``) makes that second publish a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus.envelope import Envelope
from bus.transport import Transport
from services.db.models import OutboxRow
from services.orchestrator.routing import HTTP_PREFIX

log = logging.getLogger(__name__)

HttpSubmit = Callable[[str, Envelope], None]


class OutboxRelay:
    """Moves committed envelopes from the outbox table to the bus (or to HTTP agents)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        http_submit: HttpSubmit | None = None,
        *,
        poll_s: float = 0.5,
        batch: int = 500,
        dedupe_s: float = 3600.0,
        before_delete: Callable[[list[OutboxRow]], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.http_submit = http_submit
        self.poll_s = poll_s
        self.batch = batch
        self.dedupe_s = dedupe_s
        self.before_delete = before_delete  # a hook for crash tests
        self.published = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit that queued rows)."""
        self._wake.set()

    async def run(self) -> None:
        """Flush whenever woken or every ``poll_s``; survives bus and database outages."""
        backoff = self.poll_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                while await self.flush() >= self.batch:
                    pass
                backoff = self.poll_s
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay: flush failed; retrying")
                backoff = min(max(backoff * 2, 0.05), 5.0)

    async def flush(self) -> int:
        """Publish one batch of committed rows and delete them; returns how many."""
        async with self.sessions() as session, session.begin():
            rows = list(
                (
                    await session.execute(
                        select(OutboxRow)
                        .order_by(OutboxRow.id)
                        .limit(self.batch)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            if not rows:
                return 0
            on_bus: list[tuple[str, Envelope]] = []
            to_http: list[tuple[str, Envelope]] = []
            for row in rows:
                envelope = Envelope.from_json(row.envelope)
                if row.destination.startswith(HTTP_PREFIX):
                    to_http.append((row.destination[len(HTTP_PREFIX) :], envelope))
                else:
                    on_bus.append((row.destination, envelope))
            if on_bus:
                await self.transport.publish_many(on_bus)
            if self.before_delete is not None:
                await self.before_delete(rows)
            await session.execute(
                delete(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows]))
            )
        # HTTP dispatch starts only after the delete committed: an HTTP agent has no de-duplication
        # of its own, and a lost POST is covered by the step's timeout and retry.
        if self.http_submit is not None:
            for agent_id, envelope in to_http:
                self.http_submit(agent_id, envelope)
        self.published += len(rows)
        return len(rows)
