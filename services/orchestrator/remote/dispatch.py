"""Dispatch to remote agents: those the orchestrator calls, instead of their reading the bus.

HTTP agents, MCP servers and A2A agents are reached each through its own transport module
(``Delivery``); what they share lives here. Tasks wait in a queue per agent, and at most
``per_agent`` deliveries go to one agent, ``per_tenant`` to the agents of one tenant (their
owner's), and ``total`` to all of them at once, so a fan-out of thousands neither exhausts
connections nor the database's pool, and one tenant's slow agents leave other tenants room.
Every task ends in one of three ways: delivered (the agent's answer, or its error, is published
on ``modx.results``), handed back (to the outbox table, when this process stops or the database
cannot be read: a relay sends it again), or dropped because nobody needs it any more (its run
ended, it was superseded, its deadline passed), which the step's own state already accounts for.
A delivery still in flight when its task dies that way is cancelled, and its transport tells the
peer when the protocol can (MCP ``notifications/cancelled``, A2A ``CancelTask``); not when the
task sent again follows the same remote work (``in_flight``, "Resumed").

What reaches the run when a peer fails is generic ("the agent could not be reached"): the
detail stays in the server's log, so a step's error cannot be used to map the network.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope, Kind
from bus.tasks import cancel_and_wait, cleanup
from bus.transport import Transport
from services.db.models import AgentRow, OutboxRow, utcnow
from services.orchestrator.authenticity import Authenticator
from services.orchestrator.dead import RESUMED_ELSEWHERE, dead_tasks
from services.orchestrator.in_flight import RESUMED
from services.orchestrator.remote.answers import error_envelope
from services.orchestrator.remote.delivery import Delivery, DeliveryFailed, Reply
from services.orchestrator.routing import REMOTE_PREFIX
from services.outage import Outage, database_unreachable, dependency_of

log = logging.getLogger(__name__)

UNREACHABLE = "the agent could not be reached"


class RemoteDispatcher:
    """Hands tasks to remote agents through their transport's ``Delivery``, in background
    tasks, with a window per agent and one for all."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        authenticator: Authenticator,
        deliveries: Mapping[str, Delivery],
        *,
        per_agent: int = 8,
        per_tenant: int = 32,
        total: int = 64,
        drain_s: float = 3.0,
        watch_s: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.authenticator = authenticator
        self.deliveries = dict(deliveries)
        self.per_agent = per_agent
        self.per_tenant = per_tenant
        self.total = total
        self.drain_s = drain_s
        self.watch_s = watch_s
        self.outage = Outage("the database or the bus, for remote agents' tasks", log)
        self.dropped = 0
        self.handed_back = 0
        self.cancelled = 0
        self._queues: dict[str, deque[Envelope]] = {}
        self._active: dict[str, int] = {}
        # The tenant each agent with work here belongs to (read once, forgotten when idle),
        # and the deliveries each tenant has in flight.
        self._owners: dict[str, str] = {}
        self._looking: set[str] = set()
        self._tenant_active: dict[str, int] = {}
        self._tasks: dict[asyncio.Task[None], tuple[str, Envelope]] = {}
        self._replies: dict[asyncio.Task[None], Reply] = {}
        self._dead: set[asyncio.Task[None]] = set()
        self._notices: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def queued(self) -> int:
        """Tasks waiting for a free slot."""
        return sum(len(q) for q in self._queues.values())

    @property
    def in_flight(self) -> int:
        """Deliveries running now."""
        return len(self._tasks)

    def submit(self, agent_id: str, envelope: Envelope) -> None:
        """Queue ``envelope`` for the agent; returns at once.

        A ``task.cancel`` (``services.orchestrator.in_flight``) goes out at once, outside the
        windows (the agent's slots may all be held by the very tasks it cancels): the delivery
        of its task, if still in flight, is cancelled, and the agent is told through its
        transport's ``cancel`` when it has one (HTTP: the cancel is POSTed; a task answered
        with ``202`` has no delivery in flight any more). A cancel that says ``resumed``
        only stops the delivery: the task sent after it follows the same remote work.
        """
        if envelope.kind is Kind.EVENT and envelope.topic == streams.TASK_CANCEL:
            payload = envelope.payload if isinstance(envelope.payload, dict) else {}
            resumed = payload.get(RESUMED) is True
            for task, (_, flying) in self._tasks.items():
                if flying.id == envelope.causation_id:
                    self._stop(task, "cancelled by the orchestrator", resumed)
            if not resumed:
                self._background(self._cancel(agent_id, envelope))
            return
        self._queues.setdefault(agent_id, deque()).append(envelope)
        self._pump()

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _look_up(self, agent_id: str) -> None:
        """Learn the agent's tenant, then start what its share allows."""
        try:
            async with self.sessions() as session:
                tenant = await session.scalar(
                    select(AgentRow.tenant).where(AgentRow.id == agent_id)
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the delivery meets the outage and is retried
            log.debug("could not read the tenant of agent %s: %r", agent_id, exc)
            tenant = None
        finally:
            self._looking.discard(agent_id)
        # An agent gone (or unreadable now) is a share of its own: its delivery says so.
        self._owners[agent_id] = tenant if tenant is not None else f"agent {agent_id}"
        self._pump()

    async def _cancel(self, agent_id: str, envelope: Envelope) -> None:
        """Tell the agent that nobody waits for the task any more (best effort)."""
        try:
            async with self.sessions() as session:
                agent = await session.get(AgentRow, agent_id)
            delivery = None if agent is None else self.deliveries.get(agent.transport)
            cancel = getattr(delivery, "cancel", None)
            if agent is not None and cancel is not None:
                await cancel(agent, envelope)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the answer it may still send is ignored all the same
            log.info("cancel %s to agent %s not delivered: %r", envelope.id, agent_id, exc)

    def _pump(self) -> None:
        """Start deliveries while both windows have room, taking agents in turn."""
        for agent_id in self._queues.keys() - self._owners.keys() - self._looking:
            self._looking.add(agent_id)
            self._background(self._look_up(agent_id))
        while not self._closing and len(self._tasks) < self.total:
            ready = [
                a
                for a, q in self._queues.items()
                if q
                and self._active.get(a, 0) < self.per_agent
                and a in self._owners
                and self._tenant_active.get(self._owners[a], 0) < self.per_tenant
            ]
            if not ready:
                break
            for agent_id in ready:
                tenant = self._owners[agent_id]
                if (
                    len(self._tasks) >= self.total
                    or self._tenant_active.get(tenant, 0) >= self.per_tenant
                ):
                    continue
                envelope = self._queues[agent_id].popleft()
                if not self._queues[agent_id]:
                    del self._queues[agent_id]
                self._active[agent_id] = self._active.get(agent_id, 0) + 1
                self._tenant_active[tenant] = self._tenant_active.get(tenant, 0) + 1
                reply = Reply(envelope, agent_id, self._publisher(envelope))
                task = asyncio.create_task(self._run(agent_id, envelope, reply))
                self._tasks[task] = (agent_id, envelope)
                self._replies[task] = reply
                task.add_done_callback(self._finished)
        if self._tasks and (self._watcher is None or self._watcher.done()) and not self._closing:
            self._watcher = asyncio.create_task(self._watch(), name="remote-dispatch-watch")

    def _publisher(self, task: Envelope) -> Callable[[Envelope], Awaitable[None]]:
        """How the delivery of ``task`` publishes its answers."""
        return lambda answer: self._publish(answer, task)

    def _stop(self, task: asyncio.Task[None], reason: str, resumed: bool) -> None:
        """Cancel a delivery in flight; ``resumed``: without telling the peer."""
        if task.done() or task in self._dead:
            return
        self._dead.add(task)
        self.cancelled += 1
        self._replies[task].resumed = resumed
        task.cancel(reason)

    def _finished(self, task: asyncio.Task[None]) -> None:
        agent_id, _ = self._tasks.pop(task)
        self._replies.pop(task, None)
        self._dead.discard(task)
        tenant = self._owners[agent_id]
        self._tenant_active[tenant] -= 1
        if not self._tenant_active[tenant]:
            del self._tenant_active[tenant]
        self._active[agent_id] -= 1
        if not self._active[agent_id]:
            del self._active[agent_id]
            if agent_id not in self._queues:
                del self._owners[agent_id]
        if not task.cancelled() and task.exception() is not None:  # _run catches everything
            log.error("remote dispatch of a task failed", exc_info=task.exception())
        self._pump()

    async def _watch(self) -> None:
        """While deliveries are in flight, cancel those whose task nobody needs any more."""
        while self._tasks and not self._closing:
            await asyncio.sleep(self.watch_s)
            flying = {env.id: task for task, (_, env) in self._tasks.items()}
            try:
                async with self.sessions() as session:
                    dead = await dead_tasks(
                        session, [env for _, env in self._tasks.values()], utcnow()
                    )
            except Exception as exc:  # an outage: the next round looks again
                log.debug("could not check remote tasks in flight: %s", exc)
                continue
            for task_id, reason in dead.items():
                task = flying.get(task_id)
                if task is not None and not task.done() and task not in self._dead:
                    log.info("cancelling the delivery of task %s: %s", task_id, reason)
                    self._stop(task, reason, reason == RESUMED_ELSEWHERE)

    async def close(self) -> None:
        """Stop: let deliveries in flight finish for ``drain_s``, then hand back to the
        outbox whatever was not delivered (queued or cut short), and close the transports."""
        self._closing = True
        await cancel_and_wait(self._notices)  # a lost cancel leaves an ignored answer
        if self._watcher is not None:
            await cancel_and_wait([self._watcher])
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.drain_s)
        unfinished = [item for task, item in self._tasks.items() if task not in self._dead]
        await cancel_and_wait(self._tasks)
        left = [(a, e) for a, q in self._queues.items() for e in q] + unfinished
        self._queues.clear()
        if left:
            await self._hand_back(left)
        for delivery in self.deliveries.values():
            try:
                await delivery.close()
            except Exception:
                log.exception("could not close a remote transport")

    async def _hand_back(self, items: list[tuple[str, Envelope]]) -> None:
        """Put undelivered tasks back in the outbox table, for a relay to send again."""
        if await cleanup(
            f"handing {len(items)} remote task(s) back to the outbox (else their steps' "
            "timeouts send them again)",
            self._write_back(items),
            server="the database",
            unreachable=database_unreachable,
            logger=log,
        ):
            self.handed_back += len(items)
            log.info("handed %d undelivered remote task(s) back to the outbox", len(items))

    async def _write_back(self, items: list[tuple[str, Envelope]]) -> None:
        async with self.sessions() as session, session.begin():
            for agent_id, envelope in items:
                await session.merge(
                    OutboxRow(
                        id=envelope.id,
                        destination=REMOTE_PREFIX + agent_id,
                        envelope=envelope.to_json().decode(),
                        created_at=utcnow(),
                    )
                )

    async def _run(self, agent_id: str, envelope: Envelope, reply: Reply) -> None:
        """Deliver one task; no exception escapes, and none loses the task."""
        try:
            await self._deliver(agent_id, envelope, reply)
            self.outage.recovered()
        except asyncio.CancelledError:
            raise
        except DeliveryFailed as failure:
            await self._publish(
                error_envelope(
                    envelope, failure.code, failure.message, failure.retryable, agent_id
                ),
                envelope,
            )
        except Exception as exc:
            if dependency_of(exc) is not None:  # the database or the bus is down: later
                self.outage.failed(exc)
                await self._retry_later(agent_id, envelope)
                return
            log.error("task %s: dispatch to agent %s failed", envelope.id, agent_id, exc_info=exc)
            await self._publish(
                error_envelope(envelope, "dispatch_failed", UNREACHABLE, True, agent_id), envelope
            )

    async def _retry_later(self, agent_id: str, envelope: Envelope) -> None:
        if envelope.expired():
            self.dropped += 1  # the step times out on its own
            return
        await asyncio.sleep(1.0 + random.random())
        if self._closing:
            await self._hand_back([(agent_id, envelope)])
        else:
            self.submit(agent_id, envelope)

    async def _deliver(self, agent_id: str, envelope: Envelope, reply: Reply) -> None:
        async with self.sessions() as session:
            # It may have waited for a slot: a cancelled run's task is never sent.
            dead = await dead_tasks(session, [envelope], utcnow())
            agent = None if dead else await session.get(AgentRow, agent_id)
        if dead:
            self.dropped += 1
            log.info("task %s not sent to agent %s: %s", envelope.id, agent_id, dead[envelope.id])
            return
        delivery = None if agent is None else self.deliveries.get(agent.transport)
        if agent is None or delivery is None:
            # From the server: an answer in the name of an agent that is gone would be refused.
            message = f"agent {agent_id} is not registered"
            await self._publish(error_envelope(envelope, "agent_gone", message, True), envelope)
            return
        await delivery.deliver(agent, envelope, reply)

    async def _publish(self, envelope: Envelope, task: Envelope) -> None:
        """Publish the answer to ``task``, retrying with backoff while the bus is down (until
        the task's deadline: after it, the step's timeout decides)."""
        deadline = task.deadline.timestamp() if task.deadline is not None else None
        delay = 0.1
        while True:
            try:
                await self.transport.publish(
                    streams.reply_stream(task.reply_to), self.authenticator.stamp(envelope)
                )
                return
            except Exception as exc:
                if dependency_of(exc) is None:
                    log.exception("could not publish the answer of a remote agent")
                    return
                self.outage.failed(exc)
                if self._closing or (deadline is not None and utcnow().timestamp() > deadline):
                    log.warning("answer %s of a remote agent not published: %s", envelope.id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
