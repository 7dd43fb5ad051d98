"""Numbers in a header or a workflow reference are ASCII digits: anything else is a 422.

``str.isdigit`` is true for "²" and other Unicode digits that ``int`` refuses, so
``Last-Event-ID: ²`` (the byte 0xB2, as a header decodes) and ``"workflow": "name@²"``
answered 500 instead of a 422 naming the field."""

from __future__ import annotations

from tests.fixtures.stack import Stack


async def test_unicode_digits_are_refused_naming_the_field(stack: Stack) -> None:
    for value in (b"\xb2", b"\xb9\xb3"):
        response = await stack.client.get(
            "/v1/runs/01a2508d-5a78-7035-96a6-acfac7d91fd5/stream",
            headers={b"last-event-id": value},
        )
        assert response.status_code == 422, response.text
        assert "Last-Event-ID" in response.text, response.text
    for workflow in ("sara-tax@\u00b2", "sara-tax@\u0661"):
        response = await stack.client.post("/v1/runs", json={"workflow": workflow, "input": {}})
        assert response.status_code == 422, response.text
        assert "$.workflow" in response.text, response.text
