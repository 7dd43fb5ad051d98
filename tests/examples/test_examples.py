"""examples/: every workflow there is valid against the published OpenAPI schema, registers, and
does what its comments say, with examples/agent.py serving it, in both modes. Driven through
the Python client, as a user would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import modx
from examples.agent import agent as examples_agent
from tests.fixtures.stack import REPO, TOKEN, Stack

EXAMPLES = REPO / "examples"
WORKFLOWS = sorted(EXAMPLES.glob("*.yaml"))


async def test_every_example_matches_the_published_workflow_schema(stack: Stack) -> None:
    assert len(WORKFLOWS) >= 5
    document = (await stack.client.get("/openapi.json")).json()
    body = document["paths"]["/v1/workflows"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    registry: Registry[Any] = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator({"$ref": "urn:openapi" + ref}, registry=registry)
    for path in WORKFLOWS:
        definition = yaml.safe_load(path.read_text())
        problems = [e.message for e in validator.iter_errors(definition)]
        assert not problems, (path.name, problems)
    # The schema is the real one: it refuses what the API refuses.
    assert list(validator.iter_errors({"name": "x", "steps": [{"id": "a", "capability": 3}]}))
    assert list(validator.iter_errors({"name": "x", "steps": [], "bogus": 1}))


async def _waiting(client: modx.AsyncClient, run_id: str, step_id: str) -> None:
    """Until the step waits for its signal (read through the run's event stream)."""
    async for event in client.stream(run_id, timeout=60):
        if event.step_id == step_id and event.to_state == "running":
            return
    raise AssertionError(f"{step_id} never started waiting")


async def test_the_examples_run_as_their_comments_say(stack: Stack) -> None:
    await stack.agent(examples_agent)
    async with modx.AsyncClient(stack.url, TOKEN) as client:
        for path in WORKFLOWS:
            registered = await client.register(yaml.safe_load(path.read_text()))
            assert registered["name"] == path.stem

        basket = await client.run(
            "basket",
            {"lines": [{"name": "apple", "quantity": 4}, {"name": "bread", "quantity": 1}]},
            timeout=60,
        )
        assert (basket.status, basket.output) == ("succeeded", 4.25)

        order = await client.run(
            "order",
            {"lines": [{"name": "milk", "quantity": 3}], "buyer": "cy"},
            timeout=60,
        )
        assert (order.status, order.output) == ("succeeded", {"total": 3.3, "told": "cy"})
        child = await client.get(order.steps[0].raw["meta"]["child_run_id"])
        assert child.raw["workflow"] == "basket" and child.raw["parent_run_id"] == order.run_id

        doubled = await client.run("doubling", {}, timeout=60)
        assert (doubled.status, doubled.output) == ("succeeded", {"output": 128, "iterations": 7})
        assert len(doubled.steps[0].raw["meta"]["children"]) == 7

        retried = await client.run("retry", {"value": 7}, timeout=60)
        assert (retried.status, retried.output) == ("succeeded", 7)
        assert retried.steps[0].attempt == 3  # two failures, then the answer

        reminded = await client.run("reminder", {"to": "ana", "text": "hi"}, timeout=60)
        assert reminded.output == {"delivered_to": "ana"}
        slept = reminded.steps[0].raw
        took = datetime.fromisoformat(slept["finished_at"]) - datetime.fromisoformat(
            slept["started_at"]
        )
        assert slept["status"] == "succeeded" and took.total_seconds() >= 1.0, slept

        bad = await client.run(
            "fallback", {"line": {"name": "caviar", "quantity": 1}, "buyer": "bo"}, timeout=60
        )
        assert bad.status == "succeeded", bad.error
        assert bad.output["price"]["error"]["code"] == "unknown_item"
        assert bad.output["told"] == {"delivered_to": "bo"}
        good = await client.run(
            "fallback", {"line": {"name": "milk", "quantity": 2}, "buyer": "bo"}, timeout=60
        )
        assert good.output is not None, good.error
        assert good.output["price"] == {"name": "milk", "cost": 2.2}
        assert [s.status for s in good.steps] == ["succeeded", "skipped"]

        lines = [{"name": "bread", "quantity": 5}]
        big = await client.run("route", {"lines": lines, "buyer": "cy"}, timeout=60)
        assert big.output == {
            "total": 11.25,
            "branch": ["big_order"],
            "big_order": {"delivered_to": "cy"},
        }
        small = [{"name": "apple", "quantity": 1}]
        gift = await client.run("route", {"lines": small, "buyer": "cy", "gift": 1}, timeout=60)
        plain = await client.run("route", {"lines": small, "buyer": "cy"}, timeout=60)
        assert (gift.output["branch"], plain.output["branch"]) == (["gift_note"], ["receipt"])
        assert gift.output["big_order"] is None
        states = {s.step_id: s.status for s in plain.steps if "[" not in s.step_id}
        assert (states["big_order"], states["gift_note"], states["receipt"]) == (
            "skipped",
            "skipped",
            "succeeded",
        )

        for ok, published in ((True, True), (False, False)):
            accepted = await client.submit("approval", {"topic": "tidy code"})
            await _waiting(client, accepted.run_id, "approve")
            with pytest.raises(modx.InvalidRequest) as refused:
                await client.signal(accepted.run_id, "approval", {"ok": "yes"})
            assert refused.value.details[0]["path"].endswith("ok")
            await client.signal(accepted.run_id, "approval", {"ok": ok, "comment": "read it"})
            run = await client.wait(accepted.run_id, timeout=60)
            assert run.status == "succeeded" and run.output["approved"] is ok
            publish = next(s for s in run.steps if s.step_id == "publish")
            assert (publish.status == "succeeded") is published
            if published:
                assert run.output["published"] == {"url": "https://blog.example/tidy-code"}
            with pytest.raises(modx.Conflict):
                await client.signal(accepted.run_id, "approval", {"ok": True})
