"""A run's history turned into what the run page draws: attempts, messages, errors.

Pure functions over the rows of ``events`` and ``steps``: no I/O, so they are unit-tested on
hand-written histories.

- An attempt spans ``step.scheduled`` (attempt n) to the event that ends it
  (``step.succeeded``, ``failed``, ``retrying``, ``timed_out`` or ``cancelled``); ``step.running``
  inside it marks when the agent picked it up. A wait or a sleep sends nothing: its attempt
  spans its ``step.running`` (which names the signal or the time) to its end.
- The message trace lists every envelope (``message.sent`` / ``message.received``) in causal
  order: each envelope follows the one that caused it (``causation_id``), children in the
  order their senders made them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.db.models import EventRow, StepRow

ENDS = {
    "step.succeeded": "succeeded",
    "step.failed": "failed",
    "step.retrying": "retrying",
    "step.timed_out": "timed_out",
    "step.cancelled": "cancelled",
}


@dataclass
class Attempt:
    """One attempt of one step."""

    step_id: str
    attempt: int
    scheduled_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str = "running"
    agent_id: str | None = None
    error: dict[str, Any] | None = None

    @property
    def open(self) -> bool:
        """Still out with an agent."""
        return self.ended_at is None


def attempts(events: Iterable[EventRow]) -> list[Attempt]:
    """Every attempt of every step, in the order they were scheduled."""
    out: list[Attempt] = []
    current: dict[str, Attempt] = {}
    for event in events:
        step_id = event.step_id
        if step_id is None:
            continue
        if event.type == "step.scheduled":
            span = Attempt(step_id, event.attempt or 0, event.created_at, agent_id=event.agent_id)
            current[step_id] = span
            out.append(span)
            continue
        if event.type == "step.running" and step_id not in current and _waits(event):
            # A wait or a sleep dispatches nothing: its attempt begins running.
            at = event.created_at
            span = Attempt(step_id, event.attempt or 0, at, started_at=at)
            current[step_id] = span
            out.append(span)
            continue
        span_or_none = current.get(step_id)
        if span_or_none is None:
            continue
        span = span_or_none
        if event.type == "message.received" and span.started_at is None:
            # Agents that skip the task.started event say when they began in their answer.
            payload = (event.data or {}).get("payload")
            began = _parse_time(payload.get("started_at")) if isinstance(payload, dict) else None
            if began is not None and (event.data or {}).get("attempt") == span.attempt:
                span.started_at = max(began, span.scheduled_at)
        elif event.type == "step.running":
            span.started_at = span.started_at or event.created_at
            span.agent_id = event.agent_id or span.agent_id
            span.outcome = "running"
        elif event.type in ENDS:
            span.ended_at = event.created_at
            span.outcome = ENDS[event.type]
            span.agent_id = event.agent_id or span.agent_id
            error = (event.data or {}).get("error")
            span.error = error if isinstance(error, dict) else None
            del current[step_id]
    return out


def _waits(event: EventRow) -> bool:
    """A step that began waiting for a signal or a time (``steps.wait``, ``steps.sleep``)."""
    data = event.data or {}
    return "signal" in data or "until" in data


@dataclass
class Message:
    """One envelope of the run, as the trace shows it."""

    event_id: int
    direction: str  # "sent" by the orchestrator, or "received" from an agent
    id: str
    kind: str
    topic: str
    sender: str | None
    recipient: str | None
    destination: str | None
    attempt: int | None
    causation_id: str | None
    created_at: datetime | None
    recorded_at: datetime
    size: int | None
    payload: Any
    step_id: str | None = None
    depth: int = 0
    after_cause_s: float | None = None
    cause_shown: bool = False
    children: list[Message] = field(default_factory=list)

    @property
    def exchange(self) -> str | None:
        """The exchange in another protocol this envelope carries (a remote agent's answer:
        ``MCP tools/call add``), or None."""
        found = self.payload.get("exchange") if isinstance(self.payload, dict) else None
        if not isinstance(found, dict):
            return None
        words = [str(found.get("protocol", "")).upper(), found.get("method"), found.get("tool")]
        return " ".join(str(w) for w in words if w)


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _message(event: EventRow) -> Message:
    data = event.data or {}
    return Message(
        event_id=event.id,
        direction="sent" if event.type == "message.sent" else "received",
        id=str(data.get("id") or event.envelope_id or event.id),
        kind=str(data.get("kind", "?")),
        topic=str(data.get("topic", "")),
        sender=data.get("sender"),
        recipient=data.get("recipient")
        or (event.agent_id if event.type == "message.sent" else None),
        destination=data.get("destination"),
        attempt=data.get("attempt"),
        causation_id=data.get("causation_id"),
        created_at=_parse_time(data.get("created_at")),
        recorded_at=event.created_at,
        size=data.get("size"),
        payload=data.get("payload"),
        step_id=event.step_id,
    )


def _sent_order(message: Message) -> tuple[datetime, int]:
    """When the sender made the envelope, then the order it was recorded in. Answers to one
    task (a remote agent's ``task.started`` and its result) are handled concurrently, so the
    order they were recorded in is not the order they were said in."""
    when = message.created_at or message.recorded_at
    return (when if when.tzinfo else when.replace(tzinfo=UTC), message.event_id)


def messages(events: Sequence[EventRow], limit: int = 2000) -> list[Message]:
    """The run's envelopes in causal order (depth-first over ``causation_id``).

    A task the orchestrator sent carries no step id in its summary; it gets the step of the
    ``step.scheduled`` event recorded just before it (same destination and attempt).
    """
    found: list[Message] = []
    scheduled: list[EventRow] = []
    for event in events:
        if event.type == "step.scheduled":
            scheduled.append(event)
        elif event.type in ("message.sent", "message.received"):
            message = _message(event)
            if message.step_id is None and message.direction == "sent":
                for candidate in reversed(scheduled):
                    data = candidate.data or {}
                    if (
                        data.get("destination") == message.destination
                        and candidate.attempt == message.attempt
                    ):
                        message.step_id = candidate.step_id
                        break
            found.append(message)
            if len(found) >= limit:
                break
    by_id = {m.id: m for m in found}
    roots: list[Message] = []
    for message in found:
        cause = by_id.get(message.causation_id or "")
        if cause is not None and cause is not message:
            cause.children.append(message)
            message.cause_shown = True
            when = message.created_at or message.recorded_at
            then = cause.created_at or cause.recorded_at
            message.after_cause_s = (when - then).total_seconds()
        else:
            roots.append(message)
    for message in found:
        if message.recipient is None and message.direction == "received":
            message.recipient = "orchestrator"
        elif message.recipient is None and message.children:
            # Published to a capability's group: whoever answered is who got it.
            message.recipient = message.children[0].sender
    ordered: list[Message] = []

    def visit(message: Message, depth: int) -> None:
        message.depth = depth
        ordered.append(message)
        for child in sorted(message.children, key=_sent_order):
            visit(child, min(depth + 1, 6))

    for root in roots:
        visit(root, 0)
    return ordered


@dataclass(frozen=True)
class ErrorEntry:
    """An error to show in full: the run's, or one attempt's."""

    where: str
    attempt: int | None
    status: str
    error: dict[str, Any]
    at: datetime | None


def errors(
    run_error: dict[str, Any] | None,
    run_status: str,
    finished_at: datetime | None,
    spans: Sequence[Attempt],
    steps: Sequence[StepRow],
) -> list[ErrorEntry]:
    """The run's error first, then every failed attempt's, newest first."""
    out = []
    if run_error:
        out.append(ErrorEntry("run", None, run_status, run_error, finished_at))
    seen = set()
    for span in reversed(spans):
        if span.error is not None:
            out.append(
                ErrorEntry(span.step_id, span.attempt, span.outcome, span.error, span.ended_at)
            )
            seen.add((span.step_id, span.attempt))
    for step in steps:  # errors the history does not hold (e.g. a step that never got a task)
        if step.error and (step.step_id, step.attempt) not in seen:
            out.append(ErrorEntry(step.step_id, step.attempt, step.status, step.error, None))
    return out
