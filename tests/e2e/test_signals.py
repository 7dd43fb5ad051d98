"""Signals, waits and sleeps through the REST API, in both modes (embedded and distributed).

The workflow is the issue's: draft -> approve (a wait for a signal) -> publish (when approved).
"""

from __future__ import annotations

from typing import Any

from tests.e2e import fleet
from tests.fixtures.errors import assert_error
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

APPROVAL_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "comment": {"type": "string"}},
    "required": ["ok"],
}


def approval(timeout_s: float = 600) -> dict[str, Any]:
    """draft -> approve (wait) -> publish (when approved)."""
    return {
        "name": "approve-then-publish",
        "steps": [
            {"id": "draft", "capability": "test.square", "input": {"value": "$.input.value"}},
            {
                "id": "approve",
                "after": ["draft"],
                "wait": {"signal": "approval", "schema": APPROVAL_SCHEMA, "timeout_s": timeout_s},
            },
            {
                "id": "publish",
                "capability": "test.noop",
                "input": {"draft": "$.steps.draft.output", "decision": "$.steps.approve.output"},
                "when": "$.steps.approve.output.ok",
            },
        ],
    }


async def waiting(stack: Stack, run_id: str) -> None:
    """Until the run's approve step waits."""

    async def running() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        steps = {s["step_id"]: s["status"] for s in run["steps"]}
        return steps.get("approve") == "running"

    await wait_until(running)


def step(run: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in run["steps"] if s["step_id"] == step_id)


async def test_an_approval_lets_publish_run_with_the_decision(stack: Stack) -> None:
    await stack.agent(fleet.numbers)
    await stack.agent(fleet.squares)
    run_id = await stack.submit(approval(), {"value": 4})
    await waiting(stack, run_id)
    decision = {"ok": True, "comment": "ship it"}
    response = await stack.client.post(f"/v1/runs/{run_id}/signals/approval", json=decision)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "run_id": run_id,
        "signal": "approval",
        "steps": ["approve"],
        "kept": [],
    }
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded", run["error"]
    assert step(run, "approve")["output"] == decision
    assert step(run, "publish")["input"] == {"draft": {"value": 16}, "decision": decision}
    assert sorted(e["step"] for e in fleet.executions(stack.log)) == ["draft", "publish"]
    events = await stack.events(run_id)
    [received] = [e for e in events if e["type"] == "signal.received"]
    assert received["step_id"] == "approve" and received["data"]["body"] == decision
    assert received["data"]["sent_by"]  # the name of the sender's token
    # Nothing was sent for the wait: only draft's and publish's tasks.
    sent = [e["step_id"] for e in events if e["type"] == "message.sent"]
    assert sent == ["draft", "publish"]
    ledger = (await stack.client.get(f"/v1/runs/{run_id}/ledger")).json()
    kinds = [entry["kind"] for entry in ledger["entries"]]
    assert "signal.received" in kinds
    assert (await stack.client.get("/v1/ledger/verify")).json()["ok"]


async def test_a_rejection_skips_publish(stack: Stack) -> None:
    await stack.agent(fleet.numbers)
    await stack.agent(fleet.squares)
    run_id = await stack.submit(approval(), {"value": 2})
    await waiting(stack, run_id)
    rejected = {"ok": False, "comment": "not yet"}
    response = await stack.client.post(f"/v1/runs/{run_id}/signals/approval", json=rejected)
    assert response.status_code == 202, response.text
    run = await stack.wait(run_id)
    assert run["status"] == "succeeded"
    assert step(run, "publish")["status"] == "skipped"
    assert [e["step"] for e in fleet.executions(stack.log)] == ["draft"]


async def test_without_a_signal_the_wait_times_out(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    run_id = await stack.submit(approval(timeout_s=1), {"value": 2})
    run = await stack.wait(run_id)
    assert run["status"] == "failed" and run["error"]["code"] == "step_timed_out"
    assert step(run, "approve")["status"] == "timed_out"
    assert step(run, "publish")["status"] == "cancelled"


async def test_signals_answer_404_409_and_422_naming_the_field(stack: Stack) -> None:
    await stack.agent(fleet.squares)
    missing = await stack.client.post("/v1/runs/nope/signals/approval", json={"ok": True})
    assert_error(missing, 404, "not_found")
    run_id = await stack.submit(approval(), {"value": 2})
    await waiting(stack, run_id)
    other = await stack.client.post(f"/v1/runs/{run_id}/signals/other", json={"ok": True})
    assert_error(other, 409, "no_waiting_step")
    refused = await stack.client.post(f"/v1/runs/{run_id}/signals/approval", json={"ok": "y"})
    error = assert_error(refused, 422, "signal_refused")
    assert error["details"][0]["path"] == "$.ok"
    absent = await stack.client.post(f"/v1/runs/{run_id}/signals/approval", json={"c": "x"})
    assert assert_error(absent, 422, "signal_refused")["details"][0]["path"] == "$.ok"
    run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
    assert step(run, "approve")["status"] == "running"  # nothing changed
    ok = await stack.client.post(f"/v1/runs/{run_id}/signals/approval", json={"ok": False})
    assert ok.status_code == 202
    await stack.wait(run_id)
    late = await stack.client.post(f"/v1/runs/{run_id}/signals/approval", json={"ok": True})
    assert_error(late, 409, "no_waiting_step")


async def test_a_sleep_ends_and_its_refused_fields_name_their_path(stack: Stack) -> None:
    workflow = {
        "name": "nap",
        "steps": [{"id": "nap", "sleep": {"seconds": 0.3}}],
        "output": "$.steps.nap.output",
    }
    run = await stack.wait(await stack.submit(workflow))
    assert run["status"] == "succeeded" and "until" in run["output"]
    bad = {"name": "nap", "steps": [{"id": "nap", "sleep": {"until": "soon"}}]}
    response = await stack.client.post("/v1/workflows", json=bad)
    error = assert_error(response, 422)
    assert "$.steps[0].sleep" in [d["path"] for d in error["details"]]
