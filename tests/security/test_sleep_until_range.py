"""A ``sleep.until`` with no UTC form cannot wedge its run, nor every run's timers, in both modes.

``9999-12-31T23:59:59-23:59`` is valid ISO 8601 with a zone, but is year 10000 in UTC. Given
literally, the submission answered 500; given as a ``$.`` reference, the step's timer could not
be written, so its run stayed due for ever and every sweep tried it again. The sweep reads the
500 earliest due runs (``runs.due``): 500 such runs from one tenant, and no other run's sleep,
retry or timeout was ever handled again (seen with the limit lowered to 5: a 0.5 s sleep of
another run still ``running`` after 20 s)."""

from __future__ import annotations

import pytest

from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

NO_UTC = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]


@pytest.mark.parametrize("when", NO_UTC)
async def test_a_literal_time_without_utc_form_is_a_422(stack: Stack, when: str) -> None:
    workflow = {"name": "far", "steps": [{"id": "z", "sleep": {"until": when}}]}
    response = await stack.client.post("/v1/runs", json={"workflow": workflow, "input": {}})
    assert response.status_code == 422, response.text
    assert "sleep" in response.text and "until" in response.text, response.text


async def test_a_referenced_time_without_utc_form_fails_the_step(stack: Stack) -> None:
    workflow = {
        "name": "far",
        "steps": [
            {"id": "first", "sleep": {"seconds": 0.1}},  # the next step starts from a timer
            {"id": "far", "sleep": {"until": "$.input.when"}, "after": ["first"]},
        ],
    }
    ran = []
    for when in NO_UTC:
        body = {"workflow": workflow, "input": {"when": when}}
        response = await stack.client.post("/v1/runs", json=body)
        assert response.status_code == 202, response.text
        ran.append(await stack.wait(response.json()["run_id"], timeout=30))
    for run in ran:
        assert run["status"] == "failed", [(s["step_id"], s["status"]) for s in run["steps"]]
        assert run["error"]["code"] == "bad_until" or "bad_until" in str(run["error"]), run["error"]
    # The latest time UTC holds is a time like any other: the step sleeps until cancelled.
    body = {"workflow": workflow, "input": {"when": "9999-12-31T23:59:59+00:00"}}
    response = await stack.client.post("/v1/runs", json=body)
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]

    async def sleeping() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"][-1]["status"] == "running")

    await wait_until(sleeping)
    cancelled = await stack.client.post(f"/v1/runs/{run_id}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    assert (await stack.wait(run_id))["status"] == "cancelled"
