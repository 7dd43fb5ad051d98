"""References (``$.input…``, ``$.steps.<id>.output…``, ``$.item``) and ``when`` conditions,
resolved against a run's scope: what each finds, and the error (with the reference) when it
finds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.orchestrator import refs
from services.orchestrator.definitions import Condition
from services.orchestrator.engine import _test

SCOPE: dict[str, Any] = {
    "input": {"case": {"people": ["ann", "bob"], "n": 2}, "zero": 0},
    "steps": {"parse": {"facts": [{"id": 1}, {"id": 2}], "ok": True}, "none": None},
    "item": {"value": 7},
    "item_index": 3,
}


@pytest.mark.parametrize(
    ("ref", "found"),
    [
        ("$.input", SCOPE["input"]),
        ("$.input.case.n", 2),
        ("$.input.case.people[0]", "ann"),
        ("$.input.case.people[1]", "bob"),
        ("$.steps.parse.output", SCOPE["steps"]["parse"]),
        ("$.steps.parse.output.facts[1].id", 2),
        ("$.steps.none.output", None),
        ("$.item.value", 7),
        ("$.item_index", 3),
    ],
)
def test_a_reference_finds_its_value(ref: str, found: Any) -> None:
    assert refs.is_ref(ref)
    assert refs.resolve(ref, SCOPE) == found


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("$.input.case.people[2]", "$.input.case.people[2]: nothing at 2"),
        ("$.input.case.people[-1]", "cannot parse reference"),
        ("$.input.case.missing", "$.input.case.missing: nothing at 'missing'"),
        ("$.input.case.n.deeper", "nothing at 'deeper'"),
        ("$.input.case[0]", "$.input.case[0]: nothing at 0"),
        ("$.steps.later.output", "$.steps.later.output: step 'later' has no output"),
        ("$.steps.parse.output.facts[5]", "$.steps.parse.output.facts[5]: nothing at 5"),
        ("$.steps.parse", "a step reference reads $.steps.<id>.output…, got '$.steps.parse'"),
        ("$.steps.parse.input", "a step reference reads $.steps.<id>.output…"),
        ("$.steps[0].output", "a step reference reads $.steps.<id>.output…"),
        ("$.outcome", "a reference starts with $.input, $.steps, $.item or $.item_index"),
        ("$.", "cannot parse reference '$.' at character 1"),
        ("$.input..n", "cannot parse reference '$.input..n' at character"),
    ],
)
def test_a_reference_that_finds_nothing_says_why(ref: str, error: str) -> None:
    with pytest.raises(refs.RefError) as caught:
        refs.resolve(ref, SCOPE)
    assert error in str(caught.value)


@pytest.mark.parametrize("root", ["iteration", "previous", "output"])
def test_a_loops_references_name_its_iteration_and_outputs(root: str) -> None:
    """Inside a loop's body, ``$.iteration``, ``$.previous`` and ``$.output`` are roots too."""
    assert refs.parse(f"$.{root}.a[0]") == refs.Ref(f"$.{root}.a[0]", root, None, ("a", 0))
    assert refs.resolve(f"$.{root}.a[0]", {root: {"a": [root]}}) == root
    with pytest.raises(refs.RefError, match=rf"^\$\.{root}: {root} is not defined here$"):
        refs.resolve(f"$.{root}", SCOPE)


def test_item_is_only_defined_inside_a_fan_out() -> None:
    with pytest.raises(refs.RefError, match=r"\$\.item: item is not defined here"):
        refs.resolve("$.item", {"input": {}, "steps": {}})
    with pytest.raises(refs.RefError, match="has no output"):
        refs.resolve("$.steps.a.output", {"input": {}})


def test_references_inside_objects_and_lists_are_resolved_the_rest_kept() -> None:
    value = {"a": ["$.input.zero", {"b": "$.item_index"}, "$not-a-ref", 5, None], "c": "x"}
    assert refs.resolve(value, SCOPE) == {"a": [0, {"b": 3}, "$not-a-ref", 5, None], "c": "x"}
    assert list(refs.walk(value)) == [("$.a[0]", "$.input.zero"), ("$.a[1].b", "$.item_index")]
    assert not refs.is_ref("$") and not refs.is_ref(3) and not refs.is_ref("input.x")


def test_a_parsed_reference_names_its_root_step_and_path() -> None:
    assert refs.parse("$.steps.parse.output.facts[1].id") == refs.Ref(
        "$.steps.parse.output.facts[1].id", "steps", "parse", ("facts", 1, "id")
    )
    assert refs.parse("$.input.a[2]") == refs.Ref("$.input.a[2]", "input", None, ("a", 2))
    with pytest.raises(refs.RefError, match=r"empty reference '\$'"):
        refs.parse("$")


@pytest.mark.parametrize(
    ("ref", "op", "value", "expected"),
    [
        ("$.steps.parse.output.ok", "truthy", None, True),
        ("$.input.zero", "truthy", None, False),
        ("$.input.zero", "falsy", None, True),
        ("$.input.case.n", "falsy", None, False),
        ("$.input.case.n", "equals", 2, True),
        ("$.input.case.n", "equals", 3, False),
        ("$.input.case.n", "not_equals", 3, True),
        ("$.input.case.n", "not_equals", 2, False),
        ("$.input.case.n", "in", [1, 2], True),
        ("$.input.case.n", "in", [1, 3], False),
        ("$.input.case.n", "in", 2, False),  # not a list: never in it
        ("$.input.case.n", "gt", 1, True),
        ("$.input.case.n", "gt", 2, False),
        ("$.input.case.n", "gte", 2, True),
        ("$.input.case.n", "gte", 3, False),
        ("$.input.case.n", "lt", 3, True),
        ("$.input.case.n", "lt", 2, False),
        ("$.input.case.n", "lte", 2, True),
        ("$.input.case.n", "lte", 1, False),
        ("$.input.case.people", "gt", 1, False),  # not comparable: false, not an error
        ("$.input.case.n", "exists", None, True),
        ("$.input.case.gone", "exists", None, False),
        ("$.input.case.gone", "exists", False, True),  # exists: false
        ("$.input.case.n", "exists", False, False),
    ],
)
def test_conditions(ref: str, op: str, value: Any, expected: bool) -> None:
    assert _test(Condition(ref=ref, op=op, value=value), SCOPE) is expected


def test_a_condition_on_nothing_is_an_error_except_exists() -> None:
    with pytest.raises(refs.RefError):
        _test(Condition(ref="$.steps.skipped.output.ok"), SCOPE)
