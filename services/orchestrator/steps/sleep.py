"""``sleep``: a durable timer; the step ends ``succeeded`` after ``seconds`` or at ``until``.

The wake-up time is the step's ``due_at``, in the database: the sweep of whichever
orchestrator runs then ends the step, so a sleep outlives a restart of the process that
started it. Its output is ``{"until": <ISO time>}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.orchestrator import refs
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition, timestamp
from services.orchestrator.records import Step
from services.orchestrator.states import StepState
from services.orchestrator.steps.base import StepKind


class Sleep(StepKind):
    """Sleeps until a time."""

    name = "sleep"

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        spec = step.sleep
        assert spec is not None
        if spec.seconds is not None:
            until = ctx.now + timedelta(seconds=spec.seconds)
        else:
            assert spec.until is not None
            try:
                value = refs.resolve(spec.until, scope) if refs.is_ref(spec.until) else spec.until
            except refs.RefError as exc:
                value = exc
            found = timestamp(value)
            if found is None:
                message = f"{spec.until} is not an ISO 8601 time with a zone: {value!s:.200}"
                error = {"code": "bad_until", "message": message, "retryable": False}
                self.host.attempt_failed(ctx, row, error)
                return True
            until = found
        row.attempt = 1
        row.scheduled_at = ctx.now
        row.meta = {**row.meta, "until": until.isoformat()}
        if until <= ctx.now:
            self.host.succeed(ctx, row, {"until": until.isoformat()})
            return True
        row.due_at = until
        ctx.move_step(row, StepState.RUNNING, until=until.isoformat())
        return False

    async def on_timer(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        if row.status == StepState.RUNNING:
            self.host.succeed(ctx, row, {"until": row.meta.get("until")})
