"""``TaskContext``: what a handler may know about the task it runs, besides its input.

A handler asks for it by declaring a second parameter annotated ``TaskContext``::

    @agent.capability("legal.infer")
    async def infer(request: InferRequest, ctx: TaskContext) -> InferResult:
        ctx.logger.info("attempt %d", ctx.attempt)
        ctx.report_usage(prolog_inferences=1234)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bus import streams
from bus.envelope import utcnow

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Sends an event about the running task (its topic, its payload) to the orchestrator."""
HEARTBEAT_EVERY_S = 0.5
"""Heartbeats closer together than this are not sent (a handler may call it in a tight loop)."""


@dataclass
class TaskContext:
    """The task a handler is running: identifiers, deadline, a logger and a usage meter.

    Attributes:
        task_id: The id of the task envelope (also the ``causation_id`` of the answer).
        capability: The capability being run.
        agent_id: The id under which this agent is registered.
        run_id: The workflow run the task belongs to, if any.
        step_id: The step of that run.
        attempt: The attempt number, from 1.
        deadline: When the orchestrator stops waiting for an answer; None when unbounded.
        correlation_id: The correlation id of the task (the run id for orchestrator tasks).
        traceparent: The W3C trace context of the task, to pass on to downstream calls.
        logger: A logger whose records carry the run, step and task ids.
    """

    task_id: str
    capability: str
    agent_id: str
    run_id: str | None = None
    step_id: str | None = None
    attempt: int = 1
    deadline: datetime | None = None
    correlation_id: str | None = None
    traceparent: str | None = None
    logger: logging.LoggerAdapter[logging.Logger] = field(
        default_factory=lambda: logging.LoggerAdapter(logging.getLogger("agents.sdk.task"))
    )
    _usage: dict[str, float] = field(default_factory=dict, repr=False)
    _emit: Emit | None = field(default=None, repr=False)
    _beat_at: float = field(default=float("-inf"), repr=False)

    async def heartbeat(self, **details: Any) -> None:
        """Tell the orchestrator that the handler is alive.

        A step with ``heartbeat_timeout_s`` is sent again (to any agent) when that long passes
        without one, instead of waiting for its whole timeout. Calls closer together than
        ``HEARTBEAT_EVERY_S`` send nothing; a heartbeat that cannot be sent is logged, never
        raised. Served over HTTP (no bus), this does nothing.

        Args:
            **details: JSON values to send with it (kept only in the agent's logs today).
        """
        now = time.monotonic()
        if now - self._beat_at < HEARTBEAT_EVERY_S:
            return
        self._beat_at = now
        await self._send(streams.TASK_HEARTBEAT, {"details": details} if details else {})

    async def progress(self, message: str, data: Any = None) -> None:
        """Report progress: a ``step.progress`` event of the run (in its event stream and on
        the dashboard). It counts as a heartbeat too.

        Each call is one event that the orchestrator writes: report steps, or partial output a
        few times a second, not every token. Served over HTTP (no bus), this does nothing.

        Args:
            message: What is happening, for people.
            data: Any JSON value (e.g. the partial output so far).
        """
        self._beat_at = time.monotonic()
        await self._send(streams.TASK_PROGRESS, {"message": message, "data": data})

    async def _send(self, topic: str, payload: dict[str, Any]) -> None:
        if self._emit is None:
            return
        try:
            await self._emit(topic, payload)
        except Exception as exc:  # the task goes on; the step's timeouts cover a lost event
            self.logger.warning("could not send %s: %s", topic, exc)

    def report_usage(self, **counters: float) -> None:
        """Add to the usage counters sent with the result (e.g. ``tokens_in=12``).

        Counters add up across calls, so a handler can report as it goes.

        Args:
            **counters: Counter names and the amounts to add.
        """
        for name, amount in counters.items():
            self._usage[name] = self._usage.get(name, 0) + amount

    @property
    def usage(self) -> Mapping[str, float]:
        """The usage counters reported so far."""
        return dict(self._usage)

    def time_left(self) -> float | None:
        """Seconds until the deadline (negative once past), or None without a deadline."""
        if self.deadline is None:
            return None
        return (self.deadline - utcnow()).total_seconds()
