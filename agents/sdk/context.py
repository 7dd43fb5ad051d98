"""``TaskContext``: what a handler may know about the task it runs, besides its input.

A handler asks for it by declaring a second parameter annotated ``TaskContext``::

    @agent.capability("legal.infer")
    async def infer(request: InferRequest, ctx: TaskContext) -> InferResult:
        ctx.logger.info("attempt %d", ctx.attempt)
        ctx.report_usage(prolog_inferences=1234)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bus.envelope import utcnow


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
