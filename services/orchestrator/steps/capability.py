"""``capability``: a task sent to an agent that serves the capability, retried on its timeout.

The agent's answers come back through ``Engine.on_message`` (which checks that they answer the
step's current task), and end the attempt through the host's ``succeed`` / ``attempt_failed``.
A remote agent may ask a question first: the step waits for a signal that answers it
(``services.orchestrator.conversation``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bus.envelope import Envelope, Kind
from bus.ids import new_id
from services.orchestrator import conversation, in_flight, refs
from services.orchestrator.authenticity import SERVER, supersede
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.ownership import reply_stream
from services.orchestrator.records import Step
from services.orchestrator.routing import remote_agent, waiting_reason
from services.orchestrator.states import ACTIVE_STEP, StepState
from services.orchestrator.steps.base import Host, StepKind

ORCHESTRATOR = SERVER.agent_id
NO_AGENT_RECHECK_S = 0.5
WAITING = "waiting"
"""``Step.meta`` key: why no agent can take the step's task now (routing tries again)."""


class Capability(StepKind):
    """Sends each attempt of a step (or of a fan-out's item) to an agent."""

    name = "capability"

    def __init__(self, host: Host, sign_task: Callable[[Envelope], Envelope]) -> None:
        super().__init__(host)
        self.sign_task = sign_task

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        try:
            row.input = refs.resolve(step.input, scope)
        except refs.RefError as exc:
            return self.unresolved(ctx, row, exc)
        await self.dispatch(ctx, row, attempt=1)
        return False

    async def on_timer(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        if row.status in ACTIVE_STEP and in_flight.HELD in row.meta:
            # Its agent went offline while the bus held its delivery: look again, until the
            # attempt's deadline times it out below. What was due earlier (its heartbeats
            # stopped) is handled below, as if nothing held it.
            deadline = in_flight.task_deadline(row)
            if in_flight.recheck_due(ctx, row) and deadline is not None and ctx.now < deadline:
                await self.host.recheck_held(ctx, row)
                return
            in_flight.unhold(row)
        if row.status in ACTIVE_STEP and WAITING in row.meta:
            # To be sent again (its agent went offline...) and no agent could take it: try
            # again, as the same attempt, until the attempt's deadline times it out below.
            deadline = in_flight.task_deadline(row)
            if deadline is not None and ctx.now < deadline:
                await self.dispatch(ctx, row, attempt=row.attempt, deadline=deadline)
                return
        if in_flight.heartbeat_lost(ctx, row, step) and not conversation.waiting(row):
            await self._heartbeat_lost(ctx, step, row)
        elif row.status in ACTIVE_STEP:
            if conversation.waiting(row):  # no delivery in flight: the peer is told this way
                reason = "no answer to its question within the step's timeout"
                in_flight.cancel(ctx, row, reason, self.sign_task, conversation.handle(row))
                conversation.forget(row)
            self.host.attempt_failed(
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

    def on_cancel(self, ctx: RunContext, step: StepDefinition, row: Step, reason: str) -> None:
        if row.status in ACTIVE_STEP:  # its holder is told to stop (``in_flight``)
            in_flight.cancel(ctx, row, reason, self.sign_task, conversation.handle(row))
            conversation.forget(row)

    def on_signal(
        self, ctx: RunContext, step: StepDefinition, row: Step, name: str, body: Any, sender: str
    ) -> bool:
        """The answer to the question the step's agent asked (its signal is the step's id)."""
        return conversation.answer(ctx, row, name, body, sender, self.sign_task)

    def asked(self, ctx: RunContext, row: Step, envelope: Envelope) -> None:
        """The holder asks a question (``task.input_required``): the step waits for the answer,
        or, when the holder cannot be answered, the attempt fails."""
        problem = conversation.asked(ctx, row, envelope)
        if problem is not None:
            error = {"code": "input_required", "message": problem, "retryable": False}
            self.host.attempt_failed(ctx, row, error)

    async def _heartbeat_lost(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        """Send a task whose heartbeats stopped again: same attempt, same deadline."""
        ctx.event(
            "step.heartbeat_lost",
            row,
            data={
                "heartbeat_timeout_s": in_flight.heartbeat_timeout(row, step),
                "task_id": row.task_id,
            },
        )
        deadline = in_flight.task_deadline(row)
        task_id, agent_id = row.task_id, row.agent_id
        remote = bool(row.meta.get(in_flight.VIA_REMOTE))
        supersede(row)  # a late answer from the old holder still counts
        await self.dispatch(ctx, row, attempt=row.attempt, deadline=deadline)
        if task_id is not None and agent_id is not None:
            # Its holder may be alive, only late: when the task sent again follows the same
            # remote work, that holder stops without cancelling it at the peer.
            in_flight.send_cancel(
                ctx,
                row,
                task_id,
                agent_id,
                remote,
                "its heartbeats stopped; sent again",
                self.sign_task,
                resumed=in_flight.resumed(row, task_id),
            )

    async def dispatch(
        self, ctx: RunContext, row: Step, attempt: int, deadline: datetime | None = None
    ) -> None:
        """Send a task for ``attempt`` of a step, or wait when no live agent serves it.

        ``deadline``: the attempt's, when it is sent again (else the step's timeout from now).
        """
        step_def = ctx.definition.step(row.definition_id)
        router = self.host.router
        route = await router.route(ctx.session, row.capability, step_def.agent, ctx.run.tenant)
        if route is None:
            reason = await waiting_reason(ctx.session, row.capability, ctx.run.tenant)
            if row.meta.get(WAITING) != reason:
                row.meta = {**row.meta, WAITING: reason}
                ctx.event("step.waiting", row, data={"reason": reason})
            recheck = ctx.now + timedelta(seconds=NO_AGENT_RECHECK_S)
            limit = deadline or in_flight.task_deadline(row)
            if row.status in ACTIVE_STEP and limit is not None:
                # Sent again with nobody to take it: ``due_at`` now means "try again", so the
                # attempt's deadline is kept where ``on_timer`` finds it.
                row.meta = {**row.meta, in_flight.TASK_DEADLINE: limit.isoformat()}
                recheck = min(recheck, limit)
            row.due_at = recheck
            return
        if deadline is None:
            timeout = step_def.timeout_s or self.host.default_timeout_s
            deadline = ctx.now + timedelta(seconds=timeout)
            if ctx.run.deadline_at is not None:
                deadline = min(deadline, ctx.run.deadline_at)
        capacity = self.host.capacity
        if (
            capacity is not None
            and row.status not in ACTIVE_STEP  # sent again: it holds its place already
            and not await capacity.admit(ctx, row, deadline)
        ):
            return
        row.attempt = attempt
        # The same attempt to the same remote agent, whose remote task is known: follow it.
        handle = conversation.followed(row, remote_agent(route.destination), attempt)
        agent_id = route.agent_id or remote_agent(route.destination)
        if handle is not None and row.task_id is not None and row.agent_id == agent_id:
            in_flight.resume(row, row.task_id)  # its delivery must not cancel that work
        row.task_id = new_id()
        row.agent_id = agent_id
        row.scheduled_at = ctx.now
        row.due_at = deadline
        row.error = None
        heartbeat = step_def.heartbeat_timeout_s or self.host.heartbeat_defaults.get(
            route.transport or ""
        )
        in_flight.dispatched(row, route.destination, deadline, heartbeat)
        conversation.forget(row)
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
                    # An agent of an older SDK refuses it: its answers go to modx.results.
                    reply_to=reply_stream(ctx.run.id, self.host.partitions)
                    if route.reply_to
                    else None,
                    run_id=ctx.run.id,
                    step_id=row.step_id,
                    attempt=attempt,
                    correlation_id=ctx.run.id,
                    causation_id=ctx.run.id,
                    deadline=deadline,
                    schema_=conversation.TASK_RESUME if handle is not None else None,
                    payload=row.input
                    if handle is None
                    else {"input": row.input, conversation.CONVERSATION: handle},
                    created_at=ctx.now,
                )
            ),
        )
