"""The dashboard shows each agent's protocol and where it lives, and a run's trace shows the
MCP exchanges beside the envelopes (real Chromium, a real MCP SDK server over stdio)."""

from __future__ import annotations

from typing import Any

from tests.dashboard.conftest import login
from tests.fixtures.stack import ADMIN, Stack
from tests.interop.test_mcp_agents import stdio


async def test_agents_show_their_protocol_and_the_trace_its_mcp_calls(
    page: Any, dash: Stack
) -> None:
    response = await dash.client.post(
        "/v1/agents/mcp",
        json={"name": "calc", **stdio()},
        headers={"authorization": f"Bearer {ADMIN}"},
    )
    assert response.status_code == 201, response.text
    workflow = {
        "name": "sum",
        "steps": [{"id": "add", "capability": "mcp.calc.add", "input": {"a": 1, "b": 2}}],
        "output": "$.steps.add.output",
    }
    run_id = await dash.submit(workflow)
    assert (await dash.wait(run_id))["output"] == {"sum": 3}

    await login(page, dash.url, "/dashboard/agents")
    calc = page.locator(".agent", has=page.locator("h2", has_text="calc"))
    assert (await calc.locator(".protocol").inner_text()).strip() == "MCP"
    assert (await calc.locator(".location").inner_text()).strip().startswith("stdio: ")
    numbers = page.locator(".agent", has=page.locator("h2", has_text="numbers"))
    assert (await numbers.locator(".protocol").inner_text()).strip() == "bus"

    await page.goto(dash.url + f"/dashboard/runs/{run_id}")
    exchanges = await page.locator("#trace .tag.exchange").all_text_contents()
    assert [e.strip() for e in exchanges] == [
        "MCP tools/call add",
        "MCP tools/call result add",
    ], exchanges
