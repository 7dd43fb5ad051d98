"""``loop``: a body run again, one child run per iteration, until a condition holds.

Each iteration is a child run (``steps.subworkflow``: created after the commit, idempotent,
recovered by the step's timer), of a registered ``workflow`` or of the inline ``steps`` (a
definition named ``<workflow>.<step id>``); so every iteration is a run of its own, visible
and linked (``meta.children`` lists them in order). The body's ``input`` resolves against the
parent's scope plus ``$.iteration`` (1, 2, ...) and ``$.previous`` (the last iteration's
output; before the first there is none, and ``$.previous`` and every field of it read null).

After each iteration ``until`` is tested over ``{"output": <its output>, "iteration": n}``
(a reference to something missing counts as not holding). When it holds the step succeeds
with ``{"output": <last output>, "iterations": n}``; after ``max_iterations`` without it the
attempt fails with code ``max_iterations`` (``retry`` then starts over at iteration 1, and
``on_error: continue`` makes the error the output). A failed iteration fails the attempt
like a sub-workflow's child.
"""

from __future__ import annotations

from typing import Any

from bus.ids import new_id
from services.orchestrator import refs
from services.orchestrator.context import ChildOrder, RunContext
from services.orchestrator.definitions import StepDefinition, body_name
from services.orchestrator.records import Step
from services.orchestrator.steps.base import ChildOutcome
from services.orchestrator.steps.subworkflow import SubWorkflow


class Loop(SubWorkflow):
    """Runs its body again until ``until`` holds, at most ``max_iterations`` times."""

    name = "loop"

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        return self._attempt(ctx, step, row, attempt=1)

    def _attempt(self, ctx: RunContext, step: StepDefinition, row: Step, attempt: int) -> bool:
        row.meta = {**row.meta, "iteration": 1, "previous": None}
        return super()._attempt(ctx, step, row, attempt)

    def _order(self, ctx: RunContext, step: StepDefinition, row: Step) -> ChildOrder:
        loop = step.loop
        assert loop is not None
        iteration = int(row.meta["iteration"])
        previous = row.meta.get("previous") if iteration > 1 else refs.NOT_YET
        scope = {**self.host.scope(ctx), "iteration": iteration, "previous": previous}
        return ChildOrder(
            child_run_id=new_id(),
            step_id=row.step_id,
            key=f"child:{ctx.run.id}:{row.step_id}:{row.attempt}:{iteration}",
            workflow=loop.workflow,
            version=loop.version,
            body=_body(ctx, step),
            input=refs.resolve(loop.input, scope),
        )

    def _again(self, ctx: RunContext, step: StepDefinition, row: Step) -> ChildOrder:
        order = super()._again(ctx, step, row)
        return ChildOrder(**{**order.__dict__, "body": _body(ctx, step)})

    def _child_succeeded(
        self, ctx: RunContext, step: StepDefinition, row: Step, child: ChildOutcome
    ) -> None:
        loop = step.loop
        assert loop is not None
        iteration = int(row.meta["iteration"])
        try:
            done = self.host.test(loop.until, {"output": child.output, "iteration": iteration})
        except refs.RefError:
            done = False
        if done:
            self.host.succeed(
                ctx,
                row,
                {"output": child.output, "iterations": iteration},
                child_run_id=child.run_id,
                iterations=iteration,
            )
            return
        if iteration >= loop.max_iterations:
            error = {
                "code": "max_iterations",
                "message": f"until did not hold after {iteration} iterations",
                "retryable": True,
                "iterations": iteration,
                "last_output": child.output,
            }
            self.host.attempt_failed(ctx, row, error)
            return
        row.meta = {**row.meta, "iteration": iteration + 1, "previous": child.output}
        self._launch(ctx, step, row)


def _body(ctx: RunContext, step: StepDefinition) -> dict[str, Any] | None:
    """The inline body as a definition of its own, or None for a registered workflow."""
    assert step.loop is not None
    if step.loop.steps is None:
        return None
    steps = [s.model_dump(mode="json", exclude_none=True, by_alias=True) for s in step.loop.steps]
    body = {"name": body_name(ctx.definition, step), "steps": steps}
    if step.loop.output is not None:
        body["output"] = step.loop.output
    return body
