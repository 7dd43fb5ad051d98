"""In a real browser: a legal run's page shows the answer, the proof tree with each node's
citation (collapsible), and the explanation the one renderer gives."""

from __future__ import annotations

from typing import Any

import pytest

from agents.legal.explanation import explain
from services.dashboard.proof import statute_order
from tests.dashboard.conftest import login, shot
from tests.dashboard.legal_fixture import LEGAL_WORKFLOW, PROOF, legal
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.browser


async def test_a_legal_run_shows_its_proof_with_citations(dash: Stack, page: Any) -> None:
    await dash.agent(legal)
    run_id = await dash.submit(LEGAL_WORKFLOW, {"case": "Alice and Bob married in 2009..."})
    assert (await dash.wait(run_id))["status"] == "succeeded"

    await login(page, dash.url, f"/dashboard/runs/{run_id}")
    proof = page.locator("#proof")
    assert await proof.is_visible()
    assert (await proof.locator(".answer-value").inner_text()).strip() == "$8,438"
    chips = await proof.locator(".cited .citation").all_text_contents()
    assert len(chips) > 1 and chips == sorted(chips, key=statute_order)  # §1 before §63
    # The agents page names the status plainly, not "Agent-Online".
    await page.goto(dash.url + "/dashboard/agents")
    badges = await page.locator(".agent-status .badge").all_text_contents()
    assert badges and {b.strip() for b in badges} <= {"online", "offline", "draining"}, badges
    await shot(page, "agents")
    await page.goto(dash.url + f"/dashboard/runs/{run_id}")
    # The same renderer as the CLI and the API, from the proof itself.
    shown = await proof.locator(".explanation-text").inner_text()
    assert shown.strip() == explain(PROOF, 8438).strip()
    assert shown.startswith("Answer: $8,438")

    tree = proof.locator(".proof-tree")
    nodes = tree.locator("details.proof-node")
    assert await nodes.count() == 9
    # Each statute node carries its subsection; case facts are marked as facts.
    root = nodes.first
    assert "tax(alice,2017,8438)" in await root.locator(":scope > summary .goal").inner_text()
    assert await root.locator(":scope > summary .citation").inner_text() == "§1(a)(iv)"
    cited = await tree.locator("summary .citation").all_text_contents()  # folded ones too
    for citation in (
        "§1(a)(iv)",
        "§1(a)",
        "§6013(a)",
        "§63(a)",
        "§61(a)",
        "§63(c)(2)(A)",
        "§63(c)(5)",
    ):
        assert citation in cited
    assert await tree.locator("details.proof-fact").count() == 2

    # Deeper levels start folded; a click unfolds one, another folds it back.
    goal = page.locator(".goal", has_text="standard_deduction")
    deduction = tree.locator("summary", has=goal).locator("xpath=..")
    negation = deduction.locator("details.proof-neg")
    assert not await negation.is_visible()
    await deduction.locator(":scope > summary").click()
    await negation.wait_for(state="visible")
    assert await negation.locator(":scope > summary .citation").inner_text() == "§63(c)(5)"
    await root.locator(":scope > summary").click()
    assert not await deduction.is_visible()
    await root.locator(":scope > summary").click()
    await shot(page, "run-legal")
