"""In a real browser: a run's page links the child runs its sub-workflow step started, and a
child's page links back to its parent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.conftest import login, shot
from tests.fixtures.stack import Stack

KID = {
    "name": "kid",
    "steps": [{"id": "n", "capability": "test.range", "input": {"n": 3}}],
}
PARENT = {"name": "elder", "steps": [{"id": "sub", "workflow": "kid"}]}


@pytest.mark.browser
async def test_parent_and_child_runs_link_each_other(dash: Stack, page: Any) -> None:
    for definition in (KID, PARENT):
        response = await dash.client.post("/v1/workflows", json=definition)
        assert response.status_code in (200, 201), response.text
    run = await dash.wait(await dash.submit("elder", {}))
    assert run["status"] == "succeeded", run
    child_id = run["steps"][0]["meta"]["child_run_id"]

    await login(page, dash.url, f"/dashboard/runs/{run['run_id']}")
    child_link = page.locator('.child-runs[data-step="sub"] a.child-run')
    assert await child_link.count() == 1
    assert await child_link.get_attribute("href") == f"/dashboard/runs/{child_id}"
    steps_cell = page.locator('[data-step-row="sub"] td').nth(1)
    assert "workflow: kid" in await steps_cell.inner_text()
    await shot(page, "run-with-a-child-run")
    await child_link.click()
    await page.wait_for_url(f"**/dashboard/runs/{child_id}")
    parent_link = page.locator("a.parent-run")
    assert await parent_link.get_attribute("href") == f"/dashboard/runs/{run['run_id']}"
    assert "step sub" in await page.locator("a.parent-run + .muted").inner_text()
    await parent_link.click()
    await page.wait_for_url(f"**/dashboard/runs/{run['run_id']}")
