"""``Holding``: what an offline agent's inbox holds, read from the real in-memory bus."""

from __future__ import annotations

import asyncio

from bus import streams
from bus.envelope import Envelope, Kind
from bus.memory import MemoryTransport
from bus.transport import ConsumerOptions, PendingDelivery
from services.orchestrator.holding import Holding
from services.orchestrator.records import Step


class Counted(MemoryTransport):
    """The in-memory bus, counting how often an inbox is read."""

    reads = 0

    async def pending_deliveries(self, stream: str, group: str) -> dict[str, PendingDelivery]:
        self.reads += 1
        return await super().pending_deliveries(stream, group)


async def test_one_sweep_reads_an_inbox_once_for_all_its_tasks() -> None:
    """An agent gone offline with several tasks held in its inbox: each is found held, and
    the inbox is read once, not once per task (each read takes every pending entry); a task
    it does not hold is not found."""
    bus = Counted()
    agent = "agent-1"
    tasks = [Envelope(kind=Kind.TASK, topic="t", sender="o", payload={}) for _ in range(3)]
    await bus.publish_many([(streams.inbox(agent), task) for task in tasks])
    taken: list[str] = []
    forever = asyncio.Event()

    async def holds(envelope: Envelope) -> None:
        taken.append(envelope.id)
        await forever.wait()

    options = ConsumerOptions(concurrency=3, batch_size=3)
    sub = await bus.subscribe(streams.inbox(agent), agent, "c", holds, options)
    while len(taken) < 3:  # noqa: ASYNC110 - the handlers run on this loop
        await asyncio.sleep(0.01)
    holding = Holding(bus, visibility_timeout_s=30)
    rows = [Step(agent_id=agent, task_id=task.id) for task in tasks]
    found = [await holding.delivery(row) for row in rows]
    assert all(isinstance(d, PendingDelivery) and d.consumer == "c" for d in found), found
    assert await holding.delivery(Step(agent_id=agent, task_id="not-there")) is None
    assert bus.reads == 1
    await sub.stop(drain=False)
    await bus.close()
