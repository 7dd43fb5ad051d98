"""In a real browser: find a failed run, read its DAG, timeline, errors and trace; cancel a
running run and watch its status change live."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dashboard.conftest import FAILING, HANGING, login, shot
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.browser

FAILED_RED = "rgb(220, 38, 38)"  # --st-failed in dashboard.css


async def _step_running(stack: Stack, run_id: str, step: str) -> None:
    async def running() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return any(s["step_id"] == step and s["status"] == "running" for s in run["steps"])

    await wait_until(running, timeout=30)


async def test_failed_run_is_traced_and_a_running_run_is_cancelled_live(
    dash: Stack, page: Any
) -> None:
    failed = await dash.submit(FAILING)
    assert (await dash.wait(failed))["status"] == "failed"
    for _ in range(3):  # runs that succeed, so the filter has something to filter out
        await dash.submit(
            {"name": "ok", "steps": [{"id": "r", "capability": "test.range", "input": {"n": 1}}]}
        )
    hanging = await dash.submit(HANGING)
    await _step_running(dash, hanging, "hang")

    # Log in through the login page, then filter the run list by status.
    await login(page, dash.url, "/dashboard/runs")
    assert await page.locator("tr.run-row").count() == 5
    await page.select_option("#filter-status", "failed")
    await page.click("#apply-filters")
    await page.wait_for_url(re.compile(r"status=failed"))
    rows = page.locator("tr.run-row")
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-run") == failed
    # Its step bar: `make` succeeded (green) before `flaky` failed (red), not all red.
    bar = rows.first.locator(".progress svg")
    widths = {
        part: float(await bar.locator(f'rect[data-part="{part}"]').get_attribute("width") or 0)
        for part in ("succeeded", "failed")
    }
    assert widths == {"succeeded": 50.0, "failed": 50.0}, widths
    await shot(page, "runs-filtered-failed")
    await rows.first.locator(f'a[href="/dashboard/runs/{failed}"]').click()
    await page.wait_for_url(f"{dash.url}/dashboard/runs/{failed}")

    # The DAG shows the failed step in the failure colour, the succeeded one not.
    node = page.locator('#dag .node[data-step="flaky"]')
    assert await node.get_attribute("data-status") == "failed"
    assert "status-failed" in (await node.get_attribute("class") or "")
    stroke = await node.locator(".node-box").evaluate("e => getComputedStyle(e).stroke")
    assert stroke == FAILED_RED
    make = page.locator('#dag .node[data-step="make"] .node-box')
    assert await make.evaluate("e => getComputedStyle(e).stroke") != FAILED_RED

    # The timeline draws three attempts of the failed step, the last one red.
    attempts = page.locator('#timeline rect.attempt[data-step="flaky"]')
    assert await attempts.count() == 3
    last = attempts.nth(2)
    assert await last.evaluate("e => getComputedStyle(e).fill") == FAILED_RED
    assert await page.locator('#timeline rect.attempt[data-step="make"]').count() == 1

    # Open the run's error: it is shown in full, cause included.
    error = page.locator("details[data-run-error]")
    body = error.locator("pre")
    assert not await body.is_visible()
    await error.locator("summary").click()
    await body.wait_for(state="visible")
    text = await body.inner_text()
    assert "step_failed" in text and "flaky failure on attempt 3" in text

    # Open one message of the trace: its payload shows.
    message = page.locator('#trace details.msg[data-kind="error"]').last
    payload = message.locator("pre.payload")
    assert not await payload.is_visible()
    await message.locator("summary").click()
    await payload.wait_for(state="visible")
    assert "flaky failure on attempt 3" in await payload.inner_text()
    for kind in ("task", "error"):  # one task out and one error back per attempt
        flaky = f'#trace details.msg[data-step="flaky"][data-kind="{kind}"]'
        assert await page.locator(flaky).count() == 3
    await shot(page, "run-failed")

    # Cancel the hanging run from its page and watch the status change with no reload.
    await page.goto(f"{dash.url}/dashboard/runs/{hanging}")
    badge = page.locator("#run-status .badge")
    assert await badge.get_attribute("data-status") == "running"
    await page.locator('#live-indicator[data-state="on"]').wait_for()
    await page.evaluate("window.__sameDocument = 'yes'")
    await page.click("#cancel-run")
    await page.locator("#confirm").wait_for(state="visible")
    await page.click("#confirm-yes")
    await page.locator('#run-status .badge[data-status="cancelled"]').wait_for(timeout=15_000)
    assert await page.evaluate("window.__sameDocument") == "yes"  # no navigation happened
    assert page.url == f"{dash.url}/dashboard/runs/{hanging}"
    await page.locator('#dag .node[data-step="hang"][data-status="cancelled"]').wait_for()
    assert await page.locator("#cancel-run").is_hidden()
    assert await page.locator("#retry-run").is_visible()
    await shot(page, "run-cancelled-live")
    assert (await dash.wait(hanging))["status"] == "cancelled"


async def test_run_list_updates_live(dash: Stack, page: Any) -> None:
    first = await dash.submit(HANGING)
    await _step_running(dash, first, "hang")
    await login(page, dash.url, "/dashboard/runs")
    await page.locator('#live-indicator[data-state="on"]').wait_for()
    await page.evaluate("window.__sameDocument = 'yes'")
    row = page.locator(f'tr.run-row[data-run="{first}"]')
    assert await row.get_attribute("data-status") == "running"

    # A run started elsewhere appears at the top; a status change shows in its row.
    second = await dash.submit(FAILING)
    await page.locator(f'tr.run-row[data-run="{second}"]').wait_for(timeout=15_000)
    await page.locator(f'tr.run-row[data-run="{second}"][data-status="failed"]').wait_for(
        timeout=15_000
    )
    assert await page.locator("tr.run-row").first.get_attribute("data-run") == second
    assert (await dash.client.post(f"/v1/runs/{first}/cancel")).status_code == 202
    await page.locator(f'tr.run-row[data-run="{first}"][data-status="cancelled"]').wait_for(
        timeout=15_000
    )
    assert await page.evaluate("window.__sameDocument") == "yes"
    await shot(page, "runs-live")


async def test_retry_from_the_failed_step(dash: Stack, page: Any) -> None:
    failed = await dash.submit(FAILING)
    assert (await dash.wait(failed))["status"] == "failed"
    await login(page, dash.url, f"/dashboard/runs/{failed}")
    await page.click("#retry-run")
    await page.click("#confirm-yes")
    await page.wait_for_url(re.compile(r"/dashboard/runs/(?!" + failed + ")"))
    retried = page.url.rsplit("/", 1)[1]
    run = await dash.wait(retried)
    assert run["retry_of"] == failed
    assert {s["step_id"]: s["status"] for s in run["steps"]}["make"] == "succeeded"
    await page.locator(f'a[href="/dashboard/runs/{failed}"]').first.wait_for()


async def test_a_run_waiting_for_an_agent_says_why(dash: Stack, page: Any) -> None:
    lonely = {"name": "lonely", "steps": [{"id": "ask", "capability": "test.nobody"}]}
    run_id = await dash.submit(lonely)
    reason = "waiting for an agent that serves test.nobody (none registered)"

    async def waiting() -> bool:
        run = (await dash.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"] and run["steps"][0]["meta"].get("waiting") == reason)

    await wait_until(waiting)
    await login(page, dash.url, f"/dashboard/runs/{run_id}")
    callout = page.locator('p.callout.waiting[data-step="ask"]')
    assert reason in await callout.inner_text()
    await shot(page, "run-waiting")
    await page.goto(dash.url + "/dashboard/runs")
    row = page.locator(f'tr.run-row[data-run="{run_id}"] .waiting')
    assert await row.inner_text() == reason
