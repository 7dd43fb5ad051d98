"""RunContext: one run with its steps, and what a transaction of the writer records on it.

The engine changes a run only through a RunContext. Every state change appends an event (the
history is the trace), every outgoing envelope goes to the outbox in the same transaction, and
every recorded result extends the run's hash chain in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from bus.envelope import Envelope
from bus.transport import Ack
from services.db.models import utcnow
from services.ledger.format import chain_hash, sign_entry
from services.orchestrator.definitions import WorkflowDefinition
from services.orchestrator.records import Run, Step
from services.orchestrator.states import (
    ACTIVE_STEP,
    TERMINAL_STEP,
    RunState,
    StepState,
    run_allowed,
    step_allowed,
)

QUEUED = "queued"
"""``Step.meta`` key: the step waits for a place of its capability (``capacity``)."""

# Parsed definitions of recent runs; insertion-ordered, the oldest evicted first.
_DEFINITIONS: dict[str, WorkflowDefinition] = {}
_DEFINITIONS_MAX = 10_000


def remember_definition(run_id: str, definition: WorkflowDefinition) -> None:
    """The parsed definition of a run being created (saves parsing it back from JSON)."""
    _DEFINITIONS[run_id] = definition
    if len(_DEFINITIONS) > _DEFINITIONS_MAX:
        _DEFINITIONS.pop(next(iter(_DEFINITIONS)))


@dataclass(frozen=True)
class ChildOrder:
    """What a sub-workflow or loop step asks of the orchestrator once the transaction that
    decided it commits: start a child run (``workflow``, or the inline ``body``), or cancel
    one. Starting is idempotent (``key`` is the child's idempotency key), so an order may be
    given again, by the step's timer, after a crash between the commit and the start."""

    child_run_id: str
    step_id: str
    cancel: bool = False
    key: str = ""
    workflow: str | None = None
    version: int | None = None
    body: dict[str, Any] | None = None
    input: Any = None


@dataclass(eq=False)
class RunContext:
    """A run and its steps inside one of the writer's transactions, and what it records.

    ``services.orchestrator.persist`` writes it: the changed records, then ``events``,
    ``entries`` (the ledger) and ``outbox`` (envelopes, published once the transaction commits).
    """

    session: AsyncSession
    run: Run
    steps: dict[str, Step]
    now: datetime = field(default_factory=utcnow)
    status_before: str | None = None
    added: list[Step] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    written: list[dict[str, Any]] = field(default_factory=list)  # the events the last save
    # wrote, each with its ``id`` once committed (event streams take them from memory)
    entries: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[tuple[str, Envelope, str]] = field(default_factory=list)
    sent: list[tuple[str, Envelope]] = field(default_factory=list)
    released: list[Step] = field(default_factory=list)  # steps that gave up a place or a
    # place in the queue of a limited capability (freed once the transaction commits)
    next_due: datetime | None = None  # the earliest timer this transaction set (for the sweep)
    created: dict[str, Any] | None = None  # set when this transaction creates the run: the
    # columns kept only on file (idempotency key, goal, ...)
    version_before: int = -1
    ledger_key: Ed25519PrivateKey | None = None  # signs each entry (None: unsigned, verify says)
    children: list[ChildOrder] = field(default_factory=list)  # carried out after the commit
    acks: list[Ack] = field(default_factory=list)  # bus entries this transaction recorded:
    # acknowledged with the publish of ``sent`` (else by their subscriptions)
    withdrawals: list[tuple[str, str, str]] = field(default_factory=list)  # (inbox, group,
    # task id): tasks sent on, taken back from their agents' inboxes once this commits

    def __post_init__(self) -> None:
        self.version_before = self.run.version

    _definition: WorkflowDefinition | None = None

    @property
    def definition(self) -> WorkflowDefinition:
        """The run's definition, parsed once per process (it never changes)."""
        if self._definition is None:
            self._definition = _DEFINITIONS.get(self.run.id)
            if self._definition is None:
                self._definition = WorkflowDefinition.model_validate(self.run.definition)
                remember_definition(self.run.id, self._definition)
        return self._definition

    def add_step(self, step: Step) -> None:
        """A new step row, inserted when the transaction is saved."""
        self.steps[step.step_id] = step
        self.added.append(step)

    def event(
        self,
        type_: str,
        step: Step | None = None,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        agent_id: str | None = None,
        envelope_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event to the run's history; the run was last updated now (A2A lists
        tasks by it: ``services.interop.a2a_server``)."""
        self.run.updated_at = self.now
        self.events.append(
            {
                "run_id": self.run.id,
                "step_id": step.step_id if step is not None else None,
                "type": type_,
                "from_state": from_state,
                "to_state": to_state,
                "attempt": step.attempt if step is not None else None,
                "agent_id": agent_id
                if agent_id is not None
                else (step.agent_id if step is not None else None),
                "envelope_id": envelope_id,
                "data": data or {},
                "created_at": self.now,
            }
        )

    def move_run(self, target: RunState, **data: Any) -> bool:
        """Move the run to ``target`` if the rules allow it; records the event."""
        current = self.run.status
        if not run_allowed(current, target):
            return False
        self.run.status = target
        if target == RunState.RUNNING:
            self.run.started_at = self.now
        elif target != RunState.PENDING:
            self.run.finished_at = self.now
        self.event("run." + target.value, from_state=current, to_state=target, data=data)
        return True

    def move_step(self, step: Step, target: StepState, **data: Any) -> bool:
        """Move a step to ``target`` if the rules allow it; records the event."""
        current = step.status
        if not step_allowed(current, target):
            return False
        step.status = target
        if target == StepState.RUNNING and step.started_at is None:
            step.started_at = self.now
        if target in (
            StepState.SUCCEEDED,
            StepState.FAILED,
            StepState.CANCELLED,
            StepState.TIMED_OUT,
            StepState.SKIPPED,
        ):
            step.finished_at = self.now
            step.due_at = None
        self.event("step." + target.value, step, from_state=current, to_state=target, data=data)
        if (current in ACTIVE_STEP or QUEUED in step.meta) and target not in ACTIVE_STEP:
            self.released.append(step)
        if step.item_index is not None and target in TERMINAL_STEP and current not in TERMINAL_STEP:
            self._item_finished(step, target)
        return True

    def _item_finished(self, item: Step, target: StepState) -> None:
        """Count a fan-out's item that ended on its parent (``services.orchestrator.fan_out``):
        the parent knows when to fan in, or fail, without looking at every item."""
        parent = self.steps.get(item.definition_id)
        if parent is None:
            return
        progress = {**parent.meta, "finished": int(parent.meta.get("finished", 0)) + 1}
        if target in (StepState.FAILED, StepState.TIMED_OUT):
            progress.setdefault("failed_item", item.step_id)
        parent.meta = progress

    def send(self, destination: str, envelope: Envelope) -> None:
        """Queue an envelope in the outbox; it is published only if this transaction commits."""
        raw = envelope.to_json()
        self.outbox.append((destination, envelope, raw.decode()))
        self.sent.append((destination, envelope))
        self.event(
            "message.sent",
            self.steps.get(envelope.step_id or ""),
            agent_id=envelope.recipient,
            envelope_id=envelope.id,
            data=message_summary(envelope, destination, size=len(raw)),
        )

    def ledger(self, kind: str, data: Any) -> None:
        """Extend the run's hash chain with one entry, signed by the ledger key."""
        seq = self.run.ledger_seq + 1
        digest = chain_hash(self.run.ledger_head, self.run.id, seq, kind, data)
        signature = sign_entry(self.ledger_key, digest) if self.ledger_key is not None else None
        self.entries.append(
            {
                "run_id": self.run.id,
                "seq": seq,
                "kind": kind,
                "data": data,
                "prev_hash": self.run.ledger_head,
                "hash": digest,
                "signature": signature,
                "created_at": self.now,
            }
        )
        self.run.ledger_seq = seq
        self.run.ledger_head = digest


def message_summary(
    envelope: Envelope, destination: str | None = None, size: int | None = None
) -> dict[str, Any]:
    """What the trace keeps of an envelope: routing, timing, size, and the payload itself."""
    return {
        "id": envelope.id,
        "kind": envelope.kind.value,
        "topic": envelope.topic,
        "sender": envelope.sender,
        "recipient": envelope.recipient,
        "destination": destination,
        "attempt": envelope.attempt,
        "causation_id": envelope.causation_id,
        "created_at": envelope.created_at.isoformat(),
        "size": size if size is not None else len(envelope.to_json()),
        "payload": envelope.payload,
    }
