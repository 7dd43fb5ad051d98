"""In a real browser: a DAG node with a long capability name keeps it clear of the status label
(cut with an ellipsis, the full name in the node's tooltip). The screenshot (under
test-artifacts/) is the one in docs/screenshots/dag-long-names.png."""

from __future__ import annotations

from typing import Any

import pytest

from agents.sdk import Agent, TaskContext
from tests.dashboard.conftest import ARTIFACTS, login
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.browser

LONG = "sara.parse_case_file_into_validated_facts"


async def test_a_long_capability_name_stays_clear_of_the_status(dash: Stack, page: Any) -> None:
    agent = Agent("long-names", version="1.0.0", description="Has a long capability name.")

    @agent.capability(LONG, description="Answers {}.")
    async def parse(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        return {}

    await dash.agent(agent)
    workflow = {"name": "long-names", "steps": [{"id": "parse", "capability": LONG}]}
    run_id = await dash.submit(workflow, {})
    assert (await dash.wait(run_id))["status"] == "succeeded"

    await login(page, dash.url, f"/dashboard/runs/{run_id}")
    node = page.locator('#dag g.node[data-step="parse"]')
    sub, state = node.locator(".node-sub"), node.locator(".node-state")
    assert (await sub.text_content()).endswith("…")
    assert LONG in await node.locator("title").text_content()
    sub_box, state_box = await sub.bounding_box(), await state.bounding_box()
    assert sub_box["x"] + sub_box["width"] < state_box["x"], (sub_box, state_box)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.locator(".dag-wrap").screenshot(path=str(ARTIFACTS / "dag-long-names.png"))
