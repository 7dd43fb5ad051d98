"""Envelopes and dead letters as stream entry fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bus import CodecError, Envelope, Kind, codec


def test_an_envelope_round_trips_through_entry_fields():
    envelope = Envelope(kind=Kind.TASK, topic="t", sender="s", payload={"x": [1, 2]})
    fields = codec.encode(envelope)
    assert set(fields) == {b"data"}
    assert codec.decode(codec.entry_data(fields)) == envelope


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "malformed: entry has no data field"),
        (b"\xff\xfe", "malformed: data: Invalid JSON"),
        (b"[]", "malformed: data: Input should be an object"),
        (b'{"kind": "task"}', "malformed: topic: Field required; sender: Field required"),
    ],
)
def test_bad_data_raises_a_codec_error_with_a_short_reason(data, expected):
    with pytest.raises(CodecError) as caught:
        codec.decode(data)
    assert str(caught.value).startswith(expected)
    assert isinstance(caught.value, ValueError)


def test_a_reason_lists_at_most_three_errors():
    with pytest.raises(CodecError) as caught:
        codec.decode(b'{"kind": 1, "topic": 2, "sender": 3, "attempt": 0}')
    assert str(caught.value).endswith("and 1 more")


def test_dead_letter_fields_round_trip():
    envelope = Envelope(kind=Kind.TASK, topic="t", sender="s")
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    fields = codec.dead_letter_fields(
        data=envelope.to_json(),
        reason="expired",
        deliveries=2,
        stream="modx.tasks.x",
        original_id="1-0",
        group="x",
        consumer="c",
        failed_at=when,
    )
    dead = codec.read_dead_letter("9-0", "modx.tasks.x", fields)
    assert (dead.id, dead.stream, dead.reason) == ("9-0", "modx.tasks.x", "expired")
    assert dead.deliveries == 2
    assert dead.failed_at == when and dead.envelope == envelope
    garbage = codec.read_dead_letter("9-1", "s", {b"data": b"junk", b"deliveries": b"x"})
    assert garbage.envelope is None and garbage.deliveries == 0 and garbage.data == b"junk"


def test_a_naive_deadline_is_read_as_utc():
    envelope = Envelope(kind=Kind.TASK, topic="t", sender="s", deadline=datetime(2000, 1, 1))
    assert envelope.deadline == datetime(2000, 1, 1, tzinfo=UTC)
    assert envelope.expired()
