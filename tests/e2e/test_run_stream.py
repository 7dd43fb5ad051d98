"""Waiting on a run: ``/wait`` and the event stream wake on the run's notices, in both modes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.e2e import fleet
from tests.fixtures.errors import assert_error
from tests.fixtures.stack import Stack

TWO_SQUARES = {
    "name": "two-squares",
    "steps": [
        {"id": "a", "capability": "test.square", "input": {"value": "$.input.n"}},
        {"id": "b", "capability": "test.square", "input": {"value": "$.steps.a.output.value"}},
    ],
    "output": "$.steps.b.output.value",
}


async def _sse(stack: Stack, run_id: str, **headers: str) -> list[dict[str, Any]]:
    """Every event the stream sends until it closes, with its SSE id and name."""
    events: list[dict[str, Any]] = []
    async with stack.client.stream(
        "GET", f"/v1/runs/{run_id}/stream", headers=headers, timeout=60
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if "data" in fields:
                    events.append(
                        {
                            "id": int(fields["id"]),
                            "event": fields["event"],
                            **json.loads(fields["data"]),
                        }
                    )
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return events


async def test_stream_and_wait_follow_a_run_to_its_end(stack: Stack) -> None:
    run_id = await stack.submit(TWO_SQUARES, {"n": 3})
    # Both wait before any agent can run a step: only the run's notices can wake them.
    streamed = asyncio.create_task(_sse(stack, run_id))
    waited = asyncio.create_task(
        stack.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 60})
    )
    await stack.agent(fleet.squares)
    run = (await waited).json()
    assert run["status"] == "succeeded" and run["output"] == 81
    events = await streamed
    history = await stack.events(run_id)
    assert [e["id"] for e in events] == [e["id"] for e in history]
    assert [e["event"] for e in events] == [e["type"] for e in history]
    assert events[-1]["to_state"] == "succeeded"
    # Resuming after an event sends only the later ones, then closes (the run is over).
    middle = events[len(events) // 2]["id"]
    resumed = await _sse(stack, run_id, **{"Last-Event-ID": str(middle)})
    assert [e["id"] for e in resumed] == [e["id"] for e in events if e["id"] > middle]
    # Resuming after the final event sends nothing and closes at once.
    assert await _sse(stack, run_id, **{"Last-Event-ID": str(events[-1]["id"])}) == []


async def test_a_bad_last_event_id_is_a_422_naming_it(stack: Stack) -> None:
    run_id = await stack.submit(TWO_SQUARES, {"n": 1})
    response = await stack.client.get(f"/v1/runs/{run_id}/stream", headers={"Last-Event-ID": "x1"})
    assert "Last-Event-ID" in assert_error(response, 422, "invalid_request")["message"]
