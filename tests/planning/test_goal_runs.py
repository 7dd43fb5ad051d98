"""Goal-driven runs end to end, in both modes: a tax answer from a SARA case file through the
plan ``sara.parse_case -> legal.validate_facts -> legal.infer`` (the real legal agent), and a
goal with a missing link answered 422 naming it.

The legal agent runs in this process; its SWI-Prolog pool belongs to the event loop that
started it, so each test gets the resources of its own loop and closes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from agents.legal import agent as legal_module
from agents.legal.agent import agent as legal
from agents.legal.workflow import DEMO_CASE
from services.cli.legal import gold_of
from tests.fixtures.errors import assert_error
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.prolog

PLAN = ["sara.parse_case", "legal.validate_facts", "legal.infer"]


@pytest.fixture
async def legal_resources(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """SWI-Prolog resources of this test's event loop for the in-process legal agent, closed
    afterwards (with a module-wide ``resources`` object, a fresh one is swapped in)."""
    current: Any = legal_module.resources
    per_loop = callable(current)
    if not per_loop:
        monkeypatch.setattr(legal_module, "resources", type(current)())
    yield
    shared: Any = legal_module.resources() if per_loop else legal_module.resources
    if shared.pool is not None:
        await shared.pool.close()
    if shared.expander is not None:
        shared.expander.close()


async def test_a_goal_run_computes_the_tax_from_a_case_file(
    stack: Stack, swipl: str, legal_resources: None
) -> None:
    await stack.agent(legal)
    text = DEMO_CASE.read_text()
    goal = {"produce": "tax:TaxAnswer", "given": {"tax:SaraCaseFile": text}}
    response = await stack.client.post("/v1/runs", json={"goal": goal})
    assert response.status_code == 202, response.text
    run = await stack.wait(response.json()["run_id"], timeout=120)
    assert run["status"] == "succeeded", run["error"]
    assert [s["capability"] for s in run["steps"]] == PLAN
    assert run["output"]["answer"] == gold_of(text) == 13543
    assert run["output"]["citations"] and run["output"]["proof"]["goal"].startswith("tax(")
    assert run["input"] == {"SaraCaseFile": text}
    recorded = run["goal"]
    assert recorded["produce"] == "tax:TaxAnswer" and recorded["given"] == ["tax:SaraCaseFile"]
    assert recorded["plan"]["live_only"] is True
    assert [s["capability"] for s in recorded["plan"]["steps"]] == PLAN
    infer = recorded["plan"]["steps"][2]["inputs"]
    assert infer["facts"]["from"] == "$.steps.legal_validate_facts.output.facts"
    assert infer["query"] == {
        "concept": "tax:TaxQuestion",
        "from": "$.steps.sara_parse_case.output.query",
        "rule": "position",
    }
    # The plan ran as an ordinary workflow: its definition is the run's, step by step.
    full = (await stack.client.get(f"/v1/runs/{run['run_id']}")).json()
    assert full["workflow"] == "goal.tax-TaxAnswer"
    assert [s["capability"] for s in full["definition"]["steps"]] == PLAN


async def test_a_goal_with_a_missing_link_is_refused_naming_it(stack: Stack) -> None:
    await stack.agent(legal)
    # Case facts can be validated, but the question only comes from a case file or its text.
    goal = {"produce": "tax:TaxAnswer", "given": {"tax:CaseFacts": {"individuals": []}}}
    response = await stack.client.post("/v1/runs", json={"goal": goal})
    error = assert_error(response, 422, "no_plan")
    assert "nobody produces tax:CaseText, tax:SaraCaseFile" in error["message"]
    assert error["details"]["missing"] == ["tax:CaseText", "tax:SaraCaseFile"]
    assert set(error["details"]["unreachable"]) == {"tax:TaxAnswer", "tax:TaxQuestion"}
