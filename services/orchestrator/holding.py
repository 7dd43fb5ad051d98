"""Whether a task in an agent's inbox is still held by it once the agent's lease ran out.

A lease only says that the agent's heartbeats stopped landing, which a live agent paused or
starved of CPU does too. The bus says more: a consumer working on an entry renews its delivery
every third of its visibility timeout, so a delivery still pending and renewed within the
visibility timeout has a consumer that works on it, or did until a moment ago. A task on its
capability's shared stream is left to the bus (another consumer of the group claims it once
idle); nobody else reads an inbox, so for a task there the orchestrator asks the bus the same
question (``Transport.pending_deliveries``) and sends the task again only once the answer is no:
never delivered (its agent stopped before reading it), released, or idle past the visibility
timeout (its consumer stopped renewing it), or its agent was removed. See docs/guarantees.md,
"An agent that died".
"""

from __future__ import annotations

import asyncio
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


class Holding:
    """Asks the bus about the inbox deliveries of agents whose lease ran out.

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
        self._read: dict[str, tuple[float, asyncio.Future[dict[str, PendingDelivery]]]] = {}

    async def delivery(self, row: Step) -> PendingDelivery | None:
        """The delivery of ``row``'s task in its agent's inbox while a consumer holds it;
        None when none does, and when the bus cannot say (the task is then sent again, as
        it always was)."""
        if row.agent_id is None or row.task_id is None:
            return None
        inbox = streams.inbox(row.agent_id)
        try:
            found = (await self._pending(inbox, row.agent_id)).get(row.task_id)
        except Exception as exc:  # any failure: answer as before the check
            log.warning("could not read what %s holds (%s): its task is sent again", inbox, exc)
            return None
        if found is None or found.idle_s >= self.visibility_timeout_s:
            return None
        return found

    async def keep(self, ctx: RunContext, row: Step) -> bool:
        """Whether ``row``'s task is still held in its agent's inbox; if so, the step waits
        (``step.held``, once), looked at again when the delivery would be idle for the
        visibility timeout."""
        deadline = in_flight.task_deadline(row)
        if row.meta.get(in_flight.VIA_REMOTE) or deadline is None:
            return False
        delivery = await self.delivery(row)
        if delivery is None or ctx.now >= deadline:
            return False
        if in_flight.HELD not in row.meta:
            reason = (
                f"agent {row.agent_id} went offline; its consumer {delivery.consumer or '?'} "
                f"still holds the task (idle {delivery.idle_s:.1f} s)"
            )
            ctx.event("step.held", row, data={"reason": reason, "task_id": row.task_id})
        recheck = ctx.now + timedelta(seconds=self.recheck_in(delivery))
        in_flight.hold(row, recheck, deadline)
        return True

    def recheck_in(self, delivery: PendingDelivery) -> float:
        """Seconds until ``delivery`` would be idle for the visibility timeout, if not renewed."""
        return max(MIN_RECHECK_S, self.visibility_timeout_s - delivery.idle_s)

    async def _pending(self, inbox: str, group: str) -> dict[str, PendingDelivery]:
        now = time.monotonic()
        kept = self._read.get(inbox)
        if kept is None or kept[0] < now:
            self._read = {k: v for k, v in self._read.items() if v[0] >= now}
            read = asyncio.ensure_future(self.transport.pending_deliveries(inbox, group))
            kept = self._read[inbox] = (now + FRESH_S, read)
        return await asyncio.shield(kept[1])


async def agent_status(session: AsyncSession, agent_id: str) -> str | None:
    """The registry's status of an agent (online, offline, draining); None once removed."""
    status = await session.execute(select(AgentRow.status).where(AgentRow.id == agent_id))
    return status.scalar_one_or_none()
