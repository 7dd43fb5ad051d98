"""``POST /v1/runs {"goal": ...}`` over registered cards (no agent answers): the plan recorded
on the run, the 422s, and the preference for capabilities that live agents serve."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.legal.agent import agent as legal
from services.config import Settings
from services.discovery.concepts import default_index
from services.planning.goals import PlannedRun, PlanningError, plan_goal
from services.registry import store
from tests.fixtures.app import app_client
from tests.fixtures.errors import assert_error
from tests.fixtures.identity import keyed

TOKEN = "planning-test-token-0123456789"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(Settings(data_dir=tmp_path, api_token=TOKEN)) as http:
        response = await http.post("/v1/agents", json=keyed(legal.card()))
        assert response.status_code == 201, response.text
        yield http


def error_of(response: httpx.Response, code: str) -> dict[str, Any]:
    return assert_error(response, 422, code)


async def test_the_plan_is_recorded_as_the_runs_steps(client):
    goal = {"produce": "tax:Explanation", "given": {"tax:SaraCaseFile": "% Text\n..."}}
    response = await client.post("/v1/runs", json={"goal": goal, "idempotency_key": "g-1"})
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    run = (await client.get(f"/v1/runs/{run_id}")).json()
    plan = ["sara.parse_case", "legal.validate_facts", "legal.infer", "legal.explain"]
    assert run["workflow"] == "goal.tax-Explanation" and run["status"] == "running"
    assert [s["capability"] for s in run["definition"]["steps"]] == plan
    assert sorted(s["capability"] for s in run["steps"]) == sorted(plan)
    assert run["input"] == {"SaraCaseFile": "% Text\n..."}
    assert run["goal"]["input"] == {"tax:SaraCaseFile": "SaraCaseFile"}
    assert [s["live"] for s in run["goal"]["plan"]["steps"]] == [True] * 4
    again = await client.post("/v1/runs", json={"goal": goal, "idempotency_key": "g-1"})
    assert again.status_code == 200 and again.json()["run_id"] == run_id


async def test_full_iris_and_subclasses_are_accepted(client):
    base = "https://modx.dev/ontology/tax#"
    goal = {"produce": base + "CaseFacts", "given": {base + "SaraCaseFile": "x"}}
    response = await client.post("/v1/runs", json={"goal": goal})
    assert response.status_code == 202, response.text
    run = (await client.get(f"/v1/runs/{response.json()['run_id']}")).json()
    assert [s["capability"] for s in run["definition"]["steps"]] == ["sara.parse_case"]


async def test_missing_links_are_named(client):
    error = error_of(
        await client.post("/v1/runs", json={"goal": {"produce": "tax:Refund", "given": {}}}),
        "no_plan",
    )
    assert error["details"]["missing"] == ["tax:Refund"]
    assert "nobody produces tax:Refund" in error["message"]
    goal = {"produce": "tax:Explanation", "given": {"tax:ValidatedFacts": {}}}
    error = error_of(await client.post("/v1/runs", json={"goal": goal}), "no_plan")
    # the proof comes from a case file, or from English through legal.formalize
    assert error["details"]["missing"] == ["tax:CaseText", "tax:SaraCaseFile"]


async def test_malformed_goals_name_the_field(client):
    error = error_of(await client.post("/v1/runs", json={"goal": {"given": {}}}), "invalid_request")
    assert error["details"][0]["path"] == "$.goal.produce"
    error = error_of(
        await client.post("/v1/runs", json={"goal": {"produce": "tax:X", "extra": 1}}),
        "invalid_request",
    )
    assert error["details"][0]["path"] == "$.goal.extra"
    both = {"goal": {"produce": "tax:TaxAnswer"}, "workflow": "sara-tax"}
    error_of(await client.post("/v1/runs", json=both), "invalid_request")
    given = {"goal": {"produce": "tax:CaseFacts", "given": {"tax:ValidatedFacts": {}}}}
    error_of(await client.post("/v1/runs", json=given), "goal_given")


class _Row:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def rows(*caps: tuple[str, str, str, str]) -> list[tuple[Any, Any]]:
    """(name, consumes, produces, agent status) -> registry-like rows."""
    return [
        (
            _Row(
                name=name,
                consumes=consumes.split(),
                produces=produces.split(),
                input_schema={},
                output_schema={},
                idempotent=False,
            ),
            _Row(status=status, id=f"agent-{name}"),
        )
        for name, consumes, produces, status in caps
    ]


async def plan_over(
    monkeypatch: pytest.MonkeyPatch, registry: list[tuple[Any, Any]], goal: dict[str, Any]
) -> PlannedRun:
    async def find(session: Any, **_: Any) -> list[tuple[Any, Any]]:
        return registry

    monkeypatch.setattr(store, "find_capabilities", find)
    return await plan_goal(None, goal, default_index())  # type: ignore[arg-type]


async def test_live_agents_are_preferred_even_over_a_shorter_chain(monkeypatch):
    registry = rows(
        ("direct", "modx:A", "modx:G", "offline"),
        ("step.one", "modx:A", "modx:B", "online"),
        ("step.two", "modx:B", "modx:G", "online"),
    )
    goal = {"produce": "modx:G", "given": {"modx:A": 1}}
    planned = await plan_over(monkeypatch, registry, goal)
    assert [s.capability for s in planned.definition.steps] == ["step.one", "step.two"]
    assert planned.goal["plan"]["live_only"] is True
    # Without a live chain, the offline agent's capability is planned (its step waits).
    planned = await plan_over(monkeypatch, registry[:2], goal)
    assert [s.capability for s in planned.definition.steps] == ["direct"]
    assert planned.goal["plan"]["live_only"] is False
    assert planned.goal["plan"]["steps"][0]["live"] is False
    # Of two agents serving one name, the live one's declaration is used.
    twice = rows(("x", "modx:Z", "modx:G", "offline"), ("x", "modx:A", "modx:G", "online"))
    planned = await plan_over(monkeypatch, twice, goal)
    assert planned.definition.steps[0].input == "$.input.A"


async def test_unwirable_capabilities_are_left_out_and_said_so(monkeypatch):
    registry = rows(("two.inputs", "modx:A modx:B", "modx:G", "online"))
    goal = {"produce": "modx:G", "given": {"modx:A": 1, "modx:B": 2}}
    with pytest.raises(PlanningError) as caught:
        await plan_over(monkeypatch, registry, goal)
    assert caught.value.code == "no_plan"
    assert "two.inputs" in caught.value.details["excluded"]
    assert "cannot be wired: two.inputs" in caught.value.message


async def test_a_name_is_planned_by_the_agent_that_declares_what_it_produces(client):
    # Two agents serve text.reverse; only the second says what it produces.
    reversed_text = "https://example.org/ns#ReversedText"
    for name, produces in (("rev-plain", []), ("rev-typed", [reversed_text])):
        card = {
            "name": name,
            "capabilities": [{"name": "text.reverse", "produces": produces}],
        }
        response = await client.post("/v1/agents", json=keyed(card))
        assert response.status_code == 201, response.text
    found = await client.get("/v1/capabilities", params={"produces": reversed_text})
    assert [c["name"] for c in found.json()["items"]] == ["text.reverse"], found.text
    response = await client.post("/v1/runs", json={"goal": {"produce": reversed_text}})
    assert response.status_code == 202, response.text
    run = (await client.get(f"/v1/runs/{response.json()['run_id']}")).json()
    assert [s["capability"] for s in run["definition"]["steps"]] == ["text.reverse"]
