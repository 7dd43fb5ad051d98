"""``switch`` (``services.orchestrator.steps.switch``): the first case that holds is taken, or
the default; the other branches' steps end skipped, and a join after them still runs.

Driven through the real writer on SQLite (the helpers of ``test_engine``); the branches are
sleeps of 0 s, so no agent is needed.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.orchestrator import runs
from services.orchestrator.definitions import DefinitionError, parse_definition
from services.runtime import Runtime
from tests.orchestrator.test_engine import events, runtime

__all__ = ["runtime"]

NOW = {"sleep": {"seconds": 0}}
ROUTE: dict[str, Any] = {
    "name": "route",
    "steps": [
        {
            "id": "route",
            "switch": {
                "cases": [
                    {"when": {"ref": "$.input.size", "op": "gt", "value": 10}, "then": ["big"]},
                    {"when": "$.input.rush", "then": ["fast", "courier"]},
                ],
                "default": ["small"],
            },
        },
        {"id": "big", **NOW},
        {"id": "fast", **NOW},
        {"id": "courier", "after": ["fast"], **NOW},
        {"id": "small", **NOW},
        {"id": "join", "after": ["big", "courier", "small"], **NOW},
    ],
    "output": {"route": "$.steps.route.output", "big": "$.steps.big.output"},
}


async def _run(rt: Runtime, input_: Any) -> dict[str, str]:
    run = await rt.orchestrator.create_run(parse_definition(ROUTE), input_)
    assert run is not None and run.status == "succeeded", run
    async with rt.readers() as session:
        rows = await runs.steps_of(session, run.id)
        found = await runs.get_run(session, run.id)
    assert found is not None
    states = {row.step_id: row.status for row in rows}
    states["$output"] = found.output
    return states


@pytest.mark.parametrize(
    ("input_", "taken", "case"),
    [
        ({"size": 20, "rush": True}, {"big"}, 0),  # the first case that holds wins
        ({"size": 3, "rush": True}, {"fast", "courier"}, 1),
        ({"size": 3}, {"small"}, "default"),  # rush names nothing: that case does not hold
        ({}, {"small"}, "default"),  # size names nothing either
    ],
)
async def test_the_first_case_that_holds_is_taken_and_the_others_skipped(
    runtime: Runtime, input_: dict[str, Any], taken: set[str], case: int | str
) -> None:
    states = await _run(runtime, input_)
    branches = {"big", "fast", "courier", "small"}
    assert {s for s in branches if states[s] == "succeeded"} == taken
    assert {s for s in branches if states[s] == "skipped"} == branches - taken
    assert states["route"] == states["join"] == "succeeded"
    output = states["$output"]
    assert isinstance(output, dict)
    assert output["route"] == {
        "case": case,
        "steps": sorted(taken, key=["fast", "courier"].index) if case == 1 else sorted(taken),
    }
    # A branch not taken reads as null in the output mapping.
    assert (output["big"] is None) is ("big" not in taken)


async def test_the_skips_say_which_switch_left_them_out(runtime: Runtime) -> None:
    run = await runtime.orchestrator.create_run(parse_definition(ROUTE), {"size": 99})
    assert run is not None
    skips = [e for e in await events(runtime, run) if e.to_state == "skipped"]
    assert {e.step_id for e in skips} == {"fast", "courier", "small"}
    assert all("switch route (case 0)" in e.data["reason"] for e in skips)


async def test_no_case_and_no_default_skips_every_branch(runtime: Runtime) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "s", "switch": {"cases": [{"when": "$.input.go", "then": ["a"]}]}},
            {"id": "a", **NOW},
            {"id": "b", "after": ["s"], **NOW},
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"go": False})
    assert run is not None and run.status == "succeeded"
    states = {e.step_id: e.to_state for e in await events(runtime, run) if e.step_id}
    assert (states["a"], states["b"]) == ("skipped", "succeeded")


def _switch(cases: list[dict[str, Any]], *others: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "name": "w",
        "steps": [{"id": "s", "switch": {"cases": cases, **spec}}, *others],
    }


PROBLEMS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "unknown step",
        _switch([{"when": "$.input.x", "then": ["ghost"]}]),
        "$.steps[0].switch.cases[0].then[0]",
        "unknown step 'ghost'",
    ),
    (
        "itself",
        _switch([{"when": "$.input.x", "then": ["s"]}]),
        "$.steps[0].switch.cases[0].then[0]",
        "its own branch",
    ),
    (
        "in two branches",
        _switch([{"when": "$.input.x", "then": ["a"]}], {"id": "a", **NOW}, default=["a"]),
        "$.steps[0].switch.default[0]",
        "already in a branch",
    ),
    (
        "no cases",
        _switch([]),
        "$.steps[0].switch.cases",
        "at least 1",
    ),
    (
        "a case that is no condition",
        _switch([{"when": {"ref": "$.input.x", "op": "about"}, "then": ["a"]}], {"id": "a", **NOW}),
        "$.steps[0].switch.cases[0].when.op",
        "",
    ),
    (
        "a case reading its own branch",
        _switch([{"when": "$.steps.a.output", "then": ["a"]}], {"id": "a", **NOW}),
        "$.steps[0]",
        "cycle",
    ),
    (
        "a switch with a capability",
        {
            "name": "w",
            "steps": [
                {
                    "id": "s",
                    "capability": "t.x",
                    "switch": {"cases": [{"when": "$.input.x", "then": ["a"]}]},
                },
                {"id": "a", **NOW},
            ],
        },
        "$.steps[0].switch",
        "",
    ),
]


@pytest.mark.parametrize(
    ("case", "data", "path", "message"), PROBLEMS, ids=[p[0] for p in PROBLEMS]
)
def test_a_bad_switch_is_refused_at_its_json_path(
    case: str, data: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    found = {p.path: p.message for p in info.value.problems}
    assert path in found, f"{case}: {found}"
    assert message in found[path], f"{case}: {found}"


async def _states(rt: Runtime, definition: dict[str, Any], input_: Any) -> dict[str, str]:
    run = await rt.orchestrator.create_run(parse_definition(definition), input_)
    assert run is not None and run.status == "succeeded", run
    async with rt.readers() as session:
        return {row.step_id: row.status for row in await runs.steps_of(session, run.id)}


async def test_a_skipped_switch_takes_no_branch(runtime: Runtime) -> None:
    """A switch whose ``when`` is false takes no branch: its branch steps end skipped (they
    used to run, every branch at once, since a skipped dependency counts as done)."""
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "s",
                "when": "$.input.route",
                "switch": {"cases": [{"when": "$.input.go", "then": ["a"]}], "default": ["b"]},
            },
            {"id": "a", **NOW},
            {"id": "b", **NOW},
            {"id": "join", "after": ["a", "b"], **NOW},
        ],
    }
    states = await _states(runtime, definition, {"route": False, "go": True})
    assert states == {"s": "skipped", "a": "skipped", "b": "skipped", "join": "succeeded"}


async def test_a_switch_in_a_branch_not_taken_takes_none_of_its_own(runtime: Runtime) -> None:
    """Nested switches: the outer one takes ``plain``, so the inner switch (in the other
    branch) is skipped, and so are the inner switch's branches."""
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "outer",
                "switch": {
                    "cases": [{"when": "$.input.fancy", "then": ["inner"]}],
                    "default": ["plain"],
                },
            },
            {
                "id": "inner",
                "switch": {
                    "cases": [{"when": "$.input.gold", "then": ["gold"]}],
                    "default": ["silver"],
                },
            },
            {"id": "gold", **NOW},
            {"id": "silver", **NOW},
            {"id": "plain", **NOW},
        ],
    }
    states = await _states(runtime, definition, {"fancy": False, "gold": True})
    assert states == {
        "outer": "succeeded",
        "inner": "skipped",
        "gold": "skipped",
        "silver": "skipped",
        "plain": "succeeded",
    }
    states = await _states(runtime, definition, {"fancy": True, "gold": True})
    assert (states["inner"], states["gold"], states["silver"], states["plain"]) == (
        "succeeded",
        "succeeded",
        "skipped",
        "skipped",
    )
