"""``switch``: choose one branch, skip the others.

The step tests its cases in order against the run's input and the finished steps' outputs, as
``when`` does (a case that names a skipped step's output does not hold); the first that holds
is taken, else ``default``. The steps of every branch not taken end ``skipped`` at once: they
wait for the switch, so they are still ``pending``. The switch itself ends ``succeeded`` with
``{"case": <index> | "default", "steps": [ids taken]}``, so later steps can see the choice.

A switch that is skipped itself (its ``when`` false, a branch of another switch not taken)
takes no branch: all its branches end skipped, and so on down nested switches. Without that
its branch steps, which depend only on it, would all run (a skipped dependency counts as done).
"""

from __future__ import annotations

from typing import Any

from services.orchestrator import refs
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.records import Step
from services.orchestrator.states import StepState
from services.orchestrator.steps.base import StepKind


class Switch(StepKind):
    """Takes the first branch whose case holds."""

    name = "switch"

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        spec = step.switch
        assert spec is not None
        chosen: int | str = "default"
        for index, case in enumerate(spec.cases):
            try:
                holds = self.host.test(case.when, scope)
            except refs.RefError:
                holds = False
            if holds:
                chosen = index
                break
        taken = spec.default if chosen == "default" else spec.cases[int(chosen)].then
        self._skip_branches(
            ctx, step, taken, f"branch not taken by switch {step.id} (case {chosen})"
        )
        row.attempt = 1
        row.scheduled_at = ctx.now
        self.host.succeed(ctx, row, {"case": chosen, "steps": list(taken)})
        return True

    def on_skip(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        self._skip_branches(ctx, step, [], f"switch {step.id} was skipped")

    def _skip_branches(
        self, ctx: RunContext, step: StepDefinition, taken: list[str], reason: str
    ) -> None:
        """Skip every branch member not in ``taken`` that has not started (through the host,
        so a nested switch skips its own branches in turn)."""
        assert step.switch is not None
        for branch in step.switch.branches():
            for member in branch:
                other = ctx.steps[member]
                if member not in taken and other.status == StepState.PENDING:
                    self.host.skip(ctx, other, reason)
