"""The engine: what happens to a run when it starts, when a result arrives, and when time passes.

Each function takes a locked RunContext, changes rows only through its transition rules, and
queues the envelopes those changes cause; the caller commits, and the relay publishes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bus import streams
from bus.envelope import Envelope, Kind
from services.ledger.format import input_digest
from services.orchestrator import conversation, holding, in_flight, refs
from services.orchestrator.authenticity import (
    SERVER,
    Identity,
    Refusal,
    binding,
    handed_over,
    remember,
    supersede,
)
from services.orchestrator.capacity import Capacity
from services.orchestrator.context import QUEUED, RunContext, message_summary
from services.orchestrator.definitions import Condition, StepDefinition
from services.orchestrator.limits import Limits
from services.orchestrator.records import Step
from services.orchestrator.routing import ON_BUS, Router
from services.orchestrator.states import (
    ACTIVE_STEP,
    TERMINAL_RUN,
    TERMINAL_STEP,
    RunState,
    StepState,
)
from services.orchestrator.steps import Capability, ChildOutcome, StepKind, kinds
from services.registry.store import DRAINING, ONLINE

ORCHESTRATOR = SERVER.agent_id
TIMEOUT_CODES = frozenset({"timeout", "deadline_exceeded"})
# The error of a run whose own deadline passed (docs/workflows.md: "Deadlines and timeouts").
RUN_DEADLINE = {"code": "run_deadline", "message": "the run's deadline passed"}


class NoWaiter(LookupError):
    """A signal that no step of the run waits for, or will."""


@dataclass(frozen=True)
class Signalled:
    """Where a signal went: the running steps that took it, and the steps that keep it until
    they start (``steps.wait``)."""

    steps: list[str]
    kept: list[str]


class Engine:
    """Drives runs; holds only configuration and the router, never run state.

    What a step does is its kind's (``services.orchestrator.steps``); the engine orders the
    steps, tests their conditions, ends attempts (retries, timeouts, ``on_error``) and runs.

    Args:
        router: Finds the agent or stream for a step's task.
        default_timeout_s: A step's timeout when its definition sets none.
        limits: Bounds on fan-outs and the like.
        sign_task: Signs each task envelope with the orchestrator's key (agents check it).
        capacity: Holds tasks of capabilities with ``concurrency`` or ``rate_limit`` back
            (None: nothing is held back).
        heartbeat_defaults: A step's ``heartbeat_timeout_s``, by the transport of the remote
            agent its task goes to, when its definition sets none (``{"a2a": 30.0}``).
    """

    def __init__(
        self,
        router: Router,
        default_timeout_s: float = 300.0,
        limits: Limits | None = None,
        sign_task: Callable[[Envelope], Envelope] | None = None,
        capacity: Capacity | None = None,
        heartbeat_defaults: Mapping[str, float] | None = None,
    ) -> None:
        self.router = router
        self.heartbeat_defaults: Mapping[str, float] = dict(heartbeat_defaults or {})
        self.capacity = capacity
        self.default_timeout_s = default_timeout_s
        self.limits = limits or Limits()
        self.kinds = kinds(self, sign_task or (lambda envelope: envelope))
        capability = self.kinds["capability"]
        assert isinstance(capability, Capability)
        self.capability = capability
        self.duplicates = 0
        # Set by the orchestrator that runs this engine: tasks then carry their run's partition
        # stream as ``reply_to`` (None: answers go to ``modx.results``).
        self.partitions: int | None = None
        # Set by it too: asks the bus whether an offline agent's inbox task is still held
        # (None: such tasks are sent again when the lease runs out).
        self.holding: holding.Holding | None = None

    # -- starting and advancing -------------------------------------------------------------

    async def start(self, ctx: RunContext, reuse: list[Step] | None = None) -> None:
        """pending -> running: create the step rows and dispatch what is ready.

        ``reuse`` holds the succeeded (and skipped) steps of an earlier run of the same
        definition (a retry from the failed step): recorded as they ended there, not run again.
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
                status=old.status,
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
            ctx.event("step.reused", copy, to_state=old.status, data={"from_run": old.run_id})
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
                    capability=step.capability or "",
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
                elif row.status == StepState.RUNNING:
                    progressed |= await self.kinds[step_def.kind].drive(ctx, step_def, row)
        await self._maybe_finish(ctx)

    def kind_of(self, ctx: RunContext, row: Step) -> tuple[StepDefinition, StepKind]:
        """A row's definition and kind; a fan-out's items are capability tasks."""
        step_def = ctx.definition.step(row.definition_id)
        if row.item_index is not None:
            return step_def, self.capability
        return step_def, self.kinds[step_def.kind]

    def test(self, condition: Condition, scope: dict[str, Any]) -> bool:
        """Whether a ``when`` (or a switch's case) holds (``steps.base.Host``)."""
        return _test(condition, scope)

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
            self.skip(ctx, row, str(exc))
            return True
        if not go:
            self.skip(ctx, row, f"condition {condition} is false")
            return True
        return await self.kinds[step_def.kind].start(ctx, step_def, row, scope)

    async def dispatch(
        self, ctx: RunContext, row: Step, attempt: int, deadline: datetime | None = None
    ) -> None:
        """Send a task for ``attempt`` of a capability step (``steps.capability``)."""
        await self.capability.dispatch(ctx, row, attempt, deadline)

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
        # In the output mapping a skipped step (a branch not taken) reads as null, fields too.
        skipped = frozenset(r.step_id for r in rows if r.status == StepState.SKIPPED)
        leaves = ctx.definition.leaves()
        try:
            output = (
                refs.resolve(ctx.definition.output, scope, skipped)
                if ctx.definition.output is not None
                else {step_id: out for step_id, out in scope["steps"].items() if step_id in leaves}
            )
        except refs.RefError as exc:
            self._fail_run(ctx, RunState.FAILED, {"code": "bad_output", "message": str(exc)})
            return
        ctx.run.output = output
        ctx.move_run(RunState.SUCCEEDED)
        ctx.ledger("run.succeeded", {"output": output, "input_sha256": input_digest(ctx.run.input)})

    def _fail_run(self, ctx: RunContext, state: RunState, error: dict[str, Any]) -> None:
        ctx.run.error = error
        if ctx.move_run(state, error=error):
            self._stop_steps(ctx, error["message"])
            ctx.ledger(
                "run." + state.value, {"error": error, "input_sha256": input_digest(ctx.run.input)}
            )

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
        for row in list(ctx.steps.values()):
            if row.status not in TERMINAL_STEP:
                step_def, kind = self.kind_of(ctx, row)
                kind.on_cancel(ctx, step_def, row, reason)
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
            if row is None or not await handed_over(ctx.session, row, envelope, sender):
                return refusal
            ctx.event(
                "step.handed_over",
                row,
                agent_id=sender.agent_id,
                data={"from": row.agent_id, "reason": f"agent {row.agent_id} is gone"},
            )
            row.agent_id = sender.agent_id
        assert row is not None
        chatter = envelope.kind == Kind.EVENT and envelope.topic not in (
            streams.TASK_STARTED,
            streams.TASK_INPUT_REQUIRED,
        )
        too_large: str | None = None
        if not chatter:  # heartbeats and progress are not the trace's: too many
            summary = message_summary(envelope)
            too_large = self.limits.answer_problem(summary["size"])
            if too_large is not None:  # the trace keeps its size, not its payload
                summary["payload"] = None
            ctx.event(
                "message.received",
                row,
                agent_id=envelope.sender,
                envelope_id=envelope.id,
                data=summary,
            )
        self._deadline_passed(ctx)  # then the message is late: ignored below
        if ctx.run.status != RunState.RUNNING or row.status not in ACTIVE_STEP:
            if envelope.topic == streams.TASK_STARTED and sender is not SERVER:
                # Its holder took it after nobody waited for it any more: stop it there.
                in_flight.send_cancel(
                    ctx,
                    row,
                    envelope.causation_id or "",
                    sender.agent_id,
                    sender.transport not in ON_BUS,
                    f"step {row.step_id} is {row.status}",
                    self.capability.sign_task,
                )
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
        if envelope.topic == streams.TASK_RELEASED and envelope.kind == Kind.EVENT:
            self._released(ctx, row, envelope, sender)
            return True
        if sender is not SERVER and (
            envelope.causation_id == row.task_id or envelope.kind != Kind.EVENT
        ):
            # A shared stream's task: the first to answer holds it. An event about a task sent
            # before (superseded) counts, but does not make its sender hold the current one
            # (whose taker's answer would be refused); a result settles the step: its sender
            # served it.
            row.agent_id = sender.agent_id
        if envelope.kind == Kind.EVENT and too_large is None:
            step_def = ctx.definition.step(row.definition_id)
            if row.status == StepState.SCHEDULED:
                self._started(ctx, row, envelope.payload if not chatter else None)
            if not chatter:
                remember(row, envelope)  # (a replayed heartbeat would only move a timer)
                if envelope.topic == streams.TASK_STARTED:
                    conversation.following(ctx, row, envelope)
            elif envelope.topic == streams.TASK_PROGRESS:
                in_flight.progress(ctx, row, envelope)
            in_flight.beat(ctx, row, step_def)
            if envelope.topic == streams.TASK_INPUT_REQUIRED:
                self.capability.asked(ctx, row, envelope)
                await self.advance(ctx)
            return True
        remember(row, envelope)
        if too_large is not None:
            self.attempt_failed(
                ctx, row, {"code": "answer_too_large", "message": too_large, "retryable": False}
            )
            await self.advance(ctx)
            return True
        payload = envelope.payload if isinstance(envelope.payload, dict) else {}
        conversation.keep(row, payload)
        if row.status == StepState.SCHEDULED:
            # A short task is not announced: its answer says when it started.
            self._started(ctx, row, payload)
        if envelope.kind == Kind.RESULT:
            if payload.get("usage"):
                row.meta = {**row.meta, "usage": payload["usage"]}
            self.succeed(ctx, row, payload.get("output"))
        else:
            error = payload.get("error") if isinstance(payload.get("error"), dict) else None
            self.attempt_failed(
                ctx,
                row,
                error or {"code": "bad_error", "message": str(payload), "retryable": False},
            )
        await self.advance(ctx)
        return True

    def _released(self, ctx: RunContext, row: Step, envelope: Envelope, sender: Identity) -> None:
        """The holder of a shared-stream task gave its delivery back to the bus: whoever of the
        group takes it next answers it. (A task pinned to its agent stays that agent's.)"""
        if (
            row.meta.get(in_flight.SHARED_STREAM)
            and envelope.causation_id == row.task_id
            and row.agent_id == sender.agent_id
        ):
            row.agent_id = None
            reason = envelope.payload.get("reason") if isinstance(envelope.payload, dict) else None
            ctx.event("step.released", row, agent_id=sender.agent_id, data={"reason": str(reason)})

    def _started(self, ctx: RunContext, row: Step, payload: Any) -> None:
        reported = _timestamp(payload.get("started_at") if isinstance(payload, dict) else None)
        # Clamp to what the orchestrator saw: after dispatch, not after now.
        started_at = (
            min(max(reported, row.scheduled_at or reported), ctx.now) if reported else ctx.now
        )
        if ctx.move_step(row, StepState.RUNNING, started_at=started_at.isoformat()):
            row.started_at = row.started_at if row.attempt > 1 and row.started_at else started_at

    def skip(self, ctx: RunContext, row: Step, reason: str) -> None:
        """End a step that has not started ``skipped``, then let its kind skip what only it
        would have started (a switch's branches: they wait for it, but a skipped dependency
        counts as done)."""
        if ctx.move_step(row, StepState.SKIPPED, reason=reason):
            step_def, kind = self.kind_of(ctx, row)
            kind.on_skip(ctx, step_def, row)

    def succeed(self, ctx: RunContext, row: Step, output: Any, **data: Any) -> None:
        """End the step ``succeeded`` with ``output``; the ledger records it."""
        row.output = output
        if ctx.move_step(row, StepState.SUCCEEDED, **data):
            ctx.ledger(
                "step.succeeded",
                {
                    "step_id": row.step_id,
                    "attempt": row.attempt,
                    "agent_id": row.agent_id,
                    "output": row.output,
                },
            )

    def attempt_failed(
        self, ctx: RunContext, row: Step, error: dict[str, Any], timed_out: bool = False
    ) -> None:
        """End an attempt with ``error``: the next attempt after a backoff, the step's end
        (``failed`` or ``timed_out``), or with ``on_error: continue`` its success with
        ``{"error": …}`` as its output. A timeout at the run's deadline ends the run."""
        step_def = ctx.definition.step(row.definition_id)
        retry = step_def.retry
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
        if step_def.on_error == "continue":
            # The error is data for the steps after it; the step's row keeps it as well.
            self.succeed(ctx, row, {"error": error}, on_error="continue", error=error)
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
            if row.status == StepState.PENDING and QUEUED in row.meta:
                await self.dispatch(ctx, row, attempt=1)  # asks for a place again
                continue
            if row.status == StepState.PENDING:
                row.due_at = None  # re-evaluated by advance: routing is tried again
                continue
            step_def, kind = self.kind_of(ctx, row)
            await kind.on_timer(ctx, step_def, row)
        await self.advance(ctx)

    def give_up(self, ctx: RunContext, error: dict[str, Any]) -> bool:
        """Fail the run with ``error``: its due work kept failing (``Orchestrator.sweep``);
        False when it had ended already."""
        if ctx.run.status in TERMINAL_RUN:
            return False
        self._fail_run(ctx, RunState.FAILED, error)
        return True

    # -- children ------------------------------------------------------------------------------

    async def child_finished(self, ctx: RunContext, child: ChildOutcome) -> bool:
        """A child run (a sub-workflow's, a loop's iteration) ended: its step takes it; False
        when no running step waits for that child (a late one, or the parent has ended)."""
        if self._deadline_passed(ctx) or ctx.run.status != RunState.RUNNING:
            return False
        took = False
        for step_def in ctx.definition.steps:
            row = ctx.steps[step_def.id]
            if row.status == StepState.RUNNING:
                took |= self.kinds[step_def.kind].on_child(ctx, step_def, row, child)
        if took:
            await self.advance(ctx)
        return took

    # -- signals -------------------------------------------------------------------------------

    async def signal(self, ctx: RunContext, name: str, body: Any, sender: str) -> Signalled:
        """Offer signal ``name`` to the run's running steps; when none takes it, to the steps
        that will wait for it but have not started (each keeps it, durably, until it starts).
        Each step records what it took, with ``sender``, in the events and the ledger.

        Raises:
            NoWaiter: The run has ended, or none of its steps waits or will wait for it (or the
                one that will already keeps a signal); nothing changed.
            SignalRefused: A step waits for it but its schema refuses ``body`` (nothing changed).
        """
        if self._deadline_passed(ctx) or ctx.run.status in TERMINAL_RUN:
            # "has ended (succeeded)", not "is succeeded"; a run past its deadline may not be
            # marked ended yet.
            how = ctx.run.status if ctx.run.status in TERMINAL_RUN else "past its deadline"
            raise NoWaiter(f"run {ctx.run.id} has ended ({how}): no step waits for {name!r}")
        took, kept = [], []
        for step_def in ctx.definition.steps:
            row = ctx.steps[step_def.id]
            if row.status != StepState.RUNNING:
                continue
            if self.kinds[step_def.kind].on_signal(ctx, step_def, row, name, body, sender):
                took.append(row.step_id)
        if not took:
            for step_def in ctx.definition.steps:
                row = ctx.steps[step_def.id]
                if row.status in (StepState.PENDING, StepState.RETRYING) and self.kinds[
                    step_def.kind
                ].on_early_signal(ctx, step_def, row, name, body, sender):
                    kept.append(row.step_id)
        if not took and not kept:
            raise NoWaiter(f"no step of run {ctx.run.id} waits or will wait for {name!r}")
        if took:
            await self.advance(ctx)
        return Signalled(took, kept)

    async def wake(self, ctx: RunContext, step_id: str) -> None:
        """A place of its capability was freed: a queued step asks for it now."""
        row = ctx.steps.get(step_id)
        if ctx.run.status != RunState.RUNNING or row is None or QUEUED not in row.meta:
            return
        if row.status == StepState.PENDING:
            await self.dispatch(ctx, row, attempt=1)
        elif row.status == StepState.RETRYING:
            await self.dispatch(ctx, row, attempt=row.attempt + 1)
        await self.advance(ctx)

    async def redispatch(
        self, ctx: RunContext, agent_ids: set[str], why: str = holding.OFFLINE_WHY
    ) -> None:
        """Send again the tasks that were out with agents that went offline or deregistered
        (``why``; same attempt), but for those the bus still holds for them: on a
        capability's shared stream always (the bus hands the delivery to another consumer of
        the group once it is idle for the visibility timeout), in an agent's inbox while a
        consumer holds the delivery or once the inbox acknowledged it (``holding``: looked at
        again when it would be idle that long). An agent may only be late with its
        heartbeats, and one that deregisters may have answered a moment before. An agent that
        deregisters is alive and drains: a task MODX sent it over HTTP (or MCP, A2A) stays
        its own, its request holding it as a delivery holds a bus task."""
        draining = why == holding.DEREGISTERED_WHY
        for row in list(ctx.steps.values()):
            if (
                row.status in ACTIVE_STEP
                and row.agent_id in agent_ids
                and self._task(ctx, row)
                and not row.meta.get(in_flight.SHARED_STREAM)
                and not (draining and row.meta.get(in_flight.VIA_REMOTE))
                and not await self._held(ctx, row, why)
            ):
                await self._send_again(ctx, row, why)

    async def recheck_held(self, ctx: RunContext, row: Step) -> None:
        """A task left with its offline agent because the bus held its delivery, looked at
        again: the agent came back (the task stays its own), its consumer still holds it
        (wait on), or not (sent again, as ``redispatch`` would have)."""
        status = await holding.agent_status(ctx.session, row.agent_id or "")
        why = holding.DEREGISTERED_WHY if status == DRAINING else holding.OFFLINE_WHY
        if status == ONLINE:
            in_flight.unhold(row)
        elif status is None or not await self._held(ctx, row, why):
            in_flight.unhold(row)
            await self._send_again(ctx, row, why)

    async def _held(self, ctx: RunContext, row: Step, why: str) -> bool:
        """Whether ``row``'s task (in its agent's inbox) is still held there (``holding``)."""
        return self.holding is not None and await self.holding.keep(ctx, row, why)

    async def _send_again(self, ctx: RunContext, row: Step, why: str) -> None:
        ctx.event("step.redispatched", row, data={"reason": f"agent {row.agent_id} {why}"})
        if (
            row.agent_id is not None
            and row.task_id is not None
            and not row.meta.get(in_flight.VIA_REMOTE)
        ):
            # Only once this commits: a transaction that fails leaves the task in the inbox.
            ctx.withdrawals.append((streams.inbox(row.agent_id), row.agent_id, row.task_id))
        supersede(row)  # its holder may still answer it, late: that answer counts too
        await self.dispatch(ctx, row, attempt=row.attempt)

    async def redeliver(self, ctx: RunContext, lost: Callable[[Step], bool], reason: str) -> int:
        """Send again, as the same attempt, the in-flight tasks ``lost`` picks (the bus lost
        them); returns how many. Retry settings do not apply: the attempt never ran out."""
        if ctx.run.status != RunState.RUNNING:
            return 0
        count = 0
        for row in list(ctx.steps.values()):
            if row.status in ACTIVE_STEP and self._task(ctx, row) and lost(row):
                ctx.event("step.redelivered", row, data={"reason": reason, "task_id": row.task_id})
                await self.dispatch(ctx, row, attempt=row.attempt)
                count += 1
        return count

    def _task(self, ctx: RunContext, row: Step) -> bool:
        """Whether ``row`` is out with an agent (not a wait, a sleep or a fan-out's parent,
        nor a step whose agent waits for the answer to its question)."""
        return self.kind_of(ctx, row)[1] is self.capability and not conversation.waiting(row)

    def cancel(self, ctx: RunContext, reason: str = "cancelled by request") -> bool:
        """Cancel the run: no further dispatch, and its unfinished steps end ``cancelled``."""
        if ctx.run.status in TERMINAL_RUN:
            return False
        ctx.run.cancel_requested = True
        ctx.run.error = {"code": "cancelled", "message": reason}
        ctx.move_run(RunState.CANCELLED, reason=reason)
        self._stop_steps(ctx, reason)
        ctx.ledger("run.cancelled", {"reason": reason, "input_sha256": input_digest(ctx.run.input)})
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
