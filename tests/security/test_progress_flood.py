"""An agent cannot fill the database with progress reports, in both modes.

Every ``task.progress`` became a ``step.progress`` row, its ``data`` up to
MODX_MAX_ANSWER_BYTES (4 MiB), with no bound on how many: one agent reporting in a loop wrote
without end to the database every tenant shares. Now a task's first ``MAX_PROGRESS`` reports
are recorded (later ones count as heartbeats only), and data over ``MAX_PROGRESS_DATA`` bytes
is left out."""

from __future__ import annotations

from typing import Any

import pytest

from agents.sdk import Agent, TaskContext
from services.orchestrator import in_flight
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

LIMIT = 20  # the bound, lowered to keep the test short (the code reads it at each report)


async def test_progress_reports_are_bounded_per_task(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(in_flight, "MAX_PROGRESS", LIMIT)
    chatty = Agent("chatty")

    async def recorded(run_id: str | None, step_id: str, count: int) -> None:
        """Until ``count`` reports of the step are in the run's events: a report that
        arrives after the step's result is dropped (docs/protocol.md)."""
        assert run_id is not None

        async def enough() -> bool:
            events = await stack.events(run_id)
            found = [e for e in events if e["type"] == "step.progress" and e["step_id"] == step_id]
            return len(found) >= count

        await wait_until(enough, timeout=120)

    @chatty.capability("test.big")
    async def big(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        await ctx.progress("big", {"blob": "x" * (in_flight.MAX_PROGRESS_DATA + 1)})
        await recorded(ctx.run_id, "b", 1)
        return {"ok": True}

    @chatty.capability("test.chatter")
    async def chatter(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        for n in range(3 * LIMIT):
            await ctx.progress(f"report {n}", {"n": n})
        await recorded(ctx.run_id, "c", LIMIT)
        return {"ok": True}

    await stack.agent(chatty)
    workflow = {
        "name": "chatter",
        "steps": [{"id": "b", "capability": "test.big"}, {"id": "c", "capability": "test.chatter"}],
    }
    run = await stack.wait(await stack.submit(workflow))
    assert run["status"] == "succeeded", [
        (s["step_id"], s["status"], s.get("error")) for s in run["steps"]
    ]
    events = await stack.events(run["run_id"])
    large = [e["data"] for e in events if e["type"] == "step.progress" and e["step_id"] == "b"]
    assert large, events
    for report in large:  # (a report delivered twice may be recorded twice)
        assert report["message"] == "big" and report["data"] is None, report
        assert "over" in report["dropped"], report
    # Reports may also be recorded out of order and dropped: never past the bound.
    progress = [e["data"] for e in events if e["type"] == "step.progress" and e["step_id"] == "c"]
    assert len(progress) == LIMIT, len(progress)
    assert all(p["message"].startswith("report ") for p in progress), progress
    assert "last of" in progress[-1]["last"], progress[-1]
