"""Whether a task in an agent's inbox is still held by it once the agent's lease ran out.

A lease only says that the agent's heartbeats stopped landing, which a live agent paused or
starved of CPU does too. The bus says more: a consumer working on an entry renews its delivery
every third of its visibility timeout, so a delivery still pending and renewed within the
visibility timeout has a consumer that works on it, or did until a moment ago. A task on its
capability's shared stream is left to the bus (another consumer of the group claims it once
idle); nobody else reads an inbox, so for a task there the orchestrator asks the bus the same
question (``Transport.pending_deliveries``) and sends the task again only once the answer is no:
never delivered (its agent stopped before reading it), released, or idle past the visibility
timeout (its consumer stopped renewing it), or its agent was removed. A task sent again is
taken back from the inbox once that is committed, if still unread, and no other entry is
(``Transport.withdraw``, ``Orchestrator.committed``): an agent only paused cannot run it
later too, and gets the tasks of other runs sent to it meanwhile. A task whose delivery the
inbox acknowledged was answered (the answer goes out with the acknowledgement, in one write),
though the answer may not be recorded yet: an agent that deregisters right after its last
answer is the usual case. It is held too, never sent again by the agent's leaving
(``Transport.acknowledged``). See docs/guarantees.md, "An agent that died".
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bus import streams
from bus.transport import PendingDelivery, Transport
from services.db.models import AgentRow
from services.orchestrator import in_flight
from services.orchestrator.context import RunContext
from services.orchestrator.records import Step

log = logging.getLogger(__name__)

FRESH_S = 0.5
"""How long what an inbox holds is taken as read: a lease sweep sends each run of an agent
gone offline to the writer in turn, and with n tasks in its inbox re-reading it for each cost
n times n entries read. A delivery acknowledged meanwhile is seen held once more: the step
waits one recheck more."""
MIN_RECHECK_S = FRESH_S
"""The soonest a held task is looked at again (a delivery idle just under the timeout); no
sooner than ``FRESH_S``, so a step's recheck always reads the inbox afresh."""


OFFLINE_WHY = "went offline"
"""What became of an agent whose lease ran out (``step.held`` and ``step.redispatched`` say it)."""
DEREGISTERED_WHY = "deregistered"
"""What became of an agent that deregistered (``DELETE /v1/agents/{id}``)."""


class Answered(enum.Enum):
    """The inbox acknowledged the task's delivery: its agent answered it."""

    ANSWERED = "answered"


ANSWERED = Answered.ANSWERED
Inbox = tuple[dict[str, PendingDelivery], set[str]]
"""What an inbox holds: pending deliveries by envelope id, and the envelopes it answered last."""


class Holding:
    """Asks the bus about the inbox deliveries of agents that left (lease or deregistration).

    What an inbox holds is read once for all its tasks a lease sweep looks at (kept
    ``FRESH_S``).

    Args:
        transport: The bus the agents read.
        visibility_timeout_s: The agents' visibility timeout: a delivery idle that long has
            a consumer that stopped renewing it (dead, or paused that long).
    """

    def __init__(self, transport: Transport, visibility_timeout_s: float) -> None:
        self.transport = transport
        self.visibility_timeout_s = visibility_timeout_s
        self._read: dict[str, tuple[float, asyncio.Future[Inbox]]] = {}

    async def delivery(self, row: Step) -> PendingDelivery | Answered | None:
        """The delivery of ``row``'s task in its agent's inbox while a consumer holds it, or
        ``ANSWERED`` once the inbox acknowledged it; None when neither, and when the bus
        cannot say (the task is then sent again, as it always was)."""
        if row.agent_id is None or row.task_id is None:
            return None
        inbox = streams.inbox(row.agent_id)
        try:
            pending, acknowledged = await self._pending(inbox, row.agent_id)
        except Exception as exc:  # any failure: answer as before the check
            log.warning("could not read what %s holds (%s): its task is sent again", inbox, exc)
            return None
        found = pending.get(row.task_id)
        if found is not None and found.idle_s < self.visibility_timeout_s:
            return found
        return ANSWERED if found is None and row.task_id in acknowledged else None

    async def keep(self, ctx: RunContext, row: Step, why: str) -> bool:
        """Whether ``row``'s task is still held in its agent's inbox (``why``: what became of
        the agent); if so, the step waits (``step.held``, once), looked at again when the
        delivery would be idle for the visibility timeout."""
        deadline = in_flight.task_deadline(row)
        if row.meta.get(in_flight.VIA_REMOTE) or deadline is None:
            return False
        delivery = await self.delivery(row)
        if delivery is None or ctx.now >= deadline:
            return False
        if in_flight.HELD not in row.meta:
            if delivery is ANSWERED:
                holds = "it answered the task (its inbox acknowledged it): the answer counts"
            else:
                holds = (
                    f"its consumer {delivery.consumer or '?'} still holds the task "
                    f"(idle {delivery.idle_s:.1f} s)"
                )
            reason = f"agent {row.agent_id} {why}; {holds}"
            ctx.event("step.held", row, data={"reason": reason, "task_id": row.task_id})
        recheck = ctx.now + timedelta(seconds=self.recheck_in(delivery))
        in_flight.hold(row, recheck, deadline)
        return True

    def recheck_in(self, delivery: PendingDelivery | Answered) -> float:
        """Seconds until ``delivery`` would be idle for the visibility timeout, if not renewed
        (an answered task: the visibility timeout, time enough for its answer)."""
        idle_s = 0.0 if delivery is ANSWERED else delivery.idle_s
        return max(MIN_RECHECK_S, self.visibility_timeout_s - idle_s)

    async def _pending(self, inbox: str, group: str) -> Inbox:
        now = time.monotonic()
        kept = self._read.get(inbox)
        if kept is None or kept[0] < now:
            self._read = {k: v for k, v in self._read.items() if v[0] >= now}
            read = asyncio.ensure_future(self._read_inbox(inbox, group))
            kept = self._read[inbox] = (now + FRESH_S, read)
        return await asyncio.shield(kept[1])

    async def _read_inbox(self, inbox: str, group: str) -> Inbox:
        # Pending before acknowledged: an entry acknowledged between the two reads is found
        # answered, not free.
        pending = await self.transport.pending_deliveries(inbox, group)
        return pending, await self.transport.acknowledged(inbox, group)


async def agent_status(session: AsyncSession, agent_id: str) -> str | None:
    """The registry's status of an agent (online, offline, draining); None once removed."""
    status = await session.execute(select(AgentRow.status).where(AgentRow.id == agent_id))
    return status.scalar_one_or_none()
