"""Workflows end to end, through the REST API, in both modes (embedded and distributed)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from bus import streams
from bus.envelope import Envelope, Kind
from tests.e2e import fleet
from tests.fixtures.errors import assert_error
from tests.fixtures.identity import keyed
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, Stack

FAN = {
    "name": "fan-square-sum-double",
    "steps": [
        {"id": "range", "capability": "test.range", "input": {"n": "$.input.n"}},
        {
            "id": "square",
            "capability": "test.square",
            "for_each": "$.steps.range.output.items",
            "input": {"value": "$.item"},
        },
        {"id": "sum", "capability": "test.sum", "input": {"values": "$.steps.square.output"}},
        {
            "id": "double",
            "capability": "test.double",
            "input": {"total": "$.steps.sum.output.total"},
        },
    ],
    "output": "$.steps.double.output.total",
}


async def test_fan_out_and_in_across_bus_and_http_agents(stack: Stack) -> None:
    await stack.agent(fleet.numbers)
    if stack.mode == "distributed":
        stack.process("bus", "squares")  # a bus agent in its own OS process
        await stack.wait_agent("squares")
    else:
        await stack.agent(fleet.squares)
    stack.process("http", "doubler", str(free_port()))
    await stack.wait_agent("doubler")

    run_id = await stack.submit(FAN, {"n": 10})
    run = await stack.wait(run_id)

    assert run["status"] == "succeeded", run["error"]
    assert run["output"] == 2 * sum(i * i for i in range(10))
    squares = [
        s for s in run["steps"] if s["definition_id"] == "square" and s["item_index"] is not None
    ]
    assert sorted(s["output"]["value"] for s in squares) == [i * i for i in range(10)]
    double = next(s for s in run["steps"] if s["step_id"] == "double")
    doubler = await stack.wait_agent("doubler")
    assert double["agent_id"] == doubler[0]["agent_id"]  # the HTTP agent served it
    # Every step ran exactly once.
    ran = [(e["run"], e["step"]) for e in fleet.executions(stack.log)]
    assert len(ran) == len(set(ran)) == 13


async def test_a_step_that_fails_twice_then_succeeds_shows_three_attempts(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    workflow = {
        "name": "flaky",
        "steps": [
            {
                "id": "f",
                "capability": "test.flaky",
                "input": {"value": 7},
                "retry": {"max_attempts": 3, "backoff_s": 0.05},
            }
        ],
        "output": "$.steps.f.output.value",
    }
    run_id = await stack.submit(workflow)
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded" and run["output"] == 7
    assert run["steps"][0]["attempt"] == 3
    events = await stack.events(run_id)
    dispatched = [e["attempt"] for e in events if e["type"] == "step.scheduled"]
    assert dispatched == [1, 2, 3]
    assert [e["type"] for e in events].count("step.retrying") == 2


async def test_a_non_retryable_error_fails_the_run_at_once(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    workflow = {
        "name": "fatal",
        "steps": [
            {
                "id": "f",
                "capability": "test.fatal",
                "input": {"value": 3},
                "retry": {"max_attempts": 5, "backoff_s": 0.05},
            }
        ],
    }
    run = await stack.wait(await stack.submit(workflow))
    assert run["status"] == "failed"
    step = run["steps"][0]
    assert step["attempt"] == 1 and step["status"] == "failed"
    assert step["error"]["code"] == "refused" and step["error"]["retryable"] is False
    assert run["error"]["step_id"] == "f" and run["error"]["cause"]["message"] == "refusing value 3"


async def test_a_hung_agent_times_the_step_out(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    workflow = {
        "name": "hang",
        "steps": [
            {
                "id": "h",
                "capability": "test.hang",
                "input": {"value": 1},
                "timeout_s": 0.5,
                "retry": {"max_attempts": 2, "backoff_s": 0.05},
            }
        ],
    }
    run = await stack.wait(await stack.submit(workflow))
    assert run["status"] == "failed"
    assert run["steps"][0]["status"] == "timed_out" and run["steps"][0]["attempt"] == 2
    assert run["error"]["code"] == "step_timed_out"


async def test_cancel_stops_dispatch_and_cancels_running_steps(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    workflow = {
        "name": "cancel-me",
        "steps": [
            {"id": "h", "capability": "test.hang", "input": {"value": 1}},
            {
                "id": "after",
                "capability": "test.square",
                "input": {"value": "$.steps.h.output.value"},
            },
        ],
    }
    run_id = await stack.submit(workflow)

    async def running() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"][0]["status"] == "running")

    await wait_until(running)
    response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code == 202
    run = await stack.wait(run_id)
    assert run["status"] == "cancelled"
    assert {s["step_id"]: s["status"] for s in run["steps"]} == {
        "h": "cancelled",
        "after": "cancelled",
    }
    again = assert_error(await stack.client.post(f"/v1/runs/{run_id}/cancel"), 409, "run_finished")
    assert again["message"] == f"run {run_id} has already ended (cancelled)"
    # "after" was never dispatched (no task left for it), and is finished: it never will be;
    # the agent holding "h" was told to stop (docs/protocol.md, "Cancellation").
    sent = [
        (e["step_id"], e["data"]["kind"], e["data"]["topic"])
        for e in await stack.events(run_id)
        if e["type"] == "message.sent"
    ]
    assert sent == [("h", "task", "test.hang"), ("h", "event", "task.cancel")]
    assert [e["step"] for e in fleet.executions(stack.log)] == ["h"]


async def test_cancel_during_retry_backoff_ends_the_step(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    workflow = {
        "name": "cancel-in-backoff",
        "steps": [
            {
                "id": "f",
                "capability": "test.flaky",
                "input": {"value": 1, "failures": 5},
                "retry": {"max_attempts": 3, "backoff_s": 120},
            }
        ],
    }
    run_id = await stack.submit(workflow)

    async def retrying() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"][0]["status"] == "retrying")

    await wait_until(retrying)
    response = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert run["status"] == "cancelled" and run["error"]["code"] == "cancelled"
    step = run["steps"][0]
    assert step["status"] == "cancelled" and step["attempt"] == 1
    assert step["finished_at"] is not None
    moves = [(e["from_state"], e["to_state"]) for e in await stack.events(run_id) if e["step_id"]]
    assert moves[-1] == ("retrying", "cancelled")
    assert [e["attempt"] for e in fleet.executions(stack.log)] == [1]


async def test_a_run_deadline_times_the_run_out(stack: Stack) -> None:
    """The step's timeout (30 s) is longer than the run's deadline (1 s): the task's deadline is
    clamped to the run's, the agent gives up at it, and the run, not the step, timed out."""
    await stack.agent(fleet.squares)
    workflow = {
        "name": "deadline",
        "steps": [
            {
                "id": "h",
                "capability": "test.hang",
                "input": {"value": 1},
                "timeout_s": 30,
                "retry": {"max_attempts": 3, "backoff_s": 0.05},
            }
        ],
    }
    run = await stack.wait(await stack.submit(workflow, deadline_s=1))
    assert run["status"] == "timed_out", run
    assert run["error"]["code"] == "run_deadline"
    assert run["steps"][0]["status"] == "cancelled" and run["steps"][0]["attempt"] == 1
    finished, deadline = (datetime.fromisoformat(run[k]) for k in ("finished_at", "deadline_at"))
    assert finished >= deadline
    assert [e["attempt"] for e in fleet.executions(stack.log)] == [1]  # not retried past it


async def test_idempotency_key_and_late_duplicate_results(stack: Stack) -> None:
    await stack.agent(fleet.numbers)
    workflow = {
        "name": "once",
        "steps": [{"id": "r", "capability": "test.range", "input": {"n": 3}}],
    }
    first = await stack.submit(workflow, None, idempotency_key="order-42")
    second = await stack.submit(workflow, None, idempotency_key="order-42")
    assert first == second
    run = await stack.wait(first)
    assert run["status"] == "succeeded"
    step = run["steps"][0]
    # A late duplicate of the result (the agent answering its task again, as after a
    # redelivery): recorded once, the duplicate counted and ignored.
    duplicate = fleet.numbers.sign(
        Envelope(
            kind=Kind.RESULT,
            topic="test.range",
            sender=step["agent_id"],
            run_id=first,
            step_id="r",
            attempt=1,
            causation_id=step["task_id"],
            payload={"output": {"items": [9, 9]}},
        )
    )
    await stack.runtime.transport.publish(streams.RESULTS, duplicate)

    async def counted() -> bool:
        current = (await stack.client.get(f"/v1/runs/{first}")).json()
        return bool(current["steps"][0]["duplicates"] == 1)

    await wait_until(counted)
    current = (await stack.client.get(f"/v1/runs/{first}")).json()
    assert current["steps"][0]["output"] == {"items": [0, 1, 2]}
    assert len(fleet.executions(stack.log)) == 1


async def test_credentials(stack: Stack) -> None:
    url = "/v1/runs"
    body: dict[str, Any] = {"workflow": "x"}
    assert_error(
        await stack.client.post(url, json=body, headers={"authorization": ""}), 401, "unauthorized"
    )
    wrong = await stack.client.post(url, json=body, headers={"authorization": "Bearer nope"})
    assert_error(wrong, 401, "unauthorized")
    card = {"name": "a", "capabilities": [{"name": "x.y"}]}
    one = (await stack.client.post("/v1/agents", json=keyed(card))).json()
    two = (await stack.client.post("/v1/agents", json=keyed({**card, "name": "b"}))).json()
    as_agent = {"authorization": f"Bearer {one['token']}"}
    assert_error(await stack.client.post(url, json=body, headers=as_agent), 403, "forbidden")
    other = await stack.client.post(
        f"/v1/agents/{two['agent_id']}/heartbeat", json={}, headers=as_agent
    )
    assert_error(other, 404)  # another agent answers as one not registered
    own = await stack.client.post(
        f"/v1/agents/{one['agent_id']}/heartbeat", json={}, headers=as_agent
    )
    assert own.status_code == 200
    assert (
        await stack.client.get("/v1/ledger/verify", headers={"authorization": f"Bearer {ADMIN}"})
    ).json()["ok"]


async def test_retry_resumes_from_the_failed_step(stack: Stack) -> None:
    await stack.agent(fleet.numbers)
    await stack.agent(fleet.squares)
    workflow = {
        "name": "resume",
        "steps": [
            {"id": "r", "capability": "test.range", "input": {"n": 2}},
            {
                "id": "f",
                "capability": "test.flaky",
                "input": {"value": 5, "failures": 1},
                "after": ["r"],
            },
        ],
    }
    failed = await stack.wait(await stack.submit(workflow))
    assert failed["status"] == "failed"  # one attempt only, and it fails
    response = await stack.client.post(f"/v1/runs/{failed['run_id']}/retry")
    assert response.status_code == 202, response.text
    retried = await stack.wait(response.json()["run_id"])
    # The second run is attempt 1 again for "f" (a new run), which still fails on attempt 1:
    # what matters here is that "r" was reused, not run again.
    assert retried["retry_of"] == failed["run_id"]
    reused = next(s for s in retried["steps"] if s["step_id"] == "r")
    assert reused["status"] == "succeeded" and reused["meta"]["reused_from"] == failed["run_id"]
    assert [e["step"] for e in fleet.executions(stack.log)].count("r") == 1
    running = await stack.client.post(f"/v1/runs/{retried['run_id']}/retry")
    assert running.status_code == 202  # a failed retry can itself be retried


async def test_many_runs_submitted_at_once_all_start_and_finish(stack: Stack) -> None:
    """Submissions share the orchestrator's writer with the results; none may starve, time out
    or fail (on SQLite a request once held the write lock while the writer needed a reader)."""
    await stack.agent(fleet.numbers)
    chain = {
        "name": "noop-chain",
        "steps": [{"id": f"s{i}", "capability": "test.noop", "input": {"i": i}} for i in range(5)],
    }
    response = await stack.client.post("/v1/workflows", json=chain)
    assert response.status_code in (200, 201), response.text
    submitted = await asyncio.gather(*(stack.submit("noop-chain", {}) for _ in range(120)))
    assert len(set(submitted)) == 120
    runs = await asyncio.gather(*(stack.wait(run_id, timeout=120) for run_id in submitted))
    assert [run["status"] for run in runs] == ["succeeded"] * 120
    ran = [(e["run"], e["step"]) for e in fleet.executions(stack.log)]
    assert len(ran) == len(set(ran)) == 600  # every step of every run ran exactly once
