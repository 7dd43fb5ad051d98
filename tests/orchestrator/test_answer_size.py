"""An agent's answer is bounded whatever its transport (MODX_MAX_ANSWER_BYTES), in both modes.

HTTP agents' replies were cut at 4 MiB, but a bus agent's result went through at any size: a
30 MB output was stored in the step, the run's output and the ledger, and every
``GET /v1/runs/{id}`` answered 63 MB, on the database and orchestrator every tenant shares."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agents.sdk import Agent
from tests.fixtures.stack import Stack


async def test_an_answer_over_the_limit_fails_the_step_and_is_not_stored(stack: Stack) -> None:
    engine = stack.runtime.orchestrator.engine
    engine.limits = replace(engine.limits, max_answer_bytes=64 * 1024)
    agent = Agent("answer-size")

    @agent.capability("t.echo_size")
    async def sized(request: dict[str, Any]) -> dict[str, Any]:
        return {"blob": "x" * int(request["size"])}

    await stack.agent(agent)
    definition = {
        "name": "sized",
        "steps": [{"id": "s", "capability": "t.echo_size", "input": {"size": "$.input.size"}}],
    }
    response = await stack.client.post("/v1/workflows", json=definition)
    assert response.status_code == 201, response.text

    small = await stack.wait(await stack.submit("sized", {"size": 1000}))
    assert small["status"] == "succeeded", small
    big = await stack.wait(await stack.submit("sized", {"size": 200 * 1024}))
    assert big["status"] == "failed", big
    assert "answer_too_large" in str(big["error"]), big["error"]
    assert "MODX_MAX_ANSWER_BYTES" in str(big["error"]), big["error"]
    shown = await stack.client.get(f"/v1/runs/{big['run_id']}")
    assert len(shown.content) < 64 * 1024, len(shown.content)
    events = await stack.client.get(f"/v1/runs/{big['run_id']}/events")
    assert events.status_code == 200 and len(events.content) < 64 * 1024, len(events.content)
    assert "answer_too_large" in events.text
