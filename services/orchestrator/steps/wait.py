"""``wait``: the step waits, dispatching nothing, for a signal; the signal's body is its output.

``POST /v1/runs/{id}/signals/{name}`` reaches the run through ``Engine.signal``, which offers
it to every running step. A step waiting for that name checks the body against its schema and
ends ``succeeded`` with the body as its output. Without a signal by its timeout it times out
like any step (and is retried, as a new wait, if its ``retry`` says so).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.records import Step
from services.orchestrator.states import StepState
from services.orchestrator.steps.base import SignalRefused, StepKind


class Wait(StepKind):
    """Waits for a named signal."""

    name = "wait"

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        self._wait(ctx, step, row, attempt=1)
        return False

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
        row.meta = {**row.meta, "signal": step.wait.signal}
        ctx.move_step(
            row,
            StepState.RUNNING,
            signal=step.wait.signal,
            until=due.isoformat() if due is not None else None,
        )

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
        # Recorded before the step moves, so the trail reads: the signal, then its effect.
        record = {"step_id": row.step_id, "signal": name, "sent_by": sender, "body": body}
        ctx.event("signal.received", row, agent_id=sender, data=record)
        ctx.ledger("signal.received", record)
        self.host.succeed(ctx, row, body, signal=name, sent_by=sender)
        return True


def refusal(schema: dict[str, Any], body: Any) -> SignalRefused | None:
    """The first thing ``schema`` refuses in ``body``, at its JSON path, or None."""
    errors = sorted(
        Draft202012Validator(schema).iter_errors(body), key=lambda e: list(map(str, e.path))
    )
    if not errors:
        return None
    return SignalRefused(_path(errors[0]), errors[0].message)


def _path(error: ValidationError) -> str:
    parts = list(error.absolute_path)
    required, instance = error.validator_value, error.instance
    if error.validator == "required" and isinstance(required, list) and isinstance(instance, dict):
        # The error sits on the object; the field at fault is the missing one.
        missing = [name for name in required if name not in instance]
        parts += missing[:1]
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
