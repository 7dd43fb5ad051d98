"""Limits on how hard we push an agent, in both modes (issue 17, point 6): a capability's
``concurrency`` and ``rate_limit`` (shared by every agent serving it), a for_each's
``max_parallel``, and a run's ``priority`` in the queue of a limited capability.

Every count is the agent's own: what it saw running at once, and when each task started.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from agents.sdk import Agent
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack


class Counter:
    """An agent that counts its tasks in flight (the most at once) and when each started."""

    def __init__(self, name: str, capability: str, sleep_s: float = 0.05, **limits: Any) -> None:
        self.running = 0
        self.most = 0
        self.starts: list[float] = []
        self.gate = asyncio.Event()  # handlers wait for it (set: they do not wait)
        self.gate.set()
        self.agent = Agent(name, max_concurrency=64)

        @self.agent.capability(capability, **limits)
        async def work(request: dict[str, Any]) -> dict[str, Any]:
            self.starts.append(time.monotonic())
            self.running += 1
            self.most = max(self.most, self.running)
            try:
                await self.gate.wait()
                await asyncio.sleep(sleep_s)
            finally:
                self.running -= 1
            return {"n": request.get("n")}


def one_step(capability: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [{"id": "s", "capability": capability, "input": {"n": "$.input.n"}}],
    }


async def test_concurrency_holds_a_capabilitys_tasks_back_across_runs(stack: Stack) -> None:
    counter = Counter("two-at-once", "test.limited", sleep_s=0.05, concurrency=2)
    await stack.agent(counter.agent)
    counter.gate.clear()  # the first tasks hold their places until every run is in
    runs = [await stack.submit(one_step("test.limited", "limited"), {"n": n}) for n in range(10)]
    await wait_until(lambda: counter.running == 2)
    queued = [e for e in await stack.events(runs[-1]) if e["type"] == "step.queued"]
    assert queued and "2 at once" in queued[0]["data"]["reason"]
    counter.gate.set()
    finished = [await stack.wait(run_id) for run_id in runs]
    assert [r["status"] for r in finished] == ["succeeded"] * 10
    assert counter.most == 2  # held at the limit, and the limit reached


async def test_max_parallel_bounds_a_fan_out(stack: Stack) -> None:
    counter = Counter("fan-counter", "test.item", sleep_s=0.05)
    await stack.agent(counter.agent)
    workflow = {
        "name": "fan3",
        "steps": [
            {
                "id": "each",
                "capability": "test.item",
                "for_each": "$.input.items",
                "max_parallel": 3,
                "input": {"n": "$.item"},
            }
        ],
        "output": "$.steps.each.output",
    }
    counter.gate.clear()
    run_id = await stack.submit(workflow, {"items": list(range(30))})
    await wait_until(lambda: counter.running == 3)  # the window is full
    counter.gate.set()
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded", run
    assert run["output"] == [{"n": n} for n in range(30)]
    assert len(counter.starts) == 30
    assert counter.most == 3


async def test_a_rate_limit_spaces_tasks_out(stack: Stack) -> None:
    counter = Counter(
        "ten-a-second", "test.rated", sleep_s=0.0, rate_limit={"per": "second", "count": 10}
    )
    await stack.agent(counter.agent)
    workflow = {
        "name": "rated",
        "steps": [
            {
                "id": "each",
                "capability": "test.rated",
                "for_each": "$.input.items",
                "input": {"n": "$.item"},
            }
        ],
    }
    submitted = time.monotonic()
    run = await stack.wait(await stack.submit(workflow, {"items": list(range(50))}), timeout=120)
    assert run["status"] == "succeeded", run
    assert len(counter.starts) == 50
    # A full bucket lets 10 go at once; the other 40 come at 10 a second: 4 s at least.
    assert max(counter.starts) - submitted >= 4.0


async def test_a_high_priority_run_overtakes_a_backlog(stack: Stack) -> None:
    counter = Counter("one-at-once", "test.busy", sleep_s=0.05, concurrency=1)
    await stack.agent(counter.agent)
    workflow = one_step("test.busy", "busy")
    counter.gate.clear()  # the backlog: the first task holds the only place meanwhile
    low = [await stack.submit(workflow, {"n": n}) for n in range(100)]
    high = await stack.submit(workflow, {"n": "high"}, priority=5)
    counter.gate.set()
    finished = {run_id: await stack.wait(run_id, timeout=300) for run_id in [*low, high]}
    assert all(r["status"] == "succeeded" for r in finished.values())
    at = {run_id: datetime.fromisoformat(r["finished_at"]) for run_id, r in finished.items()}
    after_high = sum(1 for run_id in low if at[run_id] > at[high])
    assert after_high > 50, f"only {after_high} of 100 low-priority runs finished after it"


async def test_a_concurrency_key_shares_places_by_turns(stack: Stack) -> None:
    counter = Counter("by-turns", "test.shared", sleep_s=0.05, concurrency=1)
    await stack.agent(counter.agent)
    workflow = {
        **one_step("test.shared", "shared"),
        "concurrency_key": "$.input.customer",
    }
    counter.gate.clear()
    big = [await stack.submit(workflow, {"n": n, "customer": "big"}) for n in range(40)]
    small = await stack.submit(workflow, {"n": "small", "customer": "small"})
    counter.gate.set()
    finished = {run_id: await stack.wait(run_id, timeout=300) for run_id in [*big, small]}
    at = {run_id: datetime.fromisoformat(r["finished_at"]) for run_id, r in finished.items()}
    after_small = sum(1 for run_id in big if at[run_id] > at[small])
    assert after_small > 20, f"only {after_small} of 40 runs of the big key finished after it"


async def test_limits_are_checked_with_the_field_named(stack: Stack) -> None:
    card = {
        "name": "bad-limits",
        "capabilities": [{"name": "test.bad", "rate_limit": {"per": "fortnight", "count": 1}}],
    }
    response = await stack.client.post("/v1/agents", json=card)
    assert response.status_code == 422
    assert "capabilities[0].rate_limit.per" in response.text
    bad_key = {**one_step("test.x", "badkey"), "concurrency_key": "$.steps.s.output"}
    response = await stack.client.post("/v1/workflows", json=bad_key)
    assert response.status_code == 422
    assert "$.concurrency_key" in response.text
    response = await stack.client.post(
        "/v1/runs", json={"workflow": one_step("test.x", "p"), "priority": 11}
    )
    assert response.status_code == 422
    assert "priority" in response.text
