"""``TaskRuntime``: serves an agent's capabilities from the bus.

It subscribes to ``modx.tasks.<capability>`` (group = capability, so agents serving the same
capability share the load) for every capability, and to the agent's inbox for pinned tasks.
For each task it runs the handler (publishing ``task.started`` if it runs for a while) and
returns the result or the structured error as the entry's reply: the bus publishes it to
``modx.results`` and then acknowledges the entry, in one round trip. A crash mid-task leaves
the entry pending for redelivery (docs/protocol.md, "Tasks (bus)").

Concurrency is bounded across all subscriptions by one budget. When it is used up, every
subscription is paused, so entries stay in the stream for other agents instead of waiting
here (where they would age towards their visibility timeout and be delivered twice).

A cancel from the orchestrator (``task.cancel`` on the agent's control stream, which is never
paused) cancels the handler's asyncio task; the entry is then acknowledged without an answer
(docs/protocol.md, "Cancellation").
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Collection, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from agents.sdk.definition import CapabilityDefinition
from agents.sdk.errors import SetupError
from agents.sdk.execution import Outcome, TaskFailure, execute, unknown_capability
from agents.sdk.spill import ResultSpill
from bus import streams
from bus.envelope import Envelope, Kind, answer, utcnow
from bus.signing import Ed25519PublicKey, load_public_key, verify
from bus.tasks import stop_within
from bus.transport import (
    DEFAULT_MAX_ENTRY_BYTES,
    ConsumerOptions,
    Reply,
    Subscription,
    Transport,
)

if TYPE_CHECKING:
    from agents.sdk.agent import Agent

logger = logging.getLogger("agents.sdk")


def result_envelope(task: Envelope, sender: str, outcome: Outcome) -> Envelope:
    """The ``result`` or ``error`` envelope that reports ``outcome`` for ``task``."""
    kind = Kind.RESULT if outcome.ok else Kind.ERROR
    return answer(task, sender, kind, task.topic, outcome.body())


class TaskRuntime:
    """Consumes an agent's task streams and answers every task on ``modx.results``.

    Args:
        agent: The agent whose capabilities to serve.
        transport: The bus.
        agent_id: The id the registry gave the agent (consumer name, inbox, ``sender``).
        max_concurrency: Tasks run at once, across capabilities; defaults to the agent's.
        spill: Where results that could not be published before a stop are kept; what an
            earlier run kept there is published first, at ``start``.
        orchestrator_key: The orchestrator's public key (from the registration): a task not
            signed with it goes to the dead-letter stream unrun. None runs every task (only
            a server that signs nothing, in development, gives none).
        inbox_only: Capabilities whose task stream this agent may not read (the
            registration's ``inbox_only``: another tenant's agents read it); their tasks
            come to the inbox.
        max_entry_bytes: The largest answer envelope the server keeps
            (``MODX_BUS_MAX_ENTRY_BYTES``); a larger answer is sent as an ``answer_too_large``
            error instead.
    """

    def __init__(
        self,
        agent: Agent,
        transport: Transport,
        agent_id: str,
        *,
        max_concurrency: int | None = None,
        spill: ResultSpill | None = None,
        orchestrator_key: Ed25519PublicKey | str | None = None,
        inbox_only: Collection[str] = (),
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
    ) -> None:
        self._agent = agent
        self._max_entry_bytes = max_entry_bytes
        self._inbox_only = frozenset(inbox_only)
        self._spill = spill
        self._orchestrator_key = (
            load_public_key(orchestrator_key) if orchestrator_key is not None else None
        )
        self._transport = transport
        self._agent_id = agent_id
        self._limit = max_concurrency or agent.max_concurrency
        if self._limit < 1:
            raise SetupError("max_concurrency must be at least 1")
        self._slots = asyncio.Semaphore(self._limit)
        self._subscriptions: list[Subscription] = []
        self._inbox: Subscription | None = None
        self._control: Subscription | None = None
        self._running: dict[str, asyncio.Task[Outcome]] = {}
        self._cancelled: set[str] = set()
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._paused = False
        self._stopping = False
        self._background: set[asyncio.Task[None]] = set()
        self._hooks_ran = False  # the agent's on_start hooks ran: its on_stop hooks are due

    @property
    def agent_id(self) -> str:
        """The id the agent currently answers as."""
        return self._agent_id

    @property
    def in_flight(self) -> int:
        """Tasks received and not yet answered."""
        return self._active

    @property
    def paused(self) -> bool:
        """True while the subscriptions are paused (saturated or stopping)."""
        return self._paused

    async def start(self) -> None:
        """Run the agent's ``on_start`` hooks, then subscribe to every capability's task stream
        and to the agent's inbox."""
        if not self._agent.capabilities:
            raise SetupError(f"agent {self._agent.name!r} has no capabilities to serve")
        # Set first: a start that fails half way still runs the on_stop hooks at the stop.
        self._hooks_ran = True
        await self._agent.started()
        if self._spill is not None:
            try:
                await self._spill.publish(self._transport)
            except Exception as exc:  # the bus is away: they wait for the next start
                logger.warning("could not publish results kept by an earlier run: %s", exc)
        for name in self._agent.capabilities:
            if name in self._inbox_only:
                continue
            self._subscriptions.append(
                await self._subscribe(streams.tasks(name), name, capability=name)
            )
        self._inbox = await self._subscribe(
            streams.inbox(self._agent_id), self._agent_id, capability=None
        )
        self._control = await self._subscribe_control(self._agent_id)
        served = ", ".join(self._agent.capabilities)
        logger.info("agent %s (%s) serving %s", self._agent.name, self._agent_id, served)

    async def rebind(self, agent_id: str) -> None:
        """Answer as ``agent_id`` from now on (after registering again) and move the inbox."""
        old, old_control = self._inbox, self._control
        self._agent_id = agent_id
        self._inbox = await self._subscribe(streams.inbox(agent_id), agent_id, capability=None)
        self._control = await self._subscribe_control(agent_id)
        if self._paused:
            self._inbox.pause()
        if old is not None:
            # Tasks already pinned to the old id finish in the background; heartbeats go on.
            self._spawn(old.stop(drain=True))
        if old_control is not None:
            self._spawn(old_control.stop(drain=False))

    async def stop(
        self,
        *,
        drain: bool = True,
        drain_timeout_s: float | None = None,
        force: asyncio.Event | None = None,
    ) -> bool:
        """Stop pulling, optionally wait for in-flight tasks, stop the subscriptions, then run
        the agent's ``on_stop`` hooks (when ``start`` ran its ``on_start`` hooks).

        Args:
            drain: Wait for in-flight tasks to be answered before stopping.
            drain_timeout_s: Longest wait for the drain; None waits as long as it takes.
            force: Setting this event ends the wait early (e.g. a second SIGTERM).

        Returns:
            True when every in-flight task was answered; False when some were cancelled (their
            entries stay pending and the bus redelivers them).
        """
        self._stopping = True
        self._pause()
        drained = self._active == 0
        if drain and not drained:
            logger.info("draining %d in-flight task(s)", self._active)
            drained = await self._wait_idle(drain_timeout_s, force)
        # One deadline for every subscription's clean-up, the control stream's included: with
        # Redis not answering, one after the other made the stop a deadline longer each.
        try:
            with stop_within():
                stopping = [s.stop(drain=drained) for s in self._all()]
                if self._control is not None:
                    stopping.append(self._control.stop(drain=False))
                await asyncio.gather(*stopping)
            await asyncio.gather(*self._background, return_exceptions=True)
        finally:
            if self._hooks_ran:
                self._hooks_ran = False
                await self._agent.stopped()
        if not drained:
            logger.warning("stopped with unfinished tasks; the bus will redeliver them")
        return drained

    async def _wait_idle(self, limit_s: float | None, force: asyncio.Event | None) -> bool:
        waiters = [asyncio.ensure_future(self._idle.wait())]
        if force is not None:
            waiters.append(asyncio.ensure_future(force.wait()))
        try:
            await asyncio.wait(waiters, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self._active == 0

    async def _subscribe(self, stream: str, group: str, capability: str | None) -> Subscription:
        base = self._agent.consumer_options or ConsumerOptions()
        # Never fetch more than can run: fetched entries would wait here, unprocessed.
        options = dataclasses.replace(
            base,
            concurrency=self._limit,
            batch_size=min(base.batch_size, self._limit),
            on_unsent=self._spill.keep if self._spill is not None else base.on_unsent,
            verifier=self._check_task if self._orchestrator_key is not None else base.verifier,
        )

        async def handler(envelope: Envelope) -> Sequence[Reply] | None:
            return await self._on_task(envelope, capability)

        return await self._transport.subscribe(stream, group, self._agent_id, handler, options)

    async def _subscribe_control(self, agent_id: str) -> Subscription:
        base = self._agent.consumer_options or ConsumerOptions()
        options = dataclasses.replace(
            base,
            concurrency=4,
            batch_size=16,
            on_unsent=None,
            verifier=self._check_task if self._orchestrator_key is not None else base.verifier,
        )
        return await self._transport.subscribe(
            streams.control(agent_id), agent_id, agent_id, self._on_control, options
        )

    async def _on_control(self, envelope: Envelope) -> None:
        if envelope.kind is Kind.EVENT and envelope.topic == streams.TASK_CANCEL:
            if self.cancel(envelope.causation_id or ""):
                logger.info("task %s cancelled by the orchestrator", envelope.causation_id)
        else:
            logger.error("dropping %s %s from the control stream", envelope.kind, envelope.id)

    def cancel(self, task_id: str) -> bool:
        """Cancel the handler running ``task_id``; its entry is acknowledged unanswered.

        Returns:
            False when no handler runs that task here (done already, or never received).
        """
        job = self._running.get(task_id)
        if job is None or job.done():
            return False
        self._cancelled.add(task_id)
        job.cancel()
        return True

    async def _on_task(self, task: Envelope, capability: str | None) -> Sequence[Reply] | None:
        self._active += 1
        self._idle.clear()
        self._flow()
        try:
            async with self._slots:
                return await self._process(task, capability)
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()
            self._flow()

    async def _process(self, task: Envelope, capability: str | None) -> Sequence[Reply] | None:
        """Run ``task``; returns its answer, for the bus to publish and then acknowledge."""
        if task.kind is not Kind.TASK:
            # Not ours to answer; acknowledging keeps it from blocking the stream.
            logger.error("dropping a %s envelope %s from a task stream", task.kind.value, task.id)
            return None
        sender = self._agent_id
        # On a capability stream the stream names the capability; in the inbox the topic does.
        name = capability or task.topic
        definition = self._agent.capabilities.get(name)
        if definition is None:
            outcome = unknown_capability(name, list(self._agent.capabilities))
        else:
            ran = await self._run_announced(definition, task, name)
            if ran is None:
                return None  # cancelled by the orchestrator: nobody waits for an answer
            outcome = ran
        reply_to = streams.reply_stream(task.reply_to)
        reply = self._agent.sign(result_envelope(task, sender, outcome))
        size = len(reply.to_json())
        if size > self._max_entry_bytes:
            # The server would discard it unread (MODX_BUS_MAX_ENTRY_BYTES), and the step
            # would wait for its timeout: say so now, as an HTTP agent's answer would.
            failure = TaskFailure(
                "answer_too_large",
                f"the answer is {size} bytes on the bus, over {self._max_entry_bytes} "
                "(MODX_BUS_MAX_ENTRY_BYTES)",
                False,
            )
            refused = Outcome(failure=failure, started_at=outcome.started_at)
            reply = self._agent.sign(result_envelope(task, sender, refused))
        return [(reply_to, reply)]

    async def _run_announced(
        self, definition: CapabilityDefinition, task: Envelope, name: str
    ) -> Outcome | None:
        """Run the handler; publish ``task.started`` once it has run ``announce_after_s``.

        Returns None when the orchestrator cancelled the task (``cancel``).
        """
        sender, delay = self._agent_id, self._agent.announce_after_s
        started_at = utcnow()

        def started() -> Envelope:
            payload = {"capability": name, "started_at": started_at.isoformat()}
            return answer(task, sender, Kind.EVENT, streams.TASK_STARTED, payload)

        async def emit(topic: str, payload: dict[str, Any]) -> None:
            await self._publish(task, answer(task, sender, Kind.EVENT, topic, payload))

        if delay <= 0:
            await self._publish(task, started())
        # A timer publishes ``task.started`` only if the handler is still running by then: a
        # short task costs one timer, not a wait on two futures. The handler runs in a task of
        # its own, so that context variables it sets stay its own, and so that a cancel stops
        # it alone.
        announced: list[asyncio.Task[None]] = []

        def announce() -> None:
            announced.append(asyncio.ensure_future(self._publish(task, started())))

        job = asyncio.ensure_future(execute(definition, task, sender, emit))
        self._running[task.id] = job
        timer = asyncio.get_running_loop().call_later(delay, announce) if delay > 0 else None
        try:
            outcome = await job
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.id in self._cancelled and (current is None or current.cancelling() == 0):
                return None  # the orchestrator cancelled it (this runtime is not stopping)
            job.cancel()
            for publishing in announced:
                publishing.cancel()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._running.pop(task.id, None)
            self._cancelled.discard(task.id)
        if delay <= 0:
            return outcome
        if not announced:
            return Outcome(
                output=outcome.output,
                usage=outcome.usage,
                failure=outcome.failure,
                started_at=started_at,
            )
        # The result must not overtake its ``task.started``. An announcement the bus did not
        # take is given up, never the finished result: failing here would hand the task back
        # to run again, on a shared stream by another agent, whose answer the orchestrator
        # refuses when the announcement did land (the task is bound to this agent). The
        # result itself is retried until the task's deadline, then spilled.
        try:
            await announced[0]
        except ConnectionError as exc:
            logger.warning(
                "task %s: task.started not published (%s); sending the result", task.id, exc
            )
        return outcome

    async def _publish(self, task: Envelope, envelope: Envelope) -> None:
        """Publish an event about ``task`` where its answers go (its ``reply_to``)."""
        await self._transport.publish(
            streams.reply_stream(task.reply_to), self._agent.sign(envelope)
        )

    def _check_task(self, task: Envelope) -> str | None:
        """None for a task the orchestrator signed; else why it is refused (dead-lettered)."""
        assert self._orchestrator_key is not None
        if task.sender != "orchestrator":
            return f"a task from {task.sender!r}, not from the orchestrator"
        if not verify(task, self._orchestrator_key):
            return "task not signed with the orchestrator's key"
        return None

    def _flow(self) -> None:
        if self._active >= self._limit:
            self._pause()
        elif self._paused and not self._stopping:
            self._paused = False
            for sub in self._all():
                sub.resume()

    def _pause(self) -> None:
        if not self._paused:
            self._paused = True
            for sub in self._all():
                sub.pause()

    def _all(self) -> list[Subscription]:
        return [*self._subscriptions, *([self._inbox] if self._inbox else [])]

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
