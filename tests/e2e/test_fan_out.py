"""Bounded work: limits with a 422 naming their setting, fan-outs created and dispatched through a
window, nothing rewritten while no agent serves them, and cancels that end a run of any size."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.config import Settings
from services.db.models import StepRow
from tests.e2e import fleet
from tests.fixtures.app import app_client
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack, running_stack

TOKEN = "fan-out-test-token-0123456789"


def fan(count_ref: str = "$.input.items", **step: Any) -> dict[str, Any]:
    return {
        "name": "fan",
        "steps": [
            {
                "id": "sq",
                "capability": "test.square",
                "for_each": count_ref,
                "input": {"value": "$.item"},
                **step,
            }
        ],
        "output": "$.steps.sq.output",
    }


def limit_error(response: httpx.Response, path: str, setting: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"][0]["path"] == path, error
    assert setting in error["message"], error


async def test_each_limit_is_a_422_naming_its_setting(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        api_token=TOKEN,
        max_for_each_items=10,
        max_run_items=15,
        max_workflow_steps=3,
        max_input_bytes=2_000,
    )
    async with app_client(settings) as http:
        over = await http.post(
            "/v1/runs", json={"workflow": fan(), "input": {"items": list(range(11))}}
        )
        limit_error(over, "$.input.items", "MODX_MAX_FOR_EACH_ITEMS")
        two = fan()
        two["steps"].append({**two["steps"][0], "id": "again", "for_each": "$.input.more"})
        response = await http.post(
            "/v1/runs",
            json={"workflow": two, "input": {"items": list(range(10)), "more": list(range(6))}},
        )
        limit_error(response, "$.input.more", "MODX_MAX_RUN_ITEMS")
        many = {"name": "many", "steps": [{"id": f"s{i}", "capability": "x.y"} for i in range(4)]}
        limit_error(
            await http.post("/v1/workflows", json=many), "$.steps", "MODX_MAX_WORKFLOW_STEPS"
        )
        limit_error(
            await http.post("/v1/runs", json={"workflow": many}),
            "$.workflow.steps",
            "MODX_MAX_WORKFLOW_STEPS",
        )
        big = {"workflow": fan(), "input": {"items": [], "pad": "x" * 3_000}}
        limit_error(await http.post("/v1/runs", json=big), "$.input", "MODX_MAX_INPUT_BYTES")
        within = await http.post(
            "/v1/runs", json={"workflow": fan(), "input": {"items": list(range(10))}}
        )
        assert within.status_code == 202, within.text


async def test_items_from_a_step_output_past_the_limit_fail_that_step(tmp_path: Path) -> None:
    async with running_stack("embedded", tmp_path, None, None, max_for_each_items=5) as stack:
        await stack.agent(fleet.numbers)
        workflow = {
            "name": "range-fan",
            "steps": [
                {"id": "r", "capability": "test.range", "input": {"n": "$.input.n"}},
                {
                    "id": "sq",
                    "capability": "test.square",
                    "for_each": "$.steps.r.output.items",
                    "input": {"value": "$.item"},
                },
            ],
        }
        run = await stack.wait(await stack.submit(workflow, {"n": 6}))
        assert run["status"] == "failed"
        step = next(s for s in run["steps"] if s["step_id"] == "sq")
        assert step["error"]["code"] == "too_many_items"
        assert "MODX_MAX_FOR_EACH_ITEMS allows 5" in step["error"]["message"]
        assert [s for s in run["steps"] if s["item_index"] is not None] == []


async def test_items_are_dispatched_through_the_window(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    run = await stack.wait(await stack.submit(fan(max_parallel=3), {"items": list(range(40))}))
    assert run["status"] == "succeeded", run["error"]
    assert run["output"] == [{"value": i * i} for i in range(40)]
    out, most = 0, 0
    for event in await stack.events(run["run_id"]):
        if event["step_id"] is None or "[" not in event["step_id"]:
            continue
        if event["type"] == "message.sent":
            out += 1
            most = max(most, out)
        elif event["type"] == "step.succeeded":
            out -= 1
    assert most == 3  # never more than the window out at once, and the window was used


async def test_a_fan_out_with_no_agent_waits_as_one_row_and_cancels_at_once(stack: Stack) -> None:
    items = list(range(100_000))
    run_id = await stack.submit(fan(), {"items": items})

    async def waiting() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"] and run["steps"][0]["meta"].get("waiting"))

    await wait_until(waiting, timeout=60)
    # Several rechecks later, still no item exists, and the wait was recorded once.
    rechecks = stack.runtime.orchestrator.watch.version
    await wait_until(lambda: stack.runtime.orchestrator.watch.version >= rechecks + 4, timeout=60)
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert [s["step_id"] for s in run["steps"]] == ["sq"]
    events = await stack.events(run_id)
    assert [e["type"] for e in events].count("step.waiting") == 1
    cancelled = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert run["status"] == "cancelled" and run["steps"][0]["status"] == "cancelled"


async def status(stack: Stack, run_id: str) -> str:
    found = (await stack.client.get("/v1/runs", params={"id": run_id})).json()["items"]
    return str(found[0]["status"])


async def succeeded(stack: Stack, run_id: str, at_least: int) -> bool:
    async with stack.runtime.readers() as session:
        done = await session.scalar(
            select(func.count())
            .select_from(StepRow)
            .where(StepRow.run_id == run_id, StepRow.status == "succeeded")
        )
    return (done or 0) >= at_least


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.postgres
@pytest.mark.redis
async def test_twenty_thousand_items_complete_in_bounded_memory_and_cancel_at_once(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str
) -> None:
    """The CI size of ``bench/fan_out.py`` (100,000 items): a live agent in its own process."""
    count = 20_000
    async with running_stack(
        "distributed", tmp_path, postgres_migrated_url, redis_url, heartbeat_interval_s=0.5
    ) as stack:
        stack.process("bus", "squares")
        await stack.wait_agent("squares")
        before = peak = rss_mb()
        run_id = await stack.submit(fan(), {"items": list(range(count))})
        while await status(stack, run_id) == "running":  # (a run's page with its 20,000
            peak = max(peak, rss_mb())  # steps is not what to poll)
            await stack.runtime.orchestrator.watch.wait(1.0)
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        assert run["status"] == "succeeded", run["error"]
        assert run["output"][count - 1] == {"value": (count - 1) ** 2}
        print(f"{count} items: RSS {before:.0f} MB before, {peak:.0f} MB at the peak")
        assert peak - before < 400  # the items held are small; 1,000,000 once took 3.9 GB

        # Cancel in the middle of a second one: the run ends at once, nothing more goes out.
        run_id = await stack.submit(fan(), {"items": list(range(count))})
        await wait_until(lambda: succeeded(stack, run_id, 2_000), timeout=300, interval=0.5)
        cancelled = await stack.client.post(f"/v1/runs/{run_id}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        created = [s for s in run["steps"] if s["item_index"] is not None]
        done = [s for s in created if s["status"] == "succeeded"]
        assert len(created) - len(done) <= stack.settings.for_each_window
        assert all(s["status"] in ("succeeded", "cancelled") for s in created)
