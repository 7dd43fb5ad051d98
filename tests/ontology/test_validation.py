"""validate_facts: training cases pass; each kind of broken fact set is caught at its path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from ontology import Facts, facts_to_prolog, validate_facts
from ontology.sara import case_paths, parse_cases

BASE: dict[str, Any] = {
    "individuals": [
        {
            "id": "alice_and_bob",
            "types": ["Marriage"],
            "properties": {"agent": ["alice", "bob"], "start": ["2015-03-01"]},
        },
        {
            "id": "alice_is_born",
            "types": ["Birth"],
            "properties": {"agent": ["alice"], "start": ["1980-01-01"]},
        },
        {
            "id": "alice_is_paid",
            "types": ["Payment"],
            "properties": {
                "agent": ["acme"],
                "patient": ["alice"],
                "amount": [1200],
                "start": ["2019-05-05"],
                "end": ["2019-05-05"],
                "purposeText": ["wages"],
            },
        },
        {"id": "alice", "types": ["Person"]},
        {"id": "bob", "types": ["Person"]},
        {"id": "acme", "types": ["Entity"]},
    ]
}
ind = "$.individuals"
Mutation = Callable[[dict[str, Any]], None]


def _set(i: int, key: str, value: Any) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        d["individuals"][i][key] = value

    return apply


def _prop(i: int, name: str, values: Any) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        d["individuals"][i].setdefault("properties", {})[name] = values

    return apply


def _add(individual: dict[str, Any]) -> Mutation:
    def apply(d: dict[str, Any]) -> None:
        d["individuals"].append(individual)

    return apply


BROKEN: list[tuple[str, Mutation, list[tuple[str, str]]]] = [
    ("unknown class", _set(2, "types", ["Paymnet"]), [("unknown_class", f"{ind}[2].types[0]")]),
    (
        "unknown property",
        _prop(2, "amout", [5]),
        [("unknown_property", f"{ind}[2].properties.amout")],
    ),
    (
        "pipeline property on a fact",
        _prop(2, "taxYear", [2019]),
        [("unknown_property", f"{ind}[2].properties.taxYear")],
    ),
    (
        "amount as text",
        _prop(2, "amount", ["1200"]),
        [("datatype_violation", f"{ind}[2].properties.amount[0]")],
    ),
    (
        "fractional amount",
        _prop(2, "amount", [1200, 12.5]),
        [("datatype_violation", f"{ind}[2].properties.amount[1]")],
    ),
    (
        "US date",
        _prop(2, "start", ["05/05/2019"]),
        [("datatype_violation", f"{ind}[2].properties.start[0]")],
    ),
    (
        "impossible date",
        _prop(1, "start", ["1980-02-30"]),
        [("datatype_violation", f"{ind}[1].properties.start[0]")],
    ),
    (
        "number as a reference",
        _prop(2, "patient", [42]),
        [("datatype_violation", f"{ind}[2].properties.patient[0]")],
    ),
    (
        "number as text",
        _prop(2, "purposeText", [5]),
        [("datatype_violation", f"{ind}[2].properties.purposeText[0]")],
    ),
    (
        "dangling reference",
        _prop(0, "agent", ["alice", "carol"]),
        [("dangling_reference", f"{ind}[0].properties.agent[1]")],
    ),
    (
        "amount on a person",
        _prop(3, "amount", [3]),
        [("domain_violation", f"{ind}[3].properties.amount")],
    ),
    (
        "event as a spouse",
        _prop(0, "agent", ["alice", "alice_is_paid"]),
        [("range_violation", f"{ind}[0].properties.agent[1]")],
    ),
    (
        "two birth dates",
        _add(
            {
                "id": "alice_born_again",
                "types": ["Birth"],
                "properties": {"agent": ["alice"], "start": ["1981-01-01"]},
            }
        ),
        [("contradiction", f"{ind}[6].properties.start[0]")],
    ),
    (
        "death before birth",
        _add(
            {
                "id": "alice_dies",
                "types": ["Death"],
                "properties": {"agent": ["alice"], "start": ["1970-01-01"]},
            }
        ),
        [("contradiction", f"{ind}[3]")],
    ),
    (
        "ends before it starts",
        _prop(2, "end", ["2019-01-01"]),
        [("contradiction", f"{ind}[2].properties.end[0]")],
    ),
    (
        "entity and event at once",
        _set(5, "types", ["Entity", "Payment"]),
        [("contradiction", f"{ind}[5].types")],
    ),
    (
        "statutory concept as a fact",
        _set(5, "types", ["Employer"]),
        [("not_a_fact_class", f"{ind}[5].types[0]")],
    ),
    (
        "statutory concept on a spouse",
        _set(4, "types", ["HeadOfHousehold"]),
        [
            ("range_violation", f"{ind}[0].properties.agent[1]"),
            ("not_a_fact_class", f"{ind}[4].types[0]"),
        ],
    ),
    (
        "duplicate id",
        _add({"id": "alice", "types": ["Person"]}),
        [("duplicate_id", f"{ind}[6].id")],
    ),
    ("no type", _set(5, "types", []), [("missing_type", f"{ind}[5].types")]),
    ("values not a list", _prop(2, "amount", 1200), [("malformed", f"{ind}[2].properties.amount")]),
    ("stray key", _set(4, "name", "Bob"), [("malformed", f"{ind}[4].name")]),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in BROKEN], ids=[name for name, _, _ in BROKEN]
)
def test_broken_fact_sets_are_rejected(mutate: Mutation, expected: list[tuple[str, str]]) -> None:
    data = copy.deepcopy(BASE)
    mutate(data)
    assert [(p.code, p.path) for p in validate_facts(data)] == expected


def test_valid_base_passes_as_json_and_as_model() -> None:
    assert validate_facts(BASE) == []
    facts = Facts.model_validate(BASE)
    assert validate_facts(facts) == []
    terms = facts_to_prolog(facts)
    assert "marriage_(alice_and_bob)" in terms
    assert 'purpose_(alice_is_paid, "wages")' in terms
    assert "amount_(alice_is_paid, 1200)" in terms


@pytest.mark.parametrize("data", [None, [], {"individuals": {}}, {"individuals": [3]}])
def test_not_facts_at_all(data: Any) -> None:
    problems = validate_facts(data)
    assert problems and all(p.code == "malformed" for p in problems)


def test_path_quotes_odd_property_names() -> None:
    data = copy.deepcopy(BASE)
    data["individuals"][2]["properties"]["odd name"] = [1]
    [problem] = validate_facts(data)
    assert problem.path == f"{ind}[2].properties['odd name']"


@pytest.mark.prolog
def test_every_training_case_is_valid(swipl: str) -> None:
    for case in parse_cases(case_paths()):
        assert validate_facts(case.facts) == [], case.case_id
