"""``wait``: the step waits, dispatching nothing, for a signal; the signal's body is its output.

``POST /v1/runs/{id}/signals/{name}`` reaches the run through ``Engine.signal``, which offers
it to every running step. A step waiting for that name checks the body against its schema and
ends ``succeeded`` with the body as its output. Without a signal by its timeout it times out
like any step (and is retried, as a new wait, if its ``retry`` says so).

A signal that comes before its step starts (the steps before it still run) is not lost: when
no running step takes it, a step that will wait for it checks the body at once and keeps it in
its ``meta`` (``signal.kept``), in the same transaction, and takes it the moment it starts, as
Temporal buffers a workflow's signals. Each step keeps one: the first sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agents.sdk.json_schema import SchemaRefused, mismatch
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.records import Step
from services.orchestrator.states import StepState
from services.orchestrator.steps.base import SignalRefused, StepKind

KEPT = "kept_signal"
"""``meta`` of a step that has not started: a signal sent for it early, taken when it starts."""


class Wait(StepKind):
    """Waits for a named signal."""

    name = "wait"

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        self._wait(ctx, step, row, attempt=1)
        return row.status != StepState.RUNNING  # a kept signal ended it at once

    def _wait(self, ctx: RunContext, step: StepDefinition, row: Step, attempt: int) -> None:
        assert step.wait is not None
        timeout = step.wait.timeout_s or step.timeout_s
        due = ctx.now + timedelta(seconds=timeout) if timeout is not None else None
        if due is not None and ctx.run.deadline_at is not None:
            due = min(due, ctx.run.deadline_at)
        row.attempt = attempt
        row.scheduled_at = ctx.now
        row.error = None
        row.due_at = due
        kept = row.meta.get(KEPT)
        row.meta = {k: v for k, v in row.meta.items() if k != KEPT} | {"signal": step.wait.signal}
        ctx.move_step(
            row,
            StepState.RUNNING,
            signal=step.wait.signal,
            until=due.isoformat() if due is not None else None,
        )
        if kept is not None:
            # Sent before the step started: it is taken now, as if it came this moment.
            self._take(ctx, row, step.wait.signal, kept["body"], kept["sent_by"])

    async def on_timer(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        assert step.wait is not None
        if row.status == StepState.RUNNING:
            self.host.attempt_failed(
                ctx,
                row,
                {
                    "code": "timeout",
                    "retryable": True,
                    "message": f"no signal {step.wait.signal!r} within the step's timeout",
                },
                timed_out=True,
            )
        elif row.status == StepState.RETRYING:
            self._wait(ctx, step, row, attempt=row.attempt + 1)

    def on_signal(
        self, ctx: RunContext, step: StepDefinition, row: Step, name: str, body: Any, sender: str
    ) -> bool:
        assert step.wait is not None
        if name != step.wait.signal or row.status != StepState.RUNNING:
            return False
        if step.wait.schema_ is not None:
            problem = refusal(step.wait.schema_, body)
            if problem is not None:
                raise problem
        self._take(ctx, row, name, body, sender)
        return True

    def on_early_signal(
        self, ctx: RunContext, step: StepDefinition, row: Step, name: str, body: Any, sender: str
    ) -> bool:
        assert step.wait is not None
        if name != step.wait.signal or KEPT in row.meta:
            return False  # one kept signal per step: the first one sent
        if step.wait.schema_ is not None:
            problem = refusal(step.wait.schema_, body)
            if problem is not None:
                raise problem
        record = {"step_id": row.step_id, "signal": name, "sent_by": sender, "body": body}
        row.meta = {**row.meta, KEPT: {"body": body, "sent_by": sender, "at": ctx.now.isoformat()}}
        ctx.event("signal.kept", row, agent_id=sender, data=record)
        ctx.ledger("signal.kept", record)
        return True

    def _take(self, ctx: RunContext, row: Step, name: str, body: Any, sender: str) -> None:
        # Recorded before the step moves, so the trail reads: the signal, then its effect.
        record = {"step_id": row.step_id, "signal": name, "sent_by": sender, "body": body}
        ctx.event("signal.received", row, agent_id=sender, data=record)
        ctx.ledger("signal.received", record)
        self.host.succeed(ctx, row, body, signal=name, sent_by=sender)


def refusal(schema: dict[str, Any], body: Any) -> SignalRefused | None:
    """The first thing ``schema`` refuses in ``body``, at its JSON path, or None (a schema
    stored before the registration checks that it cannot be used refuses every body)."""
    try:
        found = mismatch(schema, body)
    except SchemaRefused as exc:
        return SignalRefused("$", f"the step's schema cannot be used: {exc}")
    return None if found is None else SignalRefused("$" + found.path, found.message)
