"""A step whose input names something that is not there fails with ``bad_reference`` naming
the reference; it was skipped, so a run with a misspelt input field "succeeded" having done
nothing (``modx run submit basket --input '{"lnes": [...]}'``: succeeded, output ``{}``). A
reference to the output of a step that was skipped still skips the step that reads it: that
is how a branch not taken propagates. Both modes."""

from __future__ import annotations

from typing import Any

import pytest

from agents.legal.workflow import DEMO_CASE, SARA_TAX
from tests.e2e.test_legal import start_legal
from tests.fixtures.stack import Stack

NOW = {"sleep": {"seconds": 0}}
CHILD = {"name": "ref-child", "steps": [{"id": "nap", **NOW}]}


def _step(run: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in run["steps"] if s["step_id"] == step_id)


@pytest.mark.parametrize(
    ("step", "reference"),
    [
        ({"capability": "ref.nobody", "input": {"name": "$.input.nme"}}, "$.input.nme"),
        (
            {"capability": "ref.nobody", "for_each": "$.input.lnes", "input": "$.item"},
            "$.input.lnes",
        ),
        ({"workflow": "ref-child", "input": {"x": "$.input.deep.er"}}, "$.input.deep.er"),
        (
            {"capability": "ref.nobody", "input": "$.steps.first.output.nope"},
            "$.steps.first.output.nope",
        ),
    ],
    ids=["capability", "for_each", "workflow", "a-step-output-field"],
)
async def test_a_reference_to_nothing_fails_the_step(
    stack: Stack, step: dict[str, Any], reference: str
) -> None:
    assert (await stack.client.post("/v1/workflows", json=CHILD)).status_code in (200, 201)
    definition = {
        "name": "typo",
        "steps": [{"id": "first", **NOW}, {"id": "use", "after": ["first"], **step}],
    }
    run = await stack.wait(await stack.submit(definition, {"lines": [1], "deep": {}}))
    assert run["status"] == "failed", run
    use = _step(run, "use")
    assert use["status"] == "failed"
    assert use["error"]["code"] == "bad_reference"
    assert use["error"]["message"].startswith(f"{reference}: ")
    assert run["error"]["cause"]["code"] == "bad_reference"


async def test_on_error_continue_takes_a_bad_reference(stack: Stack) -> None:
    definition = {
        "name": "typo-tolerated",
        "steps": [
            {
                "id": "use",
                "capability": "ref.nobody",
                "input": "$.input.nme",
                "on_error": "continue",
            }
        ],
    }
    run = await stack.wait(await stack.submit(definition, {}))
    assert run["status"] == "succeeded", run
    assert _step(run, "use")["output"]["error"]["code"] == "bad_reference"


async def test_a_skipped_steps_output_still_skips_its_readers(stack: Stack) -> None:
    definition = {
        "name": "branch-not-taken",
        "steps": [
            {"id": "maybe", "when": "$.input.go", **NOW},
            {"id": "reader", "capability": "ref.nobody", "input": "$.steps.maybe.output"},
            {"id": "fan", "capability": "ref.nobody", "for_each": "$.steps.maybe.output"},
            {"id": "child", "workflow": "ref-child", "input": "$.steps.maybe.output"},
        ],
    }
    assert (await stack.client.post("/v1/workflows", json=CHILD)).status_code in (200, 201)
    run = await stack.wait(await stack.submit(definition, {"go": False}))
    assert run["status"] == "succeeded", run
    assert {s["step_id"]: s["status"] for s in run["steps"]} == {
        "maybe": "skipped",
        "reader": "skipped",
        "fan": "skipped",
        "child": "skipped",
    }


@pytest.mark.prolog
async def test_sara_tax_runs_without_its_optional_case_id(stack: Stack, swipl: str) -> None:
    """What the A2A server's text routing sends (``{"case": text}``): ``case_id`` is optional in
    sara-tax's input schema. Its first step read ``$.input.case_id``: every step was skipped and
    the run failed with ``bad_output`` (then, with references checked, ``bad_reference``)."""
    await start_legal(stack)
    assert (await stack.client.post("/v1/workflows", json=SARA_TAX)).status_code in (200, 201)
    run = await stack.wait(await stack.submit("sara-tax", {"case": DEMO_CASE.read_text()}))
    assert run["status"] == "succeeded", run["error"]
    assert run["output"]["case_id"] == "case" and isinstance(run["output"]["answer"], int)
