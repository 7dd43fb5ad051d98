"""The engine: what happens to a run when it starts, when a result arrives, and when time passes.

Each function takes a locked RunContext, changes rows only through its transition rules, and
queues the envelopes those changes cause; the caller commits, and the relay publishes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bus import streams
from bus.envelope import Envelope, Kind
from bus.ids import new_id
from services.orchestrator import refs
from services.orchestrator.authenticity import (
    SERVER,
    Identity,
    Refusal,
    binding,
    remember,
    supersede,
)
from services.orchestrator.context import RunContext, message_summary
from services.orchestrator.definitions import Condition, StepDefinition
from services.orchestrator.fan_out import FanOut, is_parent
from services.orchestrator.limits import Limits
from services.orchestrator.records import Step
from services.orchestrator.routing import Router, remote_agent, waiting_reason
from services.orchestrator.states import (
    ACTIVE_STEP,
    TERMINAL_RUN,
    TERMINAL_STEP,
    RunState,
    StepState,
)

ORCHESTRATOR = SERVER.agent_id
NO_AGENT_RECHECK_S = 0.5
TIMEOUT_CODES = frozenset({"timeout", "deadline_exceeded"})
# The error of a run whose own deadline passed (docs/workflows.md: "Deadlines and timeouts").
RUN_DEADLINE = {"code": "run_deadline", "message": "the run's deadline passed"}


class Engine:
    """Drives runs; holds only configuration and the router, never run state.

    Args:
        router: Finds the agent or stream for a step's task.
        default_timeout_s: A step's timeout when its definition sets none.
        limits: Bounds on fan-outs and the like.
        sign_task: Signs each task envelope with the orchestrator's key (agents check it).
    """

    def __init__(
        self,
        router: Router,
        default_timeout_s: float = 300.0,
        limits: Limits | None = None,
        sign_task: Callable[[Envelope], Envelope] | None = None,
    ) -> None:
        self.router = router
        self.default_timeout_s = default_timeout_s
        self.limits = limits or Limits()
        self.fan_out = FanOut(router, self.limits, self.dispatch)
        self.sign_task = sign_task or (lambda envelope: envelope)
        self.duplicates = 0

    # -- starting and advancing -------------------------------------------------------------

    async def start(self, ctx: RunContext, reuse: list[Step] | None = None) -> None:
        """pending -> running: create the step rows and dispatch what is ready.

        ``reuse`` holds the succeeded steps of an earlier run of the same definition (a retry
        from the failed step): they are recorded as succeeded with their outputs, not run again.
        """
        if not ctx.move_run(RunState.RUNNING):
            return
        for old in reuse or []:
            copy = Step(
                run_id=ctx.run.id,
                step_id=old.step_id,
                definition_id=old.definition_id,
                item_index=old.item_index,
                capability=old.capability,
                status=StepState.SUCCEEDED,
                attempt=old.attempt,
                max_attempts=old.max_attempts,
                input=old.input,
                output=old.output,
                agent_id=old.agent_id,
                started_at=old.started_at,
                finished_at=ctx.now,
                duplicates=0,
                meta={"reused_from": old.run_id},
            )
            ctx.add_step(copy)
            ctx.event(
                "step.reused", copy, to_state=StepState.SUCCEEDED, data={"from_run": old.run_id}
            )
            # Its output is this run's too: the ledger says so, and where it came from.
            ctx.ledger(
                "step.reused",
                {
                    "step_id": copy.step_id,
                    "attempt": copy.attempt,
                    "agent_id": copy.agent_id,
                    "output": copy.output,
                    "from_run": old.run_id,
                },
            )
        if ctx.definition.deadline_s is not None and ctx.run.deadline_at is None:
            ctx.run.deadline_at = ctx.now + timedelta(seconds=ctx.definition.deadline_s)
        for step in ctx.definition.steps:
            if step.id not in ctx.steps:
                row = Step(
                    run_id=ctx.run.id,
                    step_id=step.id,
                    definition_id=step.id,
                    capability=step.capability,
                    status=StepState.PENDING,
                    attempt=0,
                    max_attempts=step.retry.max_attempts,
                    meta={},
                    duplicates=0,
                )
                ctx.add_step(row)
        await self.advance(ctx)

    async def advance(self, ctx: RunContext) -> None:
        """Dispatch every step whose dependencies are done; finish the run when all are."""
        if ctx.run.status != RunState.RUNNING:
            return
        definition = ctx.definition
        graph = definition.dependencies()
        progressed = True
        while progressed:  # skips and empty fan-outs can unblock further steps at once
            progressed = False
            for step_def in definition.steps:
                row = ctx.steps[step_def.id]
                if row.status == StepState.PENDING and row.due_at is None:
                    deps = [ctx.steps[d] for d in graph[step_def.id]]
                    if all(d.status in (StepState.SUCCEEDED, StepState.SKIPPED) for d in deps):
                        progressed |= await self._ready(ctx, step_def, row)
                elif row.status == StepState.RUNNING and step_def.for_each is not None:
                    progressed |= await self.fan_out.drive(ctx, step_def, row, self.scope(ctx))
        await self._maybe_finish(ctx)

    def scope(self, ctx: RunContext) -> dict[str, Any]:
        """What references resolve against: the run's input and the finished steps' outputs."""
        # The definition's steps, not every row: a fan-out's items are not referenced by id.
        rows = (ctx.steps[step.id] for step in ctx.definition.steps)
        outputs = {row.step_id: row.output for row in rows if row.status == StepState.SUCCEEDED}
        return {"input": ctx.run.input, "steps": outputs}

    async def _ready(self, ctx: RunContext, step_def: StepDefinition, row: Step) -> bool:
        scope = self.scope(ctx)
        condition = step_def.condition
        try:
            go = condition is None or _test(condition, scope)
        except refs.RefError as exc:
            # The condition names the output of a skipped step: skip this one too.
            ctx.move_step(row, StepState.SKIPPED, reason=str(exc))
            return True
        if not go:
            ctx.move_step(row, StepState.SKIPPED, reason=f"condition {condition} is false")
            return True
        if step_def.for_each is None:
            try:
                row.input = refs.resolve(step_def.input, scope)
            except refs.RefError as exc:
                ctx.move_step(row, StepState.SKIPPED, reason=str(exc))
                return True
            await self.dispatch(ctx, row, attempt=1)
            return False
        return await self.fan_out.start(ctx, step_def, row, scope)

    async def dispatch(self, ctx: RunContext, row: Step, attempt: int) -> None:
        """Send a task for ``attempt`` of a step, or wait when no live agent serves it."""
        step_def = ctx.definition.step(row.definition_id)
        route = await self.router.route(ctx.session, row.capability, step_def.agent, ctx.run.tenant)
        if route is None:
            reason = await waiting_reason(ctx.session, row.capability, ctx.run.tenant)
            if row.meta.get("waiting") != reason:
                row.meta = {**row.meta, "waiting": reason}
                ctx.event("step.waiting", row, data={"reason": reason})
            row.due_at = ctx.now + timedelta(seconds=NO_AGENT_RECHECK_S)
            return
        timeout = step_def.timeout_s or self.default_timeout_s
        deadline = ctx.now + timedelta(seconds=timeout)
        if ctx.run.deadline_at is not None:
            deadline = min(deadline, ctx.run.deadline_at)
        row.attempt = attempt
        row.task_id = new_id()
        row.agent_id = route.agent_id or remote_agent(route.destination)
        row.scheduled_at = ctx.now
        row.due_at = deadline
        row.error = None
        row.meta = {k: v for k, v in row.meta.items() if k != "waiting"}
        ctx.move_step(row, StepState.SCHEDULED, destination=route.destination)
        ctx.send(
            route.destination,
            self.sign_task(
                Envelope(
                    id=row.task_id,
                    kind=Kind.TASK,
                    topic=row.capability,
                    sender=ORCHESTRATOR,
                    recipient=row.agent_id,
                    run_id=ctx.run.id,
                    step_id=row.step_id,
                    attempt=attempt,
                    correlation_id=ctx.run.id,
                    causation_id=ctx.run.id,
                    deadline=deadline,
                    payload=row.input,
                    created_at=ctx.now,
                )
            ),
        )

    async def _maybe_finish(self, ctx: RunContext) -> None:
        # A fan-out's items end before their parent does (or fail it): the parents suffice.
        rows = [ctx.steps[step.id] for step in ctx.definition.steps]
        bad = [r for r in rows if r.status in (StepState.FAILED, StepState.TIMED_OUT)]
        if bad:
            first = min(bad, key=lambda r: r.finished_at or ctx.now)
            self._fail_run(
                ctx,
                RunState.FAILED,
                {
                    "code": "step_" + first.status,
                    "message": f"step {first.step_id} {first.status}",
                    "step_id": first.step_id,
                    "cause": first.error,
                },
            )
            return
        if not all(r.status in TERMINAL_STEP for r in rows):
            return
        scope = self.scope(ctx)
        try:
            output = (
                refs.resolve(ctx.definition.output, scope)
                if ctx.definition.output is not None
                else {
                    step_id: out
                    for step_id, out in scope["steps"].items()
                    if step_id in _leaves(ctx)
                }
            )
        except refs.RefError as exc:
            self._fail_run(ctx, RunState.FAILED, {"code": "bad_output", "message": str(exc)})
            return
        ctx.run.output = output
        ctx.move_run(RunState.SUCCEEDED)
        ctx.ledger("run.succeeded", {"output": output})

    def _fail_run(self, ctx: RunContext, state: RunState, error: dict[str, Any]) -> None:
        ctx.run.error = error
        if ctx.move_run(state, error=error):
            self._stop_steps(ctx, error["message"])
            ctx.ledger("run." + state.value, {"error": error})

    def _deadline_passed(self, ctx: RunContext) -> bool:
        """End the run ``timed_out`` (``run_deadline``) once its deadline has passed.

        Checked before anything else the run handles (a sweep, an agent's message), so the
        outcome does not depend on whether the sweep or a late answer comes first.
        """
        deadline = ctx.run.deadline_at
        if deadline is None or deadline > ctx.now or ctx.run.status in TERMINAL_RUN:
            return False
        self._fail_run(ctx, RunState.TIMED_OUT, dict(RUN_DEADLINE))
        return True

    def _stop_steps(self, ctx: RunContext, reason: str) -> None:
        for row in ctx.steps.values():
            if row.status not in TERMINAL_STEP:
                ctx.move_step(row, StepState.CANCELLED, reason=reason)

    # -- results ------------------------------------------------------------------------------

    async def on_message(
        self, ctx: RunContext, envelope: Envelope, sender: Identity
    ) -> bool | Refusal:
        """Apply an agent's envelope (started, result, error) from ``sender`` (whose signature
        was checked); False when it was a duplicate, a ``Refusal`` (nothing changed) when it
        is no answer to the step's current task from the agent that holds it."""
        row = ctx.steps.get(envelope.step_id or "")
        refusal = binding(row, envelope, sender)
        if refusal is not None:
            return refusal
        assert row is not None
        ctx.event(
            "message.received",
            row,
            agent_id=envelope.sender,
            envelope_id=envelope.id,
            data=message_summary(envelope),
        )
        self._deadline_passed(ctx)  # then the message is late: ignored below
        if ctx.run.status != RunState.RUNNING or row.status not in ACTIVE_STEP:
            if envelope.kind != Kind.EVENT:
                self.duplicates += 1
                row.duplicates += 1
                ctx.event(
                    "result.ignored",
                    row,
                    agent_id=envelope.sender,
                    envelope_id=envelope.id,
                    data={"reason": "late or duplicate", "attempt": envelope.attempt},
                )
            return False
        if sender is not SERVER:
            row.agent_id = sender.agent_id  # a shared stream's task: the first to answer holds it
        remember(row, envelope)
        if envelope.kind == Kind.EVENT:
            if envelope.topic == streams.TASK_STARTED:
                self._started(ctx, row, envelope.payload)
            return True
        payload = envelope.payload if isinstance(envelope.payload, dict) else {}
        if row.status == StepState.SCHEDULED:
            # A short task is not announced: its answer says when it started.
            self._started(ctx, row, payload)
        if envelope.kind == Kind.RESULT:
            row.output = payload.get("output")
            if payload.get("usage"):
                row.meta = {**row.meta, "usage": payload["usage"]}
            ctx.move_step(row, StepState.SUCCEEDED)
            ctx.ledger(
                "step.succeeded",
                {
                    "step_id": row.step_id,
                    "attempt": row.attempt,
                    "agent_id": row.agent_id,
                    "output": row.output,
                },
            )
        else:
            error = payload.get("error") if isinstance(payload.get("error"), dict) else None
            self._attempt_failed(
                ctx,
                row,
                error or {"code": "bad_error", "message": str(payload), "retryable": False},
            )
        await self.advance(ctx)
        return True

    def _started(self, ctx: RunContext, row: Step, payload: Any) -> None:
        reported = _timestamp(payload.get("started_at") if isinstance(payload, dict) else None)
        # Clamp to what the orchestrator saw: after dispatch, not after now.
        started_at = (
            min(max(reported, row.scheduled_at or reported), ctx.now) if reported else ctx.now
        )
        if ctx.move_step(row, StepState.RUNNING, started_at=started_at.isoformat()):
            row.started_at = row.started_at if row.attempt > 1 and row.started_at else started_at

    def _attempt_failed(
        self, ctx: RunContext, row: Step, error: dict[str, Any], timed_out: bool = False
    ) -> None:
        retry = ctx.definition.step(row.definition_id).retry
        row.error = error
        code = error.get("code")
        # An agent that gave up at the task's deadline reports it; the step timed out all the same.
        timed_out = timed_out or code in TIMEOUT_CODES
        deadline = ctx.run.deadline_at
        if timed_out and deadline is not None and row.due_at is not None and row.due_at >= deadline:
            # The attempt had the run's deadline (a step's is clamped to it): the run timed out,
            # whichever clock (the agent's or the sweep's) noticed first.
            self._fail_run(ctx, RunState.TIMED_OUT, dict(RUN_DEADLINE))
            return
        if row.attempt < row.max_attempts and retry.retries(
            code, bool(error.get("retryable", False))
        ):
            delay = retry.delay(row.attempt, random.random())
            row.due_at = ctx.now + timedelta(seconds=delay)
            ctx.move_step(row, StepState.RETRYING, error=error, retry_in_s=round(delay, 3))
            return
        ctx.move_step(row, StepState.TIMED_OUT if timed_out else StepState.FAILED, error=error)
        ctx.ledger(
            "step." + row.status, {"step_id": row.step_id, "attempt": row.attempt, "error": error}
        )

    # -- time ----------------------------------------------------------------------------------

    async def on_due(self, ctx: RunContext) -> None:
        """Handle whatever is due in a run: its deadline, step timeouts, retries, waiting steps."""
        if ctx.run.status in TERMINAL_RUN:
            return
        if ctx.run.status == RunState.PENDING:
            await self.start(ctx)
            return
        if self._deadline_passed(ctx):
            return
        for row in list(ctx.steps.values()):
            if row.due_at is None or row.due_at > ctx.now:
                continue
            if is_parent(ctx, row):
                row.due_at = None  # a fan-out waiting for an agent: advance tries again
            elif row.status in ACTIVE_STEP:
                self._attempt_failed(
                    ctx,
                    row,
                    {
                        "code": "timeout",
                        "retryable": True,
                        "message": f"no result within the step's timeout (attempt {row.attempt})",
                    },
                    timed_out=True,
                )
            elif row.status == StepState.RETRYING:
                await self.dispatch(ctx, row, attempt=row.attempt + 1)
            elif row.status == StepState.PENDING:
                row.due_at = None  # re-evaluated by advance: routing is tried again
        await self.advance(ctx)

    async def redispatch(self, ctx: RunContext, agent_ids: set[str]) -> None:
        """Send again the tasks that were out with agents that went offline (same attempt)."""
        for row in list(ctx.steps.values()):
            if row.status in ACTIVE_STEP and row.agent_id in agent_ids:
                ctx.event(
                    "step.redispatched", row, data={"reason": f"agent {row.agent_id} went offline"}
                )
                supersede(row)  # its holder may still answer it, late: that answer counts too
                await self.dispatch(ctx, row, attempt=row.attempt)

    async def redeliver(self, ctx: RunContext, lost: Callable[[Step], bool], reason: str) -> int:
        """Send again, as the same attempt, the in-flight tasks ``lost`` picks (the bus lost
        them); returns how many. Retry settings do not apply: the attempt never ran out."""
        if ctx.run.status != RunState.RUNNING:
            return 0
        count = 0
        for row in list(ctx.steps.values()):
            if row.status in ACTIVE_STEP and lost(row):
                ctx.event("step.redelivered", row, data={"reason": reason, "task_id": row.task_id})
                await self.dispatch(ctx, row, attempt=row.attempt)
                count += 1
        return count

    def cancel(self, ctx: RunContext, reason: str = "cancelled by request") -> bool:
        """Cancel the run: no further dispatch, and its unfinished steps end ``cancelled``."""
        if ctx.run.status in TERMINAL_RUN:
            return False
        ctx.run.cancel_requested = True
        ctx.run.error = {"code": "cancelled", "message": reason}
        ctx.move_run(RunState.CANCELLED, reason=reason)
        self._stop_steps(ctx, reason)
        ctx.ledger("run.cancelled", {"reason": reason})
        return True


def _timestamp(value: Any) -> datetime | None:
    """An agent's ISO timestamp, if it is one (agents' clocks are not trusted beyond that)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _leaves(ctx: RunContext) -> set[str]:
    graph = ctx.definition.dependencies()
    used = {dep for deps in graph.values() for dep in deps}
    return {step.id for step in ctx.definition.steps if step.id not in used}


def _test(condition: Condition, scope: dict[str, Any]) -> bool:
    if condition.op == "exists":
        try:
            refs.resolve(condition.ref, scope)
            exists = True
        except refs.RefError:
            exists = False
        return exists if condition.value is not False else not exists
    value = refs.resolve(condition.ref, scope)
    match condition.op:
        case "truthy":
            return bool(value)
        case "falsy":
            return not value
        case "equals":
            return bool(value == condition.value)
        case "not_equals":
            return bool(value != condition.value)
        case "in":
            return isinstance(condition.value, list) and value in condition.value
    try:
        if condition.op == "gt":
            return bool(value > condition.value)
        if condition.op == "gte":
            return bool(value >= condition.value)
        if condition.op == "lt":
            return bool(value < condition.value)
        return bool(value <= condition.value)
    except TypeError:
        return False
