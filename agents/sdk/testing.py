"""``AgentTestEnvironment``: run an agent on an in-memory bus, with no server and no registration.

The same ``TaskRuntime`` as in production consumes the task streams, so a test exercises the
real path (validation, ``task.started``, results, errors, concurrency, drain, signatures: the
environment plays the orchestrator with a key of its own and signs the tasks it sends, and
gives the agent a fresh key if it has none); only the registry is left out. ::

    async with AgentTestEnvironment(agent) as env:
        answer = await env.execute("legal.infer", {"facts": [...]})
        assert answer.kind == "result"
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from agents.sdk.agent import Agent
from agents.sdk.runtime import TaskRuntime
from bus import streams
from bus.envelope import Envelope, Kind
from bus.memory import MemoryTransport
from bus.signing import Ed25519PrivateKey, generate_keypair, sign
from bus.transport import Subscription, Transport


class AgentTestEnvironment:
    """An agent served from a private ``MemoryTransport``, and helpers to talk to it.

    Args:
        agent: The agent under test.
        agent_id: The id it answers as (``sender`` of its envelopes, its inbox).
        max_concurrency: Overrides the agent's concurrency budget.
        transport: A bus to use instead of a fresh ``MemoryTransport`` (not closed on exit).
        timeout_s: How long ``result`` waits by default before raising ``TimeoutError``; a
            guard against hanging tests, not a timing assertion.
        orchestrator_key: The key this environment signs tasks with (another environment's,
            to play the same orchestrator); a new one by default.
    """

    def __init__(
        self,
        agent: Agent,
        *,
        agent_id: str = "test-agent",
        max_concurrency: int | None = None,
        transport: Transport | None = None,
        timeout_s: float = 10.0,
        orchestrator_key: Ed25519PrivateKey | None = None,
    ) -> None:
        self.agent = agent
        self.agent_id = agent_id
        self.timeout_s = timeout_s
        self._owns_transport = transport is None
        self.transport: Transport = transport or MemoryTransport(
            name=f"agent-test-{uuid.uuid4().hex[:8]}"
        )
        if agent.signing_key is None:
            agent.load_key_from(generate_keypair()[0])
        self.orchestrator_key = orchestrator_key or generate_keypair()[0]
        orchestrator_public = self.orchestrator_key.public_key()
        self.runtime = TaskRuntime(
            agent,
            self.transport,
            agent_id,
            max_concurrency=max_concurrency,
            orchestrator_key=orchestrator_public,
        )
        self._seen: list[Envelope] = []
        self._changed = asyncio.Condition()
        self._results: Subscription | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # After a failed test, do not wait for handlers that may never finish.
        await self.stop(drain=exc_type is None)

    async def start(self) -> None:
        """Listen on ``modx.results`` and start serving the agent's task streams."""
        group = f"agent-test-{uuid.uuid4().hex[:8]}"
        self._results = await self.transport.subscribe(streams.RESULTS, group, "test", self._record)
        try:
            await self.runtime.start()
        except BaseException:
            await self.stop(drain=False)  # the on_stop hooks too: ``async with`` never exits
            raise

    async def stop(self, drain: bool = True) -> bool:
        """Stop the agent (draining in-flight tasks by default), then the listener.

        Returns:
            True when every in-flight task was answered.
        """
        drained = await self.runtime.stop(drain=drain)
        if self._results is not None:
            await self._results.stop(drain=True)
        if self._owns_transport:
            await self.transport.close()
        return drained

    def task(
        self,
        capability: str,
        payload: Any,
        *,
        run_id: str | None = None,
        step_id: str = "step-1",
        attempt: int = 1,
        deadline: datetime | None = None,
        recipient: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """A task envelope as the orchestrator builds it and signs it (docs/protocol.md,
        "Tasks (bus)")."""
        run = run_id or f"run-{uuid.uuid4().hex[:12]}"
        return self.sign(
            Envelope(
                kind=Kind.TASK,
                topic=capability,
                sender="orchestrator",
                recipient=recipient,
                run_id=run,
                step_id=step_id,
                attempt=attempt,
                correlation_id=run,
                deadline=deadline,
                traceparent=traceparent,
                payload=payload,
            )
        )

    def sign(self, task: Envelope) -> Envelope:
        """``task`` signed with this environment's orchestrator key."""
        return sign(task, self.orchestrator_key)

    async def send(self, task: Envelope) -> Envelope:
        """Publish ``task`` to its capability's stream, or to the inbox of its ``recipient``."""
        stream = streams.inbox(task.recipient) if task.recipient else streams.tasks(task.topic)
        await self.transport.publish(stream, task)
        return task

    async def result(self, task: Envelope | str, timeout_s: float | None = None) -> Envelope:
        """Wait for the ``result`` or ``error`` envelope answering ``task``.

        Raises:
            TimeoutError: When no answer arrives within the timeout.
        """
        task_id = task if isinstance(task, str) else task.id
        return await self._wait(task_id, (Kind.RESULT, Kind.ERROR), timeout_s)

    async def started(self, task: Envelope | str, timeout_s: float | None = None) -> Envelope:
        """Wait for the ``task.started`` event of ``task``."""
        task_id = task if isinstance(task, str) else task.id
        return await self._wait(task_id, (Kind.EVENT,), timeout_s)

    async def execute(self, capability: str, payload: Any, **fields: Any) -> Envelope:
        """Send a task for ``capability`` and wait for its answer (see ``task`` for fields)."""
        return await self.result(await self.send(self.task(capability, payload, **fields)))

    def envelopes(self, task: Envelope | str | None = None) -> list[Envelope]:
        """Every envelope seen on ``modx.results`` so far, or only those answering ``task``."""
        if task is None:
            return list(self._seen)
        task_id = task if isinstance(task, str) else task.id
        return [e for e in self._seen if e.causation_id == task_id]

    async def _record(self, envelope: Envelope) -> None:
        async with self._changed:
            self._seen.append(envelope)
            self._changed.notify_all()

    async def _wait(
        self, task_id: str, kinds: tuple[Kind, ...], timeout_s: float | None
    ) -> Envelope:
        def found() -> Envelope | None:
            return next(
                (e for e in self._seen if e.causation_id == task_id and e.kind in kinds), None
            )

        limit = self.timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(limit), self._changed:
                await self._changed.wait_for(lambda: found() is not None)
        except TimeoutError:
            seen = [(e.kind.value, e.topic) for e in self.envelopes(task_id)]
            raise TimeoutError(
                f"no {'/'.join(k.value for k in kinds)} for task {task_id} within {limit}s; "
                f"seen for it: {seen}"
            ) from None
        answer = found()
        assert answer is not None
        return answer
