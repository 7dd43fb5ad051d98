"""Control flow written as a user would, end to end in both modes: what a parent sees when
a loop's iteration fails inside, retries inside a loop body, a child that times out or is
cancelled on its own, a cancel of the parent while a loop iterates, nested loops with a
fan-out inside, and two signals for one wait sent at once."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.sdk import Agent, RetryableError
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack


def helpers() -> tuple[Agent, dict[str, int]]:
    agent = Agent("controlflow-test")
    calls: dict[str, int] = {}

    @agent.capability("cf.add")
    async def add(request: dict[str, Any]) -> dict[str, Any]:
        return {"value": (request.get("value") or 0) + 1}

    @agent.capability("cf.fail_first")
    async def fail_first(request: dict[str, Any]) -> dict[str, Any]:
        key = str(request["key"])
        calls[key] = calls.get(key, 0) + 1
        if calls[key] == 1:
            raise RetryableError("the first call fails", code="first")
        return {"calls": calls[key]}

    @agent.capability("cf.hang")
    async def hang(request: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}

    return agent, calls


async def register(stack: Stack, definition: dict[str, Any]) -> None:
    response = await stack.client.post("/v1/workflows", json=definition)
    assert response.status_code in (200, 201), response.text


def loop_of(body: list[dict[str, Any]], output: Any, **loop: Any) -> dict[str, Any]:
    return {"steps": body, "output": output, "max_iterations": 3, **loop}


async def test_retries_inside_a_loop_body_and_a_timeout_inside_one(stack: Stack) -> None:
    agent, calls = helpers()
    await stack.agent(agent)
    retried = {
        "name": "retried",
        "steps": [
            {
                "id": "l",
                "loop": loop_of(
                    [
                        {
                            "id": "f",
                            "capability": "cf.fail_first",
                            "input": {"key": "$.input.key"},
                            "retry": {"max_attempts": 2, "backoff_s": 0.1, "jitter": 0},
                        }
                    ],
                    "$.steps.f.output.calls",
                    input={"key": "$.iteration"},
                    until={"ref": "$.iteration", "op": "gte", "value": 2},
                ),
            }
        ],
        "output": "$.steps.l.output",
    }
    await register(stack, retried)
    run = await stack.wait(await stack.submit("retried", {}))
    assert run["status"] == "succeeded", run
    assert run["output"] == {"output": 2, "iterations": 2}  # each iteration: fail, then 2
    assert calls == {"1": 2, "2": 2}

    hung = {
        "name": "hung",
        "steps": [
            {
                "id": "l",
                "loop": loop_of(
                    [{"id": "h", "capability": "cf.hang", "timeout_s": 1}],
                    "$.steps.h.output",
                    until="$.output",
                ),
            }
        ],
    }
    await register(stack, hung)
    run = await stack.wait(await stack.submit("hung", {}))
    assert run["status"] == "failed", run
    step = run["steps"][0]
    assert step["status"] == "failed" and step["error"]["code"] == "child_failed", step
    assert step["error"]["cause"]["code"] == "step_timed_out", step
    assert len(step["meta"]["children"]) == 1


async def test_a_child_that_times_out_or_is_cancelled_on_its_own(stack: Stack) -> None:
    await register(stack, {"name": "waiter", "steps": [{"id": "w", "wait": {"signal": "x"}}]})
    await register(stack, {"name": "holder", "steps": [{"id": "sub", "workflow": "waiter"}]})
    # The child's own deadline (a definition's deadline_s) passes: the parent's step reads it.
    await register(
        stack, {"name": "short", "deadline_s": 1, "steps": [{"id": "w", "wait": {"signal": "x"}}]}
    )
    await register(stack, {"name": "holder2", "steps": [{"id": "sub", "workflow": "short"}]})
    run = await stack.wait(await stack.submit("holder2", {}))
    assert run["status"] == "failed", run
    error = run["steps"][0]["error"]
    assert error["code"] == "child_timed_out" and error["cause"]["code"] == "run_deadline", error

    run_id = await stack.submit("holder", {})
    children: list[dict[str, Any]] = []

    async def child_waits() -> bool:
        nonlocal children
        listed = await stack.client.get("/v1/runs", params={"parent_run_id": run_id})
        children = listed.json()["items"]
        return bool(children) and children[0]["status"] == "running"

    await wait_until(child_waits, timeout=60)
    response = await stack.client.post(f"/v1/runs/{children[0]['run_id']}/cancel")
    assert response.status_code in (200, 202), response.text
    run = await stack.wait(run_id)
    assert run["status"] == "failed", run
    assert run["steps"][0]["error"]["code"] == "child_cancelled", run


async def test_cancelling_the_parent_cancels_the_running_iteration(stack: Stack) -> None:
    body = [{"id": "w", "wait": {"signal": "go"}}]
    flow = {
        "name": "spin",
        "steps": [{"id": "l", "loop": loop_of(body, "$.steps.w.output", until="$.output.stop")}],
    }
    await register(stack, flow)
    run_id = await stack.submit("spin", {})
    children: list[dict[str, Any]] = []

    async def iterating() -> bool:
        nonlocal children
        listed = await stack.client.get("/v1/runs", params={"parent_run_id": run_id})
        children = listed.json()["items"]
        return bool(children) and children[0]["status"] == "running"

    await wait_until(iterating, timeout=60)
    # A signal for a wait inside the body goes to the iteration's run, not the parent.
    sent = await stack.client.post(f"/v1/runs/{run_id}/signals/go", json={"stop": True})
    assert sent.status_code == 409, sent.text
    response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code in (200, 202), response.text
    assert (await stack.wait(run_id))["status"] == "cancelled"
    child = await stack.wait(children[0]["run_id"])
    assert child["status"] == "cancelled", child


async def test_nested_loops_with_a_fan_out_inside(stack: Stack) -> None:
    agent, _ = helpers()
    await stack.agent(agent)
    inner = {
        "id": "inner",
        "loop": loop_of(
            [
                {
                    "id": "each",
                    "capability": "cf.add",
                    "for_each": "$.input.items",
                    "input": {"value": "$.item"},
                }
            ],
            "$.steps.each.output",
            input={"items": "$.input.items"},
            until={"ref": "$.iteration", "op": "gte", "value": 2},
        ),
    }
    outer = {
        "name": "nested",
        "steps": [
            {
                "id": "outer",
                "loop": loop_of(
                    [inner],
                    "$.steps.inner.output",
                    input={"items": "$.input.items"},
                    until={"ref": "$.iteration", "op": "gte", "value": 2},
                ),
            }
        ],
        "output": "$.steps.outer.output",
    }
    await register(stack, outer)
    run = await stack.wait(await stack.submit("nested", {"items": [1, 2, 3]}))
    assert run["status"] == "succeeded", run
    inner_out = {"output": [{"value": 2}, {"value": 3}, {"value": 4}], "iterations": 2}
    assert run["output"] == {"output": inner_out, "iterations": 2}
    listed = (await stack.client.get("/v1/runs", params={"limit": 100})).json()["items"]
    assert len(listed) == 1 + 2 + 4  # the root, 2 outer iterations, 2 inner each


async def test_two_signals_at_once_for_one_wait(stack: Stack) -> None:
    await register(
        stack,
        {
            "name": "once",
            "steps": [{"id": "w", "wait": {"signal": "go"}}],
            "output": "$.steps.w.output",
        },
    )
    run_id = await stack.submit("once", {})

    async def waiting() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"]) and run["steps"][0]["status"] == "running"

    await wait_until(waiting, timeout=60)
    first, second = await asyncio.gather(
        stack.client.post(f"/v1/runs/{run_id}/signals/go", json={"n": 1}),
        stack.client.post(f"/v1/runs/{run_id}/signals/go", json={"n": 2}),
    )
    codes = sorted([first.status_code, second.status_code])
    assert codes == [202, 409], (first.text, second.text)
    taken = first if first.status_code == 202 else second
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded"
    assert taken.json()["steps"] == ["w"]
    assert run["output"] == ({"n": 1} if taken is first else {"n": 2})
    received = [e for e in await stack.events(run_id) if e["type"] == "signal.received"]
    assert len(received) == 1


async def test_a_loops_timeout_bounds_the_whole_attempt_not_each_iteration(
    stack: Stack,
) -> None:
    """Each iteration sleeps 1 s and ``until`` never holds: the loop's ``timeout_s`` of 3 s
    ends the attempt after a few iterations (not 1,000), and the iteration then running is
    cancelled."""
    body = [{"id": "nap", "sleep": {"seconds": 1}}]
    flow = {
        "name": "forever",
        "steps": [
            {
                "id": "l",
                "timeout_s": 3,
                "loop": {
                    **loop_of(body, "$.steps.nap.output", until="$.output.never"),
                    "max_iterations": 1000,
                },
            }
        ],
    }
    await register(stack, flow)
    run = await stack.wait(await stack.submit("forever", {}))
    assert run["status"] == "failed", run
    assert run["error"]["code"] == "step_timed_out", run["error"]
    step = run["steps"][0]
    assert step["status"] == "timed_out" and step["error"]["code"] == "timeout", step
    children = step["meta"]["children"]
    assert 1 <= len(children) < 1000
    last = await stack.wait(children[-1])
    # Never left running: cancelled (or it ended just as the timeout passed).
    assert last["status"] in ("cancelled", "succeeded"), last
