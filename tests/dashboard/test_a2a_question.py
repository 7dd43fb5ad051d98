"""In a real browser: a step whose A2A agent asks a question shows the question (its text and
data) with an answer form; the answer goes to the same remote task, which completes, and the
page follows the run live. The run list says the run waits for an answer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dashboard.conftest import login, shot
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack
from tests.interop.a2a_peer import QUESTIONS, running_peer

ASK = {
    "name": "ask-once",
    "steps": [{"id": "remote", "capability": "a2a.Tax-Helper.ask", "input": {"rounds": 1}}],
    "output": "$.steps.remote.output",
}


@pytest.mark.browser
async def test_a_question_is_answered_from_the_run_page(dash: Stack, page: Any) -> None:
    async with running_peer() as peer:
        added = await dash.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert added.status_code == 201, added.text
        run_id = await dash.submit(ASK)

        async def asked() -> bool:
            run = (await dash.client.get(f"/v1/runs/{run_id}")).json()
            return "question" in run["steps"][0]["meta"]

        await wait_until(asked, timeout=30)
        await login(page, dash.url, "/dashboard/runs")
        row = page.locator(f'tr.run-row[data-run="{run_id}"] .waiting')
        assert await row.inner_text() == "waiting for an answer (signal remote)"
        await page.goto(f"{dash.url}/dashboard/runs/{run_id}")
        form = page.locator('form.signal-form.question[data-step="remote"]')
        assert (await form.locator(".question-text").inner_text()).strip() == QUESTIONS[0]
        assert "2025" in await form.locator(".question-data").inner_text()
        assert await page.locator("form.signal-form:not(.question)").count() == 0
        await page.locator('#live-indicator[data-state="on"]').wait_for()
        await shot(page, "run-a2a-question")
        await form.locator("textarea[name=answer]").fill("2025")
        await form.locator('button[value="answer"]').click()
        await page.locator('#run-status .badge[data-status="succeeded"]').wait_for(timeout=15_000)
        run = await dash.wait(run_id)
        assert run["output"]["answers"] == [{"text": "2025"}]
        assert [a.value for a in peer.answers] == [{"text": "2025"}]
        events = (await dash.client.get(f"/v1/runs/{run_id}/events")).json()
        [signal] = [e for e in events if e["type"] == "signal.received"]
        assert signal["data"]["sent_by"] == "dashboard"
