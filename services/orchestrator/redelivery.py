"""Redelivery: the database says what is in flight; the bus is only a cache of it.

Two ways a task can vanish from the bus without anyone failing:

- **the bus lost its data** (a Redis that restarted empty, a failover to a replica that had
  not caught up): the bus's incarnation changes (``Transport.incarnation``). Every step the
  database holds as in flight and that was sent before the new incarnation began is sent
  again at once;
- **an agent sabotaged a results stream** (its own Redis user may append there, and so may
  pick the entry's id or trim the stream: ``bus.audit``): every round audits the results
  streams this replica reads. A forged id is undone at once; when answers were trimmed away
  (or forged ids removed unread), every step in flight of the affected partitions (all of
  them for ``modx.results``), sent before the audit, is sent again;
- **nobody claimed a task** within ``claim_timeout_s`` (no answer, no ``task.started``) and the
  bus no longer remembers publishing it (``Transport.published``): it is sent again. A task
  still waiting in its stream for a free agent is remembered, so a backlog causes nothing.

Each replica looks after the runs it owns (``services.orchestrator.ownership``). Either way it
is a redelivery of the same attempt (a new task id, ``step.redelivered`` in the
history), not a retry: the workflow's retry settings are not consulted, because the attempt
never ran out. An agent still working on the old task may answer too; the first answer for the
attempt counts and the other is recorded as a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import exists, select

from bus import streams
from bus.audit import Audit
from services import metrics
from services.db.models import OutboxRow, StepRow, utcnow
from services.orchestrator.records import Step
from services.orchestrator.states import ACTIVE_STEP, StepState
from services.outage import Outage, log_failure

if TYPE_CHECKING:
    from services.orchestrator.service import Orchestrator, RunAction

log = logging.getLogger(__name__)

BATCH = 500
Pick = Callable[[Step], bool]
"""Which of a run's in-flight steps to send again."""


class Redelivery:
    """Watches the bus for lost data and unclaimed tasks; sends them again.

    Args:
        orchestrator: Whose runs to change (through its writer).
        claim_timeout_s: How long a task may go unclaimed before the bus is asked about it.
        poll_s: How often the bus's incarnation is checked.
    """

    def __init__(
        self, orchestrator: Orchestrator, *, claim_timeout_s: float, poll_s: float = 1.0
    ) -> None:
        self.orchestrator = orchestrator
        self.claim_timeout_s = claim_timeout_s
        self.poll_s = poll_s
        self.claim_every_s = max(poll_s, min(claim_timeout_s / 2, 5.0))
        self.outage = Outage("the bus or the database, for redelivery", log)
        self.redelivered = 0
        self.losses = 0
        # What the audits found lately, for operators and tests (bounded: an agent may repeat).
        self.sabotaged: deque[Audit] = deque(maxlen=1000)
        self._known: str | None = None
        self._lost_before: datetime | None = None  # a loss seen and not yet made good
        self._claims_at = 0.0

    async def run(self) -> None:
        """Check forever; survives outages of the bus and the database."""
        while True:
            try:
                await self.check()
                self.outage.recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(self.outage, exc, log, "redelivery check")
            await asyncio.sleep(self.poll_s)

    async def check(self) -> int:
        """One round: a lost bus, then (when due) unclaimed tasks; returns tasks sent again."""
        transport = self.orchestrator.transport
        incarnation = await transport.incarnation()
        if incarnation.new or (self._known is not None and incarnation.id != self._known):
            self.losses += 1
            self._lost_before = incarnation.started_at
        # A bus replaced while this process watched it is always worth a warning; a new one at
        # start (an embedded server's in-process bus, a fresh Redis) only if work was in flight.
        seen_loss = self._known is not None and incarnation.id != self._known
        self._known = incarnation.id
        sent = 0
        if self._lost_before is not None:
            resent = await self.after_loss(self._lost_before)
            if seen_loss or resent:
                log.warning(
                    "the bus lost its data (incarnation %s, began %s); %d tasks in flight sent "
                    "again",
                    incarnation.id,
                    incarnation.started_at.isoformat(),
                    resent,
                )
            sent += resent
            self._lost_before = None
        if time.monotonic() >= self._claims_at:
            sent += await self.unclaimed()
            self._claims_at = time.monotonic() + self.claim_every_s
        self.redelivered += sent
        # Last: a Redis that cannot run the audit (older than 7.0) fails only the audit.
        audited = await self.audit()
        self.redelivered += audited
        return sent + audited

    async def audit(self) -> int:
        """Audit the results streams this replica reads; send again the tasks in flight
        whose answers the sabotage found may have taken (``bus.audit``); returns how many."""
        orchestrator = self.orchestrator
        mine = orchestrator.ownership.mine
        names = [streams.RESULTS, *(streams.result_partition(p) for p in sorted(mine))]
        skew_s = orchestrator.authenticator.clock_skew_s
        bound = orchestrator.consumer_options.max_entry_bytes  # a forged entry's data too
        audited = await orchestrator.transport.audit(names, skew_s, bound)
        found = [a for a in audited if not a.clean]
        if not found:
            return 0
        before = utcnow()
        self.sabotaged.extend(found)
        metrics.count_tampering("results", found)
        what = "; ".join(
            f"{a.stream}: {a.forged} forged, {a.lost} removed unread, {a.lost_pending} removed "
            "pending"
            for a in found
        )
        log.warning("results streams sabotaged (%s): undone", what)
        lost = [a.stream for a in found if a.lost_answers]
        if not lost:  # forged entries that had been read (and refused) only
            return 0
        # ``modx.results`` carries answers of any run, and the first replica to audit it
        # undoes the loss for all: every partition, owned here or not.
        everything = set(range(orchestrator.ownership.partitions))
        hit = everything if streams.RESULTS in lost else set()
        hit |= {int(name.rpartition(".")[2]) for name in lost if name != streams.RESULTS}
        reason = f"answers may have been lost to a sabotaged results stream ({what})"
        return await self.after_loss(before, reason, partitions=hit)

    async def after_loss(
        self,
        before: datetime,
        reason: str | None = None,
        *,
        partitions: set[int] | None = None,
    ) -> int:
        """Send again every in-flight task sent before ``before``: of the runs this replica
        owns, or of the runs in ``partitions``, owned here or not (a run's version check keeps
        a change by another replica right)."""
        async with self.orchestrator.readers() as session:
            query = (
                select(StepRow.run_id)
                .where(StepRow.status.in_(list(ACTIVE_STEP)), StepRow.scheduled_at < before)
                .distinct()
            )
            run_ids = list((await session.execute(query)).scalars())

        def lost(row: Step) -> bool:
            return row.scheduled_at is None or row.scheduled_at < before

        reason = reason or f"the bus lost its data at {before.isoformat()}"
        ownership = self.orchestrator.ownership
        if partitions is None:
            picked = [r for r in run_ids if ownership.owns(r)]
        else:
            picked = [r for r in run_ids if ownership.partition(r) in partitions]
        return await self._redeliver({r: lost for r in picked}, reason)

    async def unclaimed(self) -> int:
        """Send again tasks nobody claimed in time that the bus no longer holds."""
        cutoff = utcnow() - timedelta(seconds=self.claim_timeout_s)
        async with self.orchestrator.readers() as session:
            # Tasks on a capability's stream: no agent yet (pinned tasks have theirs, whose
            # lease covers them; HTTP agents' are the HTTP dispatcher's). A task still in the
            # outbox is the relay's to publish (again, should its marker be gone), not lost:
            # ``scheduled_at`` is taken before the commit, which may come after the claim
            # timeout (a database that froze), and the task is published only after it.
            query = (
                select(StepRow.run_id, StepRow.task_id, StepRow.capability)
                .where(
                    StepRow.agent_id.is_(None),
                    StepRow.status == StepState.SCHEDULED,
                    StepRow.scheduled_at < cutoff,
                    ~exists().where(OutboxRow.id == StepRow.task_id),
                )
                .limit(BATCH)
            )
            owns = self.orchestrator.ownership.owns
            rows = [
                (r, t, c)
                for r, t, c in (await session.execute(query)).all()
                if t is not None and owns(r)
            ]
        if not rows:
            return 0
        held = await self.orchestrator.transport.published(
            [(streams.tasks(capability), task_id) for _, task_id, capability in rows]
        )
        lost: dict[str, set[str]] = defaultdict(set)
        for (run_id, task_id, _), known in zip(rows, held, strict=True):
            if not known:
                lost[run_id].add(task_id)
        reason = f"no agent claimed it within {self.claim_timeout_s:g} s and the bus lost it"
        return await self._redeliver(
            {run_id: _task_in(ids) for run_id, ids in lost.items()}, reason
        )

    async def _redeliver(self, picks: dict[str, Pick], reason: str) -> int:
        engine = self.orchestrator.engine

        def action(pick: Pick) -> RunAction:
            return lambda ctx: engine.redeliver(ctx, pick, reason)

        items = list(picks.items())
        sent = 0
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            counts = await asyncio.gather(
                *(self.orchestrator.in_run(run_id, action(pick)) for run_id, pick in chunk)
            )
            sent += sum(c for c in counts if isinstance(c, int))
        if sent:
            log.warning("redelivered %d task(s): %s", sent, reason)
        return sent


def _task_in(task_ids: set[str]) -> Pick:
    def pick(row: Step) -> bool:
        return row.task_id in task_ids

    return pick
