"""for_each: a fan-out's items are created in batches, dispatched through a window, fanned in.

A fan-out over N items never holds N waiting rows. The parent step keeps its progress in
``meta`` (``items``, ``created``, ``finished``, ``failed_item``; ``RunContext.move_step``
counts an item that ends), and the next items are created, and dispatched at once, only as
items in flight finish: at most ``window`` are out at any time. While no live agent serves the
capability, no item is created and the parent alone waits (one row, rechecked), so nothing is
rewritten while nothing can run, and a cancel has at most ``window`` items to stop.

Every change of a transition stays O(1) in N (the fan-in, once, is O(N)).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.orchestrator import refs
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.records import Step
from services.orchestrator.routing import waiting_reason
from services.orchestrator.states import TERMINAL_STEP, StepState
from services.orchestrator.steps.base import Host, StepKind
from services.orchestrator.steps.capability import NO_AGENT_RECHECK_S, Capability


def item_id(step_id: str, index: int) -> str:
    """The step id of a fan-out's item."""
    return f"{step_id}[{index}]"


class FanOut(StepKind):
    """``for_each``: the parent step runs while its items (capability tasks) do."""

    name = "for_each"

    def __init__(self, host: Host, capability: Capability) -> None:
        super().__init__(host)
        self.capability = capability

    def window(self, step_def: StepDefinition) -> int:
        """How many items of this step may be out at once."""
        limits = self.host.limits
        return min(step_def.max_parallel or limits.for_each_window, limits.for_each_window)

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        """Resolve the items and start the fan-out (or fail or skip the step)."""
        step_def, parent = step, row
        try:
            items = refs.resolve(step_def.for_each, scope)
        except refs.RefError as exc:
            return self.unresolved(ctx, parent, exc)
        if not isinstance(items, list):
            return self._fail(ctx, parent, "bad_for_each", f"{step_def.for_each} is not a list")
        already = sum(
            int(ctx.steps[s.id].meta.get("items", 0))
            for s in ctx.definition.steps
            if s.for_each is not None and s.id != step_def.id
        )
        problem = self.host.limits.items_problem(len(items), already)
        if problem is not None:
            return self._fail(ctx, parent, "too_many_items", problem)
        parent.meta = {**parent.meta, "items": len(items), "created": 0, "finished": 0}
        ctx.move_step(parent, StepState.RUNNING, items=len(items))
        await self._fill(ctx, step_def, parent, items, scope)
        return True

    async def drive(self, ctx: RunContext, step: StepDefinition, row: Step) -> bool:
        """Create and dispatch items as the window allows; fan in (outputs in item order) or
        fail when the items are done."""
        step_def, parent = step, row
        progress = _progress(ctx, step_def, parent)
        failed = progress.get("failed_item")
        if failed is not None:
            item = ctx.steps[failed]
            error = {
                "code": "item_failed",
                "message": f"{item.step_id} {item.status}",
                "step_id": item.step_id,
                "cause": item.error,
                "retryable": False,
            }
            self.host.attempt_failed(ctx, parent, error)
            return True
        if progress["finished"] >= progress["items"]:
            parent.output = [
                ctx.steps[item_id(step_def.id, i)].output for i in range(progress["items"])
            ]
            ctx.move_step(parent, StepState.SUCCEEDED)
            return True
        if progress["created"] < progress["items"]:
            scope = self.host.scope(ctx)
            items = refs.resolve(step_def.for_each, scope)
            await self._fill(ctx, step_def, parent, items, scope)
        return False

    def on_signal(
        self, ctx: RunContext, step: StepDefinition, row: Step, name: str, body: Any, sender: str
    ) -> bool:
        """The answer to a question that the agent of one of its items asked."""
        prefix = step.id + "["
        return any(
            self.capability.on_signal(ctx, step, item, name, body, sender)
            for step_id, item in ctx.steps.items()
            if step_id.startswith(prefix)
        )

    async def on_timer(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        row.due_at = None  # waiting for an agent: ``drive`` tries again

    async def _fill(
        self,
        ctx: RunContext,
        step_def: StepDefinition,
        parent: Step,
        items: list[Any],
        scope: dict[str, Any],
    ) -> None:
        progress = parent.meta
        created, finished = int(progress["created"]), int(progress["finished"])
        room = min(self.window(step_def) - (created - finished), len(items) - created)
        if room <= 0:
            return
        capability = step_def.capability or ""
        # The run's tenant, as ``Capability.dispatch`` routes each item: else the items wait
        # for an agent of the default tenant, or are made and never sent.
        router = self.host.router
        if await router.route(ctx.session, capability, step_def.agent, ctx.run.tenant) is None:
            reason = await waiting_reason(ctx.session, capability, ctx.run.tenant)
            if parent.meta.get("waiting") != reason:
                parent.meta = {**parent.meta, "waiting": reason}
                ctx.event("step.waiting", parent, data={"reason": reason})
            parent.due_at = ctx.now + timedelta(seconds=NO_AGENT_RECHECK_S)
            return
        parent.meta = {
            **{k: v for k, v in parent.meta.items() if k != "waiting"},
            "created": created + room,
        }
        parent.due_at = None
        for index in range(created, created + room):
            child = Step(
                run_id=ctx.run.id,
                step_id=item_id(step_def.id, index),
                definition_id=step_def.id,
                item_index=index,
                capability=capability,
                status=StepState.PENDING,
                attempt=0,
                max_attempts=step_def.retry.max_attempts,
                meta={},
                duplicates=0,
                input=None,
            )
            ctx.add_step(child)
            try:
                child.input = refs.resolve(
                    step_def.input, {**scope, "item": items[index], "item_index": index}
                )
            except refs.RefError as exc:
                child.error = {"code": "bad_reference", "message": str(exc), "retryable": False}
                ctx.move_step(child, StepState.FAILED, error=child.error)
                continue
            await self.capability.dispatch(ctx, child, 1)

    def _fail(self, ctx: RunContext, parent: Step, code: str, message: str) -> bool:
        # Not retried (the items are not made again); ``on_error`` applies as to any step.
        error = {"code": code, "message": message, "retryable": False}
        self.host.attempt_failed(ctx, parent, error)
        return True


def _progress(ctx: RunContext, step_def: StepDefinition, parent: Step) -> dict[str, Any]:
    """The parent's counters; counted once from its items for a run that started before they
    were kept."""
    if "created" in parent.meta:
        return parent.meta
    children = [
        r for r in ctx.steps.values() if r.definition_id == step_def.id and r.item_index is not None
    ]
    failed = next(
        (c.step_id for c in children if c.status in (StepState.FAILED, StepState.TIMED_OUT)), None
    )
    counted: dict[str, Any] = {
        "items": len(children),
        "created": len(children),
        "finished": sum(1 for c in children if c.status in TERMINAL_STEP),
    }
    if failed is not None:
        counted["failed_item"] = failed
    parent.meta = {**parent.meta, **counted}
    return parent.meta
