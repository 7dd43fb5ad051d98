"""RunContext: one run, locked, with its steps, and what a transaction on it records.

The engine changes a run only through a RunContext. Every state change appends an event (the
history is the trace), every outgoing envelope goes to the outbox in the same transaction, and
every recorded result extends the run's hash chain in the ledger.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bus.envelope import Envelope
from services.db.models import EventRow, LedgerEntryRow, OutboxRow, RunRow, StepRow, utcnow
from services.orchestrator.definitions import WorkflowDefinition
from services.orchestrator.states import RunState, StepState, run_allowed, step_allowed

# Parsed definitions of recent runs; insertion-ordered, the oldest evicted first.
_DEFINITIONS: dict[str, WorkflowDefinition] = {}
_DEFINITIONS_MAX = 10_000


def chain_hash(prev_hash: str, run_id: str, seq: int, kind: str, data: Any) -> str:
    """The ledger hash of one entry: SHA-256 over the previous hash and the canonical entry."""
    body = json.dumps(
        [prev_hash, run_id, seq, kind, data], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass
class RunContext:
    """A locked run and its steps inside one transaction."""

    session: AsyncSession
    run: RunRow
    steps: dict[str, StepRow]
    now: datetime = field(default_factory=utcnow)
    sent: list[tuple[OutboxRow, Envelope]] = field(default_factory=list)
    _definition: WorkflowDefinition | None = None

    @classmethod
    async def load(
        cls, session: AsyncSession, run_id: str, *, skip_locked: bool = False
    ) -> RunContext | None:
        """Lock the run row (FOR UPDATE; SKIP LOCKED when asked) and load its steps."""
        query = select(RunRow).where(RunRow.id == run_id).with_for_update(skip_locked=skip_locked)
        run = (await session.execute(query)).scalar_one_or_none()
        if run is None:
            return None
        rows = (await session.execute(select(StepRow).where(StepRow.run_id == run_id))).scalars()
        return cls(session=session, run=run, steps={row.step_id: row for row in rows})

    @property
    def definition(self) -> WorkflowDefinition:
        """The run's definition, parsed once per process (it never changes)."""
        if self._definition is None:
            self._definition = _DEFINITIONS.get(self.run.id)
            if self._definition is None:
                self._definition = WorkflowDefinition.model_validate(self.run.definition)
                _DEFINITIONS[self.run.id] = self._definition
                if len(_DEFINITIONS) > _DEFINITIONS_MAX:
                    _DEFINITIONS.pop(next(iter(_DEFINITIONS)))
        return self._definition

    def event(
        self,
        type_: str,
        step: StepRow | None = None,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        agent_id: str | None = None,
        envelope_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event to the run's history."""
        self.session.add(
            EventRow(
                run_id=self.run.id,
                step_id=step.step_id if step is not None else None,
                type=type_,
                from_state=from_state,
                to_state=to_state,
                attempt=step.attempt if step is not None else None,
                agent_id=agent_id
                if agent_id is not None
                else (step.agent_id if step is not None else None),
                envelope_id=envelope_id,
                data=data or {},
                created_at=self.now,
            )
        )

    def move_run(self, target: RunState, **data: Any) -> bool:
        """Move the run to ``target`` if the rules allow it; records the event."""
        current = self.run.status
        if not run_allowed(current, target):
            return False
        self.run.status = target
        self.run.updated_at = self.now
        if target == RunState.RUNNING:
            self.run.started_at = self.now
        elif target != RunState.PENDING:
            self.run.finished_at = self.now
        self.event("run." + target.value, from_state=current, to_state=target, data=data)
        return True

    def move_step(self, step: StepRow, target: StepState, **data: Any) -> bool:
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
        return True

    def send(self, destination: str, envelope: Envelope) -> None:
        """Queue an envelope in the outbox; it is published only if this transaction commits."""
        row = OutboxRow(
            destination=destination, envelope=envelope.to_json().decode(), created_at=self.now
        )
        self.session.add(row)
        self.sent.append((row, envelope))
        self.event(
            "message.sent",
            self.steps.get(envelope.step_id or ""),
            agent_id=envelope.recipient,
            envelope_id=envelope.id,
            data=message_summary(envelope, destination),
        )

    def ledger(self, kind: str, data: Any) -> None:
        """Extend the run's hash chain with one entry."""
        seq = self.run.ledger_seq + 1
        digest = chain_hash(self.run.ledger_head, self.run.id, seq, kind, data)
        self.session.add(
            LedgerEntryRow(
                run_id=self.run.id,
                seq=seq,
                kind=kind,
                data=data,
                prev_hash=self.run.ledger_head,
                hash=digest,
                created_at=self.now,
            )
        )
        self.run.ledger_seq = seq
        self.run.ledger_head = digest


def message_summary(envelope: Envelope, destination: str | None = None) -> dict[str, Any]:
    """What the trace keeps of an envelope: routing, timing, size, and the payload itself."""
    raw = envelope.to_json()
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
        "size": len(raw),
        "payload": envelope.payload,
    }
