"""A step's conversation with the remote agent that holds its task: the agent asks, a signal
answers, and the answer goes back to the same remote task.

- **Asked.** A remote agent's transport (A2A: the remote task is ``input-required``) sends
  ``task.input_required`` with ``{"question": {"text", "data"}, "conversation": {…}}``. The
  step stays ``running``: its ``meta`` shows the question and the signal that answers it (the
  step's id, :func:`signal_of`), and the run's history gets a ``step.input_required`` event.
  ``conversation`` is what the transport needs to continue (A2A: the remote task's and
  context's ids); it is kept on the step and outlives the process that heard it.
- **Answered.** ``POST /v1/runs/{id}/signals/{signal}`` with a body that :data:`ANSWER_SCHEMA`
  accepts (a 422 names the field it refuses) is recorded like any signal, and the step's holder
  gets a new task (same attempt, same deadline) whose ``schema`` is :data:`TASK_INPUT` and whose
  payload is ``{"answer", "conversation"}``. It goes through the outbox, so an orchestrator that
  dies after the signal still sends it. The agent may ask again: as many rounds as it likes.
- **Followed.** A transport that learns the remote task's id while the step runs says so in
  a ``task.started`` whose payload has ``conversation``: it is kept on the step as
  :data:`FOLLOWING` (with the agent and the attempt), in the same transaction that records the
  event. Before it sends anything, the transport may name only the context the task will be
  made in (``{"context_id"}``, A2A): a holder that takes the attempt again asks the peer
  there for the task the first one may have made. When the same attempt is sent again to the
  same agent (its heartbeats stopped: the process that followed the remote task died), the
  task's ``schema`` is :data:`TASK_RESUME` and its payload ``{"input", "conversation"}``: the
  holder follows that remote task again instead of sending a new message (a second remote
  task).
- **Time.** Waiting for an answer is part of the attempt: its timeout and the run's deadline
  run on, and end it as any timeout does (the remote task is cancelled).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bus.envelope import Envelope, Kind
from bus.ids import new_id
from services.orchestrator import in_flight
from services.orchestrator.context import RunContext
from services.orchestrator.records import Step
from services.orchestrator.routing import REMOTE_PREFIX
from services.orchestrator.states import StepState
from services.orchestrator.steps.wait import refusal

SIGNAL = "signal"
"""``Step.meta`` key (as a ``wait`` step's): the signal the step waits for."""
QUESTION = "question"
"""``Step.meta`` key: the agent's question, while the step waits for its answer."""
CONVERSATION = "conversation"
"""``Step.meta`` key: the transport's handle on the remote conversation (kept to the end)."""
ROUNDS = "rounds"
"""``Step.meta`` key: how many questions the agent asked."""
TASK_INPUT = "modx:task.input"
"""The ``schema`` of a task that answers its holder's question (payload ``{"answer",
"conversation"}``): the holder continues the conversation instead of starting a new one."""
FOLLOWING = "following"
"""``Step.meta`` key: ``{agent_id, attempt, conversation}`` of the remote task the step's holder
follows (recorded as soon as the peer names it)."""
TASK_RESUME = "modx:task.resume"
"""The ``schema`` of a task sent again for an attempt whose remote task is known (payload
``{"input", "conversation"}``): the holder follows that task instead of starting another."""
MAX_TEXT = 4000
"""Characters of a question's text that are kept."""
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string", "maxLength": 100_000}, "data": {}},
    "additionalProperties": False,
    "minProperties": 1,
}
"""An answer: ``{"text": "…"}``, ``{"data": …}`` or both (A2A: a text part, a data part)."""


def signal_of(step_id: str) -> str:
    """The signal that answers a step's question: its id (a fan-out's item ``s[3]``: ``s.3``)."""
    name = re.sub(r"\[(\d+)\]", r".\1", step_id)
    return name if not name.startswith("_") else "step" + name


def waiting(row: Step) -> bool:
    """Whether ``row`` waits for the answer to its agent's question."""
    return row.status == StepState.RUNNING and QUESTION in row.meta


def forget(row: Step) -> None:
    """The step's task is sent anew (a new attempt...): no question is pending any more."""
    if QUESTION in row.meta or SIGNAL in row.meta:
        row.meta = {k: v for k, v in row.meta.items() if k not in (SIGNAL, QUESTION)}


def handle(row: Step) -> dict[str, Any] | None:
    """The remote conversation of a step that waits for an answer (what a cancel needs, as
    no delivery is in flight to tell the peer), else None."""
    found = row.meta.get(CONVERSATION)
    return found if waiting(row) and isinstance(found, dict) else None


def keep(row: Step, payload: dict[str, Any]) -> None:
    """Keep the remote conversation an answer names (``payload["conversation"]``) on the step."""
    found = payload.get(CONVERSATION)
    if isinstance(found, dict) and found:
        row.meta = {**row.meta, CONVERSATION: found}


def following(ctx: RunContext, row: Step, envelope: Envelope) -> None:
    """Keep the remote task a ``task.started`` names (``payload["conversation"]``: its
    ``task_id``, or only the ``context_id`` it will be made in) as the one this attempt's
    holder follows; only a remote agent's, for the task it holds."""
    payload = envelope.payload if isinstance(envelope.payload, dict) else {}
    found = payload.get(CONVERSATION)
    if not (
        row.meta.get(in_flight.VIA_REMOTE)
        and isinstance(found, dict)
        and any(isinstance(found.get(k), str) and found[k] for k in ("task_id", "context_id"))
        and envelope.sender == row.agent_id
        and envelope.causation_id == row.task_id
    ):
        return
    record = {"agent_id": row.agent_id, "attempt": row.attempt, CONVERSATION: found}
    if row.meta.get(FOLLOWING) == record:
        return
    if found.get("task_id"):  # (a context alone is where the task will be, not a task)
        keep(row, payload)
    row.meta = {**row.meta, FOLLOWING: record}
    ctx.event("step.following", row, agent_id=envelope.sender, data=record)


def followed(row: Step, agent_id: str | None, attempt: int) -> dict[str, Any] | None:
    """The remote task ``agent_id`` follows for ``attempt`` of the step, if it named one."""
    record = row.meta.get(FOLLOWING)
    if (
        isinstance(record, dict)
        and record.get("agent_id") == agent_id
        and record.get("attempt") == attempt
        and isinstance(record.get(CONVERSATION), dict)
    ):
        return dict(record[CONVERSATION])
    return None


def asked(ctx: RunContext, row: Step, envelope: Envelope) -> str | None:
    """The holder asks a question (``task.input_required``): the step waits for its answer.
    Returns why it cannot (an agent MODX does not call has no way to hear the answer)."""
    if not row.meta.get(in_flight.VIA_REMOTE):
        return "the agent asked for input; only agents that MODX calls can be answered"
    payload = envelope.payload if isinstance(envelope.payload, dict) else {}
    raw = payload.get(QUESTION)
    found: dict[str, Any] = raw if isinstance(raw, dict) else {}
    text = found.get("text")
    question: dict[str, Any] = {
        "text": text[:MAX_TEXT] if isinstance(text, str) else "",
        "data": found.get("data") if isinstance(found.get("data"), list) else [],
    }
    keep(row, payload)
    rounds = int(row.meta.get(ROUNDS, 0)) + 1
    signal = signal_of(row.step_id)
    row.meta = {**row.meta, SIGNAL: signal, QUESTION: question, ROUNDS: rounds}
    # Heartbeats stop while a person thinks: only the attempt's own deadline applies.
    row.due_at = in_flight.task_deadline(row) or row.due_at
    ctx.event(
        "step.input_required",
        row,
        agent_id=envelope.sender,
        envelope_id=envelope.id,
        data={
            SIGNAL: signal,
            QUESTION: question,
            CONVERSATION: row.meta.get(CONVERSATION),
            "round": rounds,
        },
    )
    return None


def answer(
    ctx: RunContext,
    row: Step,
    name: str,
    body: Any,
    sender: str,
    sign: in_flight.Sign,
) -> bool:
    """Signal ``name`` with ``body``: when it answers ``row``'s question, send the answer to
    the step's holder (True). Raises ``SignalRefused`` for a body that is no answer."""
    if not waiting(row) or row.meta.get(SIGNAL) != name or row.agent_id is None:
        return False
    problem = refusal(ANSWER_SCHEMA, body)
    if problem is not None:
        raise problem
    record = {"step_id": row.step_id, "signal": name, "sent_by": sender, "body": body}
    ctx.event("signal.received", row, agent_id=sender, data=record)
    ctx.ledger("signal.received", record)
    deadline = in_flight.task_deadline(row) or row.due_at
    row.task_id = new_id()
    forget(row)
    ctx.send(
        REMOTE_PREFIX + row.agent_id,
        sign(
            Envelope(
                id=row.task_id,
                kind=Kind.TASK,
                topic=row.capability,
                sender=in_flight.ORCHESTRATOR,
                recipient=row.agent_id,
                run_id=ctx.run.id,
                step_id=row.step_id,
                attempt=row.attempt,
                correlation_id=ctx.run.id,
                causation_id=ctx.run.id,
                deadline=deadline or ctx.now + timedelta(seconds=in_flight.CANCEL_TTL_S),
                schema_=TASK_INPUT,
                payload={"answer": body, CONVERSATION: row.meta.get(CONVERSATION)},
                created_at=ctx.now,
            )
        ),
    )
    return True


__all__ = [
    "ANSWER_SCHEMA",
    "CONVERSATION",
    "QUESTION",
    "SIGNAL",
    "TASK_INPUT",
    "answer",
    "asked",
    "forget",
    "handle",
    "keep",
    "signal_of",
    "waiting",
]
