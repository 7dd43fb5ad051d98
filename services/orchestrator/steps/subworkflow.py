"""``workflow``: a sub-workflow; the step starts a child run of a registered workflow of the
same tenant and ends with it. The child's output is the step's output.

The engine only decides: a step's attempt records its child's run id (chosen up front) and
queues a ``ChildOrder`` on the context; the orchestrator creates the child once the parent's
transaction commits, with an idempotency key made of the parent run, step and attempt. A
crash between the two loses nothing: the step's timer (``due_at``, every ``CHECK_S``) gives
the order again, and an order whose child exists already is a no-op, or, when that child
has ended, the news of its end. A child that ends wakes its parent at once (after the child's
commit, ``Engine.child_finished``), which calls ``on_child`` here.

A child that fails, times out or is cancelled fails the step's attempt (code
``child_failed``, ``child_timed_out``, ``child_cancelled``), retried under the step's
``retry`` with a new child; ``timeout_s`` bounds an attempt (its child is then cancelled).
A parent that ends first (cancelled, failed) cancels its running child.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bus.ids import new_id
from services.orchestrator import refs
from services.orchestrator.context import ChildOrder, RunContext
from services.orchestrator.definitions import StepDefinition, timestamp
from services.orchestrator.records import Step
from services.orchestrator.states import RunState, StepState
from services.orchestrator.steps.base import ChildOutcome, StepKind

# How often a running step makes sure its child exists (the recovery after a crash).
CHECK_S = 30.0


class SubWorkflow(StepKind):
    """Runs a registered workflow as a child run."""

    name = "workflow"

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        try:
            row.input = refs.resolve(step.input, scope)
        except refs.RefError as exc:
            return self.unresolved(ctx, row, exc)
        return self._attempt(ctx, step, row, attempt=1)

    def _attempt(self, ctx: RunContext, step: StepDefinition, row: Step, attempt: int) -> bool:
        """Begin ``attempt``: its deadline, and its (first) child. True when it ended at once."""
        row.attempt = attempt
        row.scheduled_at = ctx.now
        row.error = None
        deadline = ctx.now + timedelta(seconds=step.timeout_s) if step.timeout_s else None
        if deadline is not None and ctx.run.deadline_at is not None:
            deadline = min(deadline, ctx.run.deadline_at)
        row.meta = {
            **row.meta,
            "deadline": deadline.isoformat() if deadline is not None else None,
        }
        return self._launch(ctx, step, row)

    def _order(self, ctx: RunContext, step: StepDefinition, row: Step) -> ChildOrder:
        """The child of the current attempt (a loop: of the current iteration)."""
        return ChildOrder(
            child_run_id=new_id(),
            step_id=row.step_id,
            key=f"child:{ctx.run.id}:{row.step_id}:{row.attempt}",
            workflow=step.workflow,
            version=step.version,
            input=row.input,
        )

    def _launch(self, ctx: RunContext, step: StepDefinition, row: Step) -> bool:
        """Order the next child and wait for it; True when the attempt ended instead."""
        try:
            order = self._order(ctx, step, row)
        except refs.RefError as exc:
            # A loop's input resolves here, iteration by iteration: the same rules as any
            # step's input (a skipped step's output skips it, anything else is bad_reference).
            return self.unresolved(ctx, row, exc)
        ctx.children.append(order)
        child = {
            "run_id": order.child_run_id,
            "key": order.key,
            "workflow": order.workflow,
            "version": order.version,
            "input": order.input,
        }
        row.meta = {
            **row.meta,
            "child": child,
            "child_run_id": order.child_run_id,
            # Every child of every attempt, in order (a loop's iterations).
            "children": [*row.meta.get("children", []), order.child_run_id],
        }
        row.due_at = self._next_check(ctx, row)
        record = {"step_id": row.step_id, "attempt": row.attempt, **child}
        del record["key"]
        ctx.move_step(row, StepState.RUNNING, child_run_id=order.child_run_id)  # a first child
        ctx.event("child.started", row, data=record)
        ctx.ledger("child.started", record)
        return False

    def _next_check(self, ctx: RunContext, row: Step) -> datetime:
        check = ctx.now + timedelta(seconds=CHECK_S)
        deadline = timestamp(row.meta.get("deadline"))
        return min(check, deadline) if deadline is not None else check

    def _again(self, ctx: RunContext, step: StepDefinition, row: Step) -> ChildOrder:
        """The current child's order, given again (the timer's recovery)."""
        child = row.meta["child"]
        return ChildOrder(
            child_run_id=child["run_id"],
            step_id=row.step_id,
            key=child["key"],
            workflow=child["workflow"],
            version=child["version"],
            input=child["input"],
        )

    async def on_timer(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        if row.status == StepState.RETRYING:
            self._attempt(ctx, step, row, attempt=row.attempt + 1)
            return
        if row.status != StepState.RUNNING or "child" not in row.meta:
            return
        deadline = timestamp(row.meta.get("deadline"))
        if deadline is not None and deadline <= ctx.now:
            self._cancel_child(ctx, row)
            message = f"the child run did not end within the step's timeout (attempt {row.attempt})"
            error = {"code": "timeout", "retryable": True, "message": message}
            self.host.attempt_failed(ctx, row, error, timed_out=True)
            return
        ctx.children.append(self._again(ctx, step, row))
        row.due_at = self._next_check(ctx, row)

    def on_child(
        self, ctx: RunContext, step: StepDefinition, row: Step, child: ChildOutcome
    ) -> bool:
        if row.status != StepState.RUNNING or row.meta.get("child_run_id") != child.run_id:
            return False
        record = {
            "step_id": row.step_id,
            "attempt": row.attempt,
            "run_id": child.run_id,
            "status": child.status,
        }
        ctx.event("child.finished", row, data=record)
        ctx.ledger("child.finished", record)
        if child.status == RunState.SUCCEEDED:
            self._child_succeeded(ctx, step, row, child)
            return True
        error = {
            "code": f"child_{child.status}",
            "message": f"child run {child.run_id} {child.status}",
            "retryable": True,
            "child_run_id": child.run_id,
            "cause": child.error,
        }
        self.host.attempt_failed(ctx, row, error)
        return True

    def _child_succeeded(
        self, ctx: RunContext, step: StepDefinition, row: Step, child: ChildOutcome
    ) -> None:
        self.host.succeed(ctx, row, child.output, child_run_id=child.run_id)

    def on_cancel(self, ctx: RunContext, step: StepDefinition, row: Step, reason: str) -> None:
        if row.status == StepState.RUNNING:
            self._cancel_child(ctx, row)

    def _cancel_child(self, ctx: RunContext, row: Step) -> None:
        child_id = row.meta.get("child_run_id")
        if child_id:
            ctx.children.append(ChildOrder(child_run_id=child_id, step_id=row.step_id, cancel=True))
