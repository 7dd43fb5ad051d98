"""Definition checks: each invalid definition is refused with the JSON path at fault."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from services.orchestrator.definitions import (
    DefinitionError,
    Problem,
    RetryPolicy,
    WorkflowDefinition,
    json_path,
    parse_definition,
    problems_from,
)

VALID: dict[str, Any] = {
    "name": "sara-tax",
    "steps": [
        {"id": "parse", "capability": "sara.parse_case", "input": {"case": "$.input.case"}},
        {
            "id": "check",
            "capability": "legal.validate_facts",
            "input": {"facts": "$.steps.parse.output.facts"},
        },
        {
            "id": "infer",
            "capability": "legal.infer",
            "input": {"facts": "$.steps.check.output.facts", "query": "$.steps.parse.output.query"},
            "retry": {"max_attempts": 3, "backoff_s": 0.5},
            "timeout_s": 30,
        },
    ],
    "output": "$.steps.infer.output",
}


def with_change(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("cycle", with_change(["steps", 0, "input"], {"case": "$.steps.infer.output"}), "$.steps[0]"),
    (
        "dangling step reference",
        with_change(["steps", 1, "input"], {"facts": "$.steps.nope.output"}),
        "$.steps[1].input.facts",
    ),
    ("unknown field on a step", with_change(["steps", 2, "colour"], "red"), "$.steps[2].colour"),
    ("unknown top-level field", with_change(["stepz"], []), "$.stepz"),
    (
        "bad type for timeout",
        with_change(["steps", 2, "timeout_s"], "soon"),
        "$.steps[2].timeout_s",
    ),
    ("negative timeout", with_change(["steps", 2, "timeout_s"], -1), "$.steps[2].timeout_s"),
    (
        "bad retry attempts",
        with_change(["steps", 2, "retry", "max_attempts"], 0),
        "$.steps[2].retry.max_attempts",
    ),
    (
        "unknown retry field",
        with_change(["steps", 2, "retry", "forever"], True),
        "$.steps[2].retry.forever",
    ),
    ("missing capability", {"name": "x", "steps": [{"id": "a"}]}, "$.steps[0].capability"),
    ("empty steps", {"name": "x", "steps": []}, "$.steps"),
    ("bad step id", with_change(["steps", 0, "id"], "has space"), "$.steps[0].id"),
    ("duplicate step id", with_change(["steps", 1, "id"], "parse"), "$.steps[1].id"),
    ("after unknown step", with_change(["steps", 1, "after"], ["ghost"]), "$.steps[1].after[0]"),
    ("after itself", with_change(["steps", 1, "after"], ["check"]), "$.steps[1].after[0]"),
    (
        "self reference",
        with_change(["steps", 1, "input"], {"f": "$.steps.check.output"}),
        "$.steps[1].input.f",
    ),
    (
        "unparseable reference",
        with_change(["steps", 1, "input"], {"f": "$.steps..x"}),
        "$.steps[1].input.f",
    ),
    (
        "reference to a step without .output",
        with_change(["steps", 1, "input"], {"f": "$.steps.parse"}),
        "$.steps[1].input.f",
    ),
    (
        "$.item outside for_each",
        with_change(["steps", 1, "input"], {"f": "$.item"}),
        "$.steps[1].input.f",
    ),
    (
        "for_each not a reference",
        with_change(["steps", 1, "for_each"], [1, 2]),
        "$.steps[1].for_each",
    ),
    ("unknown root", with_change(["steps", 1, "input"], {"f": "$.env.HOME"}), "$.steps[1].input.f"),
    ("output references unknown step", with_change(["output"], "$.steps.zzz.output"), "$.output"),
    (
        "bad condition op",
        with_change(["steps", 1, "when"], {"ref": "$.input.x", "op": "between"}),
        "$.steps[1].when.op",
    ),
    (
        "condition on unknown step",
        with_change(["steps", 1, "when"], "$.steps.zzz.output.ok"),
        "$.steps[1].when",
    ),
    (
        "bad capability name",
        with_change(["steps", 0, "capability"], "no spaces allowed"),
        "$.steps[0].capability",
    ),
    ("name missing", {"steps": VALID["steps"]}, "$.name"),
    (
        "heartbeat timeout under a second",
        with_change(["steps", 1, "heartbeat_timeout_s"], 0.5),
        "$.steps[1].heartbeat_timeout_s",
    ),
    (
        "heartbeat on a step that sends no task",
        {
            "name": "w",
            "steps": [{"id": "w", "wait": {"signal": "go"}, "heartbeat_timeout_s": 5}],
        },
        "$.steps[0].heartbeat_timeout_s",
    ),
    ("priority out of range", with_change(["priority"], 11), "$.priority"),
    (
        "concurrency key not of the input",
        with_change(["concurrency_key"], "$.steps.parse.output"),
        "$.concurrency_key",
    ),
    (
        "concurrency key of an unknown field root",
        with_change(["concurrency_key"], "customer"),
        "$.concurrency_key",
    ),
    ("two-step cycle through after", with_change(["steps", 0, "after"], ["check"]), "$.steps[0]"),
]


def test_the_valid_definition_parses_into_a_dag() -> None:
    definition = parse_definition(VALID)
    assert definition.order() == ["parse", "check", "infer"]
    assert definition.dependencies()["infer"] == {"check", "parse"}


@pytest.mark.parametrize(("case", "data", "path"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_definition_names_its_json_path(case: str, data: dict[str, Any], path: str) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    paths = [p.path for p in info.value.problems]
    assert path in paths, f"{case}: expected {path} in {paths}"


def test_paths_are_prefixed_when_the_definition_is_nested() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(with_change(["steps", 1, "after"], ["ghost"]), "$.workflow")
    assert info.value.problems[0].path == "$.workflow.steps[1].after[0]"


def test_field_errors_are_prefixed_when_the_definition_is_nested() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition({"name": "x", "steps": []}, "$.workflow")
    assert [p.path for p in info.value.problems] == ["$.workflow.steps"]


def test_the_error_text_lists_every_problem_with_its_path() -> None:
    error = DefinitionError(
        [Problem(path="$.a", message="one"), Problem(path="$.b", message="two")]
    )
    assert str(error) == "$.a: one; $.b: two"


def test_reference_problems_say_what_is_wrong() -> None:
    """The 422 body carries these messages: each names the fault, not just the path."""
    cases = [
        ({"f": "$.steps..x"}, "cannot parse reference '$.steps..x' at character 7"),
        ({"f": "$.steps.check.output"}, "a step cannot reference its own output"),
        ({"f": "$.item_index"}, "$.item_index is only defined inside a for_each step's input"),
    ]
    for step_input, message in cases:
        with pytest.raises(DefinitionError) as info:
            parse_definition(with_change(["steps", 1, "input"], step_input))
        problems = [(p.path, p.message) for p in info.value.problems]
        assert problems == [("$.steps[1].input.f", message)]


def test_a_fan_out_cannot_iterate_over_its_own_item() -> None:
    data = with_change(["steps", 1, "for_each"], "$.item")
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    problems = [(p.path, p.message) for p in info.value.problems]
    assert problems == [
        ("$.steps[1].for_each", "$.item is only defined inside a for_each step's input")
    ]


def test_pydantic_union_tags_are_left_out_of_json_paths() -> None:
    assert json_path(("steps", 1, "id")) == "$.steps[1].id"
    assert json_path(("workflow", "dict[str,any]", "x", 0)) == "$.workflow.x[0]"
    assert json_path(("input",), "$.workflow") == "$.workflow.input"


def test_graph_problems_name_the_fault() -> None:
    cases: list[tuple[list[Any], Any, str, str]] = [
        (["steps", 1, "after"], ["check"], "$.steps[1].after[0]", "a step cannot wait for itself"),
        (["steps", 0, "after"], ["check"], "$.steps[0]", "cycle: parse -> check -> parse"),
        (
            ["steps", 1, "when"],
            {"ref": "$.steps.zzz.output", "op": "truthy"},
            "$.steps[1].when.ref",
            "reference to unknown step 'zzz'",
        ),
        (
            ["output"],
            "$.item",
            "$.output",
            "$.item is only defined inside a for_each step's input",
        ),
    ]
    for where, value, path, message in cases:
        with pytest.raises(DefinitionError) as info:
            parse_definition(with_change(where, value))
        assert [(p.path, p.message) for p in info.value.problems] == [(path, message)]


def test_a_fan_out_over_plain_text_is_refused() -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(with_change(["steps", 1, "for_each"], "items"))
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("$.steps[1].for_each", "for_each must be a $. reference to a list"),
        ("$.steps[1].for_each", "cannot parse reference 'items' at character 1"),
    ]


def test_the_stored_definition_is_plain_json_without_unset_fields() -> None:
    definition = parse_definition({**VALID, "output": ("$.steps.infer.output",)})
    stored = definition.stored()
    assert stored["output"] == ["$.steps.infer.output"]  # a list, as JSON has it
    assert "timeout_s" not in stored["steps"][0] and "deadline_s" not in stored
    assert stored["steps"][2]["timeout_s"] == 30
    assert definition.stored() is stored  # made once


def test_problems_from_uses_the_document_root_by_default() -> None:
    with pytest.raises(ValidationError) as info:
        WorkflowDefinition.model_validate({"name": "x", "steps": []})
    assert [p.path for p in problems_from(info.value)] == ["$.steps"]


def test_for_each_item_reference_is_allowed_inside_the_fan_out() -> None:
    definition = parse_definition(
        {
            "name": "fan",
            "steps": [
                {"id": "list", "capability": "a.list"},
                {
                    "id": "each",
                    "capability": "a.each",
                    "for_each": "$.steps.list.output.items",
                    "input": {"x": "$.item", "i": "$.item_index"},
                },
                {"id": "sum", "capability": "a.sum", "input": {"values": "$.steps.each.output"}},
            ],
        }
    )
    assert definition.order() == ["list", "each", "sum"]


def test_retry_delay_grows_exponentially_within_jitter_and_cap() -> None:
    policy = RetryPolicy(
        max_attempts=10, backoff_s=1, backoff_factor=2, max_backoff_s=5, jitter=0.5
    )
    assert policy.delay(1, 0.5) == pytest.approx(1.0)
    assert policy.delay(3, 0.5) == pytest.approx(4.0)
    assert policy.delay(5, 0.5) == pytest.approx(5.0)  # capped
    assert policy.delay(2, 0.0) == pytest.approx(1.0)  # -50% jitter
    assert policy.delay(2, 0.999) == pytest.approx(3.0, rel=1e-2)  # +50% jitter


def test_retry_policy_decides_by_code_and_flag() -> None:
    assert RetryPolicy().retries("boom", True)
    assert not RetryPolicy().retries("boom", False)
    assert not RetryPolicy(retry_on=["timeout"]).retries("boom", True)
    assert RetryPolicy(retry_on=["timeout"]).retries("timeout", True)
    assert not RetryPolicy(no_retry_on=["boom"]).retries("boom", True)


def test_a_validators_message_reads_without_pydantics_prefix() -> None:
    """A field's own check says what is wrong, not "Value error, " first (the CLI stripped
    it; the API's 422 showed it)."""
    loop = {"workflow": "child", "steps": [{"id": "a", "capability": "t.x"}], "until": "$.output"}
    with pytest.raises(DefinitionError) as info:
        parse_definition(
            {"name": "w", "steps": [{"id": "l", "loop": {**loop, "max_iterations": 2}}]}
        )
    (problem,) = info.value.problems
    assert problem.path == "$.steps[0].loop"
    assert problem.message.startswith("give exactly one of workflow and steps"), problem.message
