"""The event-stream reader the CLI and benchmarks use."""

from __future__ import annotations

from modx.sse import SseEvent, SseParser


def test_events_comments_multiline_data_and_a_persisting_id() -> None:
    lines = [": keep-alive", "", "id: 7", "event: step.succeeded", 'data: {"a":', "data: 1}", ""]
    lines += ["data:plain", "", "id", "data: x", ""]
    parser = SseParser()
    got = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert got == [
        SseEvent("7", "step.succeeded", '{"a":\n1}'),
        SseEvent("7", "message", "plain"),  # no id field: the last one stands
        SseEvent("", "message", "x"),  # an empty id resets it
    ]
