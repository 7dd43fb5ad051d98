"""In a real browser: a run's waiting step shows a form; approving or rejecting it, with a
comment, sends the signal, and the page follows the run live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.dashboard import dag, trace
from services.db.models import EventRow
from tests.dashboard.conftest import login, shot
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

APPROVAL = {
    "name": "draft-approve-publish",
    "steps": [
        {"id": "draft", "capability": "test.range", "input": {"n": 2}},
        {
            "id": "approve",
            "after": ["draft"],
            "wait": {
                "signal": "approval",
                "schema": {
                    "type": "object",
                    "properties": {"ok": {"type": "boolean"}, "comment": {"type": "string"}},
                    "required": ["ok"],
                    "additionalProperties": False,
                },
                "timeout_s": 3600,
            },
        },
        {
            "id": "publish",
            "capability": "test.noop",
            "input": {"decision": "$.steps.approve.output"},
            "when": "$.steps.approve.output.ok",
        },
    ],
}


async def _waiting(stack: Stack, run_id: str) -> None:
    async def running() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return any(s["step_id"] == "approve" and s["status"] == "running" for s in run["steps"])

    await wait_until(running, timeout=30)


@pytest.mark.browser
async def test_approve_and_reject_from_the_run_page(dash: Stack, page: Any) -> None:
    approved = await dash.submit(APPROVAL)
    rejected = await dash.submit(APPROVAL)
    await _waiting(dash, approved)
    await _waiting(dash, rejected)

    await login(page, dash.url, "/dashboard/runs")
    row = page.locator(f'tr.run-row[data-run="{approved}"] .waiting')
    assert await row.inner_text() == "waiting for signal approval"
    await page.goto(f"{dash.url}/dashboard/runs/{approved}")
    form = page.locator('form.signal-form[data-step="approve"]')
    assert "waits for the signal approval" in " ".join((await form.inner_text()).split())
    steps_cell = page.locator('[data-step-row="approve"] td').nth(1)
    assert "wait: approval" in await steps_cell.inner_text()
    await page.locator('#live-indicator[data-state="on"]').wait_for()
    await shot(page, "run-waiting-for-approval")
    await form.locator("textarea[name=comment]").fill("looks good")
    await form.locator('button[value="approve"]').click()
    await page.locator('#run-status .badge[data-status="succeeded"]').wait_for(timeout=15_000)
    await page.locator('#dag .node[data-step="publish"][data-status="succeeded"]').wait_for()
    # Nothing waits any more: the form goes with the next redraw of the summary.
    await page.locator("form.signal-form").wait_for(state="detached", timeout=15_000)
    run = await dash.wait(approved)
    decision = {"ok": True, "comment": "looks good"}
    assert [s["input"] for s in run["steps"] if s["step_id"] == "publish"] == [
        {"decision": decision}
    ]
    events = (await dash.client.get(f"/v1/runs/{approved}/events")).json()
    [signal] = [e for e in events if e["type"] == "signal.received"]
    assert signal["data"]["sent_by"] == "dashboard" and signal["data"]["body"] == decision

    await page.goto(f"{dash.url}/dashboard/runs/{rejected}")
    form = page.locator('form.signal-form[data-step="approve"]')
    await form.locator("button[value=reject]").click()  # no comment: none is sent
    await page.locator('#run-status .badge[data-status="succeeded"]').wait_for(timeout=15_000)
    await page.locator('#dag .node[data-step="publish"][data-status="skipped"]').wait_for()
    run = await dash.wait(rejected)
    assert [s["output"] for s in run["steps"] if s["step_id"] == "approve"] == [{"ok": False}]
    await shot(page, "run-rejected")


def test_a_wait_and_a_sleep_are_drawn_as_attempts_and_labelled_by_what_they_wait_for() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    history = [
        EventRow(
            id=1,
            type="step.running",
            step_id="approve",
            attempt=1,
            created_at=t0,
            data={"signal": "approval", "until": None},
        ),
        EventRow(
            id=2, type="step.running", step_id="fan", attempt=0, created_at=t0, data={"items": 3}
        ),  # a fan-out's parent is not an attempt of its own
        EventRow(
            id=3,
            type="step.succeeded",
            step_id="approve",
            attempt=1,
            created_at=t0 + timedelta(seconds=5),
            data={"signal": "approval"},
        ),
    ]
    [span] = trace.attempts(history)
    assert (span.step_id, span.outcome, span.started_at) == ("approve", "succeeded", t0)
    assert span.ended_at == t0 + timedelta(seconds=5)
    definition = {
        "steps": [
            {"id": "approve", "wait": {"signal": "approval"}},
            {"id": "nap", "sleep": {"seconds": 30}},
            {"id": "later", "sleep": {"until": "$.input.when"}},
        ]
    }
    nodes = {n.id: n.capability for n in dag.layout(definition, []).nodes}
    assert nodes == {
        "approve": "wait: approval",
        "nap": "sleep 30s",
        "later": "sleep until $.input.when",
    }
