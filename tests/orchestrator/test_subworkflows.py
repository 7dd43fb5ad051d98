"""Sub-workflows (``workflow``) and loops (``loop``), end to end in both modes: a child run's
output reaches its parent's step, a child's failure fails the step under its retry policy, a
cancelled parent cancels its child, and a loop stops at its condition or at max_iterations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from agents.sdk import Agent, FatalError
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack, running_stack


def helpers() -> tuple[Agent, dict[str, int]]:
    """An agent: ``t.double`` doubles, ``t.fail_first`` fails its first call per key."""
    agent = Agent("flowbranch-test")
    calls: dict[str, int] = {}

    @agent.capability("t.double")
    async def double(request: dict[str, Any]) -> dict[str, Any]:
        return {"value": (request.get("value") or 1) * 2}

    @agent.capability("t.fail_first")
    async def fail_first(request: dict[str, Any]) -> dict[str, Any]:
        key = str(request["key"])
        calls[key] = calls.get(key, 0) + 1
        if calls[key] == 1:
            raise FatalError("the first call fails", code="first")
        return {"calls": calls[key]}

    return agent, calls


CHILD = {
    "name": "child",
    "steps": [{"id": "d", "capability": "t.double", "input": {"value": "$.input.n"}}],
    "output": "$.steps.d.output.value",
}


def parent(**step: Any) -> dict[str, Any]:
    return {
        "name": "parent",
        "steps": [{"id": "sub", "workflow": "child", "input": {"n": "$.input.n"}, **step}],
        "output": {"doubled": "$.steps.sub.output"},
    }


async def register(stack: Stack, definition: dict[str, Any]) -> dict[str, Any]:
    response = await stack.client.post("/v1/workflows", json=definition)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def test_a_sub_workflows_output_reaches_its_parent_and_both_are_linked(
    stack: Stack,
) -> None:
    agent, _ = helpers()
    await stack.agent(agent)
    await register(stack, CHILD)
    await register(stack, parent())
    run = await stack.wait(await stack.submit("parent", {"n": 21}))
    assert run["status"] == "succeeded", run
    assert run["output"] == {"doubled": 42}
    step = run["steps"][0]
    child_id = step["meta"]["child_run_id"]
    child = (await stack.client.get(f"/v1/runs/{child_id}")).json()
    assert child["status"] == "succeeded" and child["workflow"] == "child"
    assert (child["parent_run_id"], child["parent_step_id"]) == (run["run_id"], "sub")
    assert run["parent_run_id"] is None
    listed = (await stack.client.get("/v1/runs", params={"parent_run_id": run["run_id"]})).json()
    assert [r["run_id"] for r in listed["items"]] == [child_id]
    kinds = [e["type"] for e in await stack.events(run["run_id"])]
    assert kinds.index("child.started") < kinds.index("child.finished")
    ledger = (await stack.client.get(f"/v1/runs/{run['run_id']}/ledger")).json()
    assert {"child.started", "child.finished"} <= {e["kind"] for e in ledger["entries"]}


async def test_a_childs_failure_fails_the_step_and_is_retried_under_its_policy(
    stack: Stack,
) -> None:
    agent, calls = helpers()
    await stack.agent(agent)
    flaky = {
        "name": "flaky",
        "steps": [{"id": "f", "capability": "t.fail_first", "input": {"key": "$.input.key"}}],
        "output": "$.steps.f.output.calls",
    }
    await register(stack, flaky)
    once = {
        "name": "once",
        "steps": [{"id": "sub", "workflow": "flaky", "input": {"key": "$.input.key"}}],
    }
    twice = {
        "name": "twice",
        "steps": [
            {
                "id": "sub",
                "workflow": "flaky",
                "input": {"key": "$.input.key"},
                "retry": {"max_attempts": 2, "backoff_s": 0.1, "jitter": 0},
            }
        ],
        "output": "$.steps.sub.output",
    }
    await register(stack, once)
    await register(stack, twice)

    failed = await stack.wait(await stack.submit("once", {"key": "a"}))
    assert failed["status"] == "failed", failed
    assert failed["error"]["cause"]["code"] == "child_failed"
    assert failed["steps"][0]["status"] == "failed"

    retried = await stack.wait(await stack.submit("twice", {"key": "b"}))
    assert retried["status"] == "succeeded", retried
    assert retried["output"] == 2 and calls["b"] == 2
    step = retried["steps"][0]
    assert step["attempt"] == 2
    first, second = step["meta"]["children"]
    assert (await stack.client.get(f"/v1/runs/{first}")).json()["status"] == "failed"
    assert step["meta"]["child_run_id"] == second


async def test_cancelling_the_parent_cancels_its_running_child(stack: Stack) -> None:
    await register(stack, {"name": "waiter", "steps": [{"id": "w", "wait": {"signal": "never"}}]})
    await register(stack, {"name": "holder", "steps": [{"id": "sub", "workflow": "waiter"}]})
    run_id = await stack.submit("holder", {})
    children: list[dict[str, Any]] = []

    async def child_waits() -> bool:
        nonlocal children
        listed = await stack.client.get("/v1/runs", params={"parent_run_id": run_id})
        children = listed.json()["items"]
        return bool(children) and children[0]["status"] == "running"

    await wait_until(child_waits, timeout=60)
    response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code in (200, 202), response.text
    child = await stack.wait(children[0]["run_id"])
    assert child["status"] == "cancelled", child
    assert (await stack.wait(run_id))["status"] == "cancelled"


def climb(max_iterations: int) -> dict[str, Any]:
    """Doubles ``$.previous`` (1 at first) until it reaches 16."""
    return {
        "name": f"climb{max_iterations}",
        "steps": [
            {
                "id": "l",
                "loop": {
                    "steps": [
                        {"id": "d", "capability": "t.double", "input": {"value": "$.input.v"}}
                    ],
                    "output": "$.steps.d.output.value",
                    "input": {"v": "$.previous", "i": "$.iteration"},
                    "until": {"ref": "$.output", "op": "gte", "value": 16},
                    "max_iterations": max_iterations,
                },
            }
        ],
        "output": "$.steps.l.output",
    }


async def test_a_loop_stops_at_its_condition_and_at_max_iterations(stack: Stack) -> None:
    agent, _ = helpers()
    await stack.agent(agent)
    await register(stack, climb(10))
    await register(stack, climb(3))
    done = await stack.wait(await stack.submit("climb10", {}))
    assert done["status"] == "succeeded", done
    assert done["output"] == {"output": 16, "iterations": 4}  # 2, 4, 8, 16
    iterations = done["steps"][0]["meta"]["children"]
    assert len(iterations) == 4
    last = (await stack.client.get(f"/v1/runs/{iterations[-1]}")).json()
    assert last["input"] == {"v": 8, "i": 4} and last["parent_run_id"] == done["run_id"]

    capped = await stack.wait(await stack.submit("climb3", {}))
    assert capped["status"] == "failed", capped
    error = capped["steps"][0]["error"]
    assert error["code"] == "max_iterations" and error["last_output"] == 8
    assert len(capped["steps"][0]["meta"]["children"]) == 3


async def test_unknown_or_recursive_sub_workflows_are_refused_at_their_json_path(
    stack: Stack,
) -> None:
    unknown = parent()
    response = await stack.client.post("/v1/workflows", json=unknown)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "$.steps[0].workflow"
    response = await stack.client.post("/v1/runs", json={"workflow": unknown, "input": {"n": 1}})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "$.workflow.steps[0].workflow"
    await register(stack, CHILD)
    response = await stack.client.post("/v1/workflows", json=parent(version=7))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "$.steps[0].version"
    itself = {"name": "child", "steps": [{"id": "again", "workflow": "child"}]}
    response = await stack.client.post("/v1/workflows", json=itself)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "$.steps[0].workflow"


async def test_workflows_that_call_each_other_stop_at_the_nesting_limit(tmp_path: Path) -> None:
    """ping -> pong -> ping -> ...: registration cannot see the cycle (ping's second version
    names pong, which names ping), so the orchestrator stops it at MODX_MAX_RUN_DEPTH."""
    async with running_stack("embedded", tmp_path, None, None, max_run_depth=4) as stack:
        await register(stack, {"name": "ping", "steps": [{"id": "nap", "sleep": {"seconds": 0}}]})
        await register(stack, {"name": "pong", "steps": [{"id": "call", "workflow": "ping"}]})
        await register(stack, {"name": "ping", "steps": [{"id": "call", "workflow": "pong"}]})
        run = await stack.wait(await stack.submit("ping"))
        assert run["status"] == "failed", run
        listed = (await stack.client.get("/v1/runs", params={"limit": 100})).json()["items"]
    # The root and three nested runs; the fourth level is refused, and nothing is retried.
    assert len(listed) == 4, [r["workflow"] for r in listed]
    cause = run["error"]
    while cause.get("cause"):
        cause = cause["cause"]
    assert "too_deep" in str(run["error"]) and "MODX_MAX_RUN_DEPTH" in str(run["error"]), run
    assert cause["code"] in ("too_deep", "child_failed"), run  # the innermost reason named


async def test_a_tree_of_nested_fan_outs_stops_at_the_tree_limit(stack: Stack) -> None:
    """Three steps calling a workflow of three steps calling a workflow...: each level is
    within the depth limit, but one request asks for 1 + 3 + 9 + 27 runs. With
    MODX_MAX_TREE_RUNS at 10 the tree stops at 10 runs and the root fails with the reason;
    before the limit, all 40 were made (and 1,000 steps nested 10 deep ask for 1,000^10)."""
    engine = stack.runtime.orchestrator.engine
    engine.limits = replace(engine.limits, max_tree_runs=10)
    await register(stack, {"name": "l0", "steps": [{"id": "nap", "sleep": {"seconds": 0}}]})
    for level in (1, 2, 3):
        steps = [{"id": f"s{i}", "workflow": f"l{level - 1}"} for i in range(3)]
        await register(stack, {"name": f"l{level}", "steps": steps})
    run = await stack.wait(await stack.submit("l3"))
    assert run["status"] == "failed", run
    assert "too_many_runs" in str(run["error"]) and "MODX_MAX_TREE_RUNS" in str(run["error"])
    listed = (await stack.client.get("/v1/runs", params={"limit": 100})).json()["items"]
    assert len(listed) == 10, [r["workflow"] for r in listed]
