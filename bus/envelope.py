"""The envelope: the one message shape that travels on the bus.

Every field is in DESIGN.md. An envelope is immutable; ``model_copy(update=...)`` makes a
changed one. ``signature`` covers every other field (see ``bus.signing``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bus.ids import new_id


class Kind(StrEnum):
    """What an envelope carries."""

    TASK = "task"
    RESULT = "result"
    EVENT = "event"
    HEARTBEAT = "heartbeat"
    ERROR = "error"


LATER_FIELDS = frozenset({"reply_to"})
"""Fields added after the first protocol version: left out when null (``to_json``, and the
signed bytes in ``bus.signing``), so that agents that predate them still parse and verify
every envelope that does not use them."""


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Envelope(BaseModel):
    """A signed, typed message between agents and the orchestrator."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(default_factory=new_id)
    kind: Kind
    topic: str
    sender: str
    recipient: str | None = None
    # On a task: the stream its answers go to (``bus.streams.reply_stream``), the partition
    # stream of the replica that owns the run. Left out of the JSON and of the signed bytes
    # when null, so envelopes without it are byte for byte what they were before it existed.
    reply_to: str | None = Field(default=None, max_length=200)
    run_id: str | None = None
    step_id: str | None = None
    attempt: int = Field(default=1, ge=1)
    correlation_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    deadline: datetime | None = None
    content_type: str = "application/json"
    schema_: str | None = Field(default=None, alias="schema")
    payload: Any = None
    signature: str | None = None

    @field_validator("created_at", "deadline")
    @classmethod
    def _assume_utc(cls, value: datetime | None) -> datetime | None:
        # A naive datetime cannot be compared with the aware clock in ``expired``; read it as UTC.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def expired(self, now: datetime | None = None) -> bool:
        """True when the envelope carries a deadline that has passed."""
        return self.deadline is not None and (now or utcnow()) > self.deadline

    def to_json(self) -> bytes:
        """Serialize with the public field names (``schema``, not ``schema_``)."""
        return self.model_dump_json(by_alias=True, exclude=self.unset_later_fields()).encode()

    def unset_later_fields(self) -> set[str]:
        """The fields added after the first protocol version that are null here (left out)."""
        return {name for name in LATER_FIELDS if getattr(self, name) is None}

    @classmethod
    def from_json(cls, data: bytes | str) -> Envelope:
        """Parse and validate; raises ``pydantic.ValidationError`` on a malformed envelope."""
        return cls.model_validate_json(data)


def answer(task: Envelope, sender: str, kind: Kind, topic: str, payload: Any) -> Envelope:
    """An envelope answering ``task`` (a result, an error, ``task.started``): same run, step,
    attempt, correlation and trace, caused by the task (what the orchestrator binds it by)."""
    return Envelope(
        kind=kind,
        topic=topic,
        sender=sender,
        run_id=task.run_id,
        step_id=task.step_id,
        attempt=task.attempt,
        correlation_id=task.correlation_id,
        causation_id=task.id,
        traceparent=task.traceparent,
        payload=payload,
    )
