"""Whether a task in an agent's inbox is still held by it once the agent's lease ran out.

A lease only says that the agent's heartbeats stopped landing, which a live agent paused or
starved of CPU does too. The bus says more: a consumer working on an entry renews its delivery
every third of its visibility timeout, so a delivery still pending and renewed within the
visibility timeout has a consumer that works on it, or did until a moment ago. A task on its
capability's shared stream is left to the bus (another consumer of the group claims it once
idle); nobody else reads an inbox, so for a task there the orchestrator asks the bus the same
question (``Transport.pending_delivery``) and sends the task again only once the answer is no:
never delivered (its agent stopped before reading it), released, or idle past the visibility
timeout (its consumer stopped renewing it), or its agent was removed. See docs/guarantees.md,
"An agent that died".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bus import streams
from bus.transport import PendingDelivery, Transport
from services.db.models import AgentRow
from services.orchestrator.records import Step

log = logging.getLogger(__name__)

MIN_RECHECK_S = 0.5
"""The soonest a held task is looked at again (a delivery idle just under the timeout)."""


@dataclass(frozen=True)
class Holding:
    """Asks the bus about the inbox deliveries of agents whose lease ran out.

    Args:
        transport: The bus the agents read.
        visibility_timeout_s: The agents' visibility timeout: a delivery idle that long has
            a consumer that stopped renewing it (dead, or paused that long).
    """

    transport: Transport
    visibility_timeout_s: float

    async def delivery(self, row: Step) -> PendingDelivery | None:
        """The delivery of ``row``'s task in its agent's inbox while a consumer holds it;
        None when none does, and when the bus cannot say (the task is then sent again, as
        it always was)."""
        if row.agent_id is None or row.task_id is None:
            return None
        inbox = streams.inbox(row.agent_id)
        try:
            found = await self.transport.pending_delivery(inbox, row.agent_id, row.task_id)
        except Exception as exc:  # any failure: answer as before the check
            log.warning("could not read what %s holds (%s): its task is sent again", inbox, exc)
            return None
        if found is None or found.idle_s >= self.visibility_timeout_s:
            return None
        return found

    def recheck_in(self, delivery: PendingDelivery) -> float:
        """Seconds until ``delivery`` would be idle for the visibility timeout, if not renewed."""
        return max(MIN_RECHECK_S, self.visibility_timeout_s - delivery.idle_s)


async def agent_status(session: AsyncSession, agent_id: str) -> str | None:
    """The registry's status of an agent (online, offline, draining); None once removed."""
    status = await session.execute(select(AgentRow.status).where(AgentRow.id == agent_id))
    return status.scalar_one_or_none()
