"""Envelopes and dead letters as stream entry fields.

A stream entry is a flat map of byte-string fields. An envelope travels as one field, ``data``,
holding its JSON; other fields may be added later (routing hints, compression flags) without
breaking readers, which look only at the fields they know. Dead letters keep the original
bytes untouched, so a malformed entry can be inspected and replayed as it was.

Both transports use these functions, so an entry looks the same in memory and in Redis.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import ValidationError

from bus.envelope import Envelope
from bus.errors import CodecError
from bus.transport import DeadLetter

Fields = Mapping[bytes, bytes]
"""Fields of one stream entry, as Redis returns them (bytes keys and values)."""

DATA = b"data"
REASON = b"reason"
DELIVERIES = b"deliveries"
STREAM = b"stream"
ORIGINAL_ID = b"original_id"
GROUP = b"group"
CONSUMER = b"consumer"
FAILED_AT = b"failed_at"

_MAX_ERRORS_IN_REASON = 3


def encode(envelope: Envelope) -> dict[bytes, bytes]:
    """The fields of the entry that carries ``envelope``."""
    return {DATA: envelope.to_json()}


def encode_raw(data: bytes) -> dict[bytes, bytes]:
    """The fields of an entry that carries ``data`` as is, valid envelope or not."""
    return {DATA: data}


def entry_data(fields: Fields) -> bytes | None:
    """The envelope bytes of an entry, or None when it has no ``data`` field."""
    return fields.get(DATA)


def envelope_id(fields: Fields) -> str | None:
    """The ``id`` of the envelope an entry carries, or None when it carries none readable
    (cheaper than ``decode``: nothing else is checked)."""
    data = fields.get(DATA)
    try:
        value = json.loads(data) if data is not None else None
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def decode(data: bytes | None) -> Envelope:
    """Parse and validate an entry's data.

    Args:
        data: The ``data`` field of an entry (None when the field is missing).

    Returns:
        The envelope.

    Raises:
        CodecError: With a short reason fit for a dead letter.
    """
    if data is None:
        raise CodecError("malformed: entry has no data field")
    try:
        return Envelope.from_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or 'data'}: {err['msg']}"
            for err in errors[:_MAX_ERRORS_IN_REASON]
        ]
        if len(errors) > _MAX_ERRORS_IN_REASON:
            parts.append(f"and {len(errors) - _MAX_ERRORS_IN_REASON} more")
        raise CodecError("malformed: " + "; ".join(parts)) from None


def dead_letter_fields(
    *,
    data: bytes | None,
    reason: str,
    deliveries: int,
    stream: str,
    original_id: str,
    group: str,
    consumer: str,
    failed_at: datetime | None = None,
) -> dict[bytes, bytes]:
    """The fields of a dead-letter entry (``<stream>.dlq``)."""
    when = failed_at or datetime.now(UTC)
    return {
        DATA: data if data is not None else b"",
        REASON: reason.encode(),
        DELIVERIES: str(deliveries).encode(),
        STREAM: stream.encode(),
        ORIGINAL_ID: original_id.encode(),
        GROUP: group.encode(),
        CONSUMER: consumer.encode(),
        FAILED_AT: when.isoformat().encode(),
    }


def read_dead_letter(entry_id: str, stream: str, fields: Fields) -> DeadLetter:
    """Build a ``DeadLetter`` from a dead-letter entry; tolerant of missing fields."""
    data = fields.get(DATA, b"")
    try:
        deliveries = int(fields.get(DELIVERIES, b"0"))
    except ValueError:
        deliveries = 0
    try:
        failed_at = datetime.fromisoformat(fields.get(FAILED_AT, b"").decode())
    except ValueError:
        failed_at = datetime.fromtimestamp(0, UTC)
    try:
        envelope: Envelope | None = Envelope.from_json(data)
    except ValidationError:
        envelope = None
    return DeadLetter(
        id=entry_id,
        stream=fields.get(STREAM, stream.encode()).decode(errors="replace"),
        reason=fields.get(REASON, b"").decode(errors="replace"),
        deliveries=deliveries,
        data=data,
        failed_at=failed_at,
        envelope=envelope,
    )
