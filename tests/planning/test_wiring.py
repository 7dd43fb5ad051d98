"""Wiring a plan into a workflow definition: which field takes which concept, where each value
comes from, and the legal agent's real schemas giving the same wiring as ``sara-tax``."""

from __future__ import annotations

from typing import Any

import pytest

from services.discovery.concepts import default_index
from services.orchestrator.definitions import parse_definition
from services.planning.goals import capability_nodes
from services.planning.graph import CapabilityNode, shortest_chain
from services.planning.wiring import (
    UnwirableError,
    bind_inputs,
    field_names,
    input_slots,
    local_name,
    wire,
)

INDEX = default_index()
TAX = "https://modx.dev/ontology/tax#"


def schema(
    *fields: str, required: tuple[str, ...] | None = None, **annotated: str
) -> dict[str, Any]:
    """An object schema with ``fields`` (plus ``annotated`` ones carrying ``x-concept``)."""
    props: dict[str, Any] = {f: {"type": "string"} for f in fields}
    props.update({f: {"type": "string", "x-concept": c} for f, c in annotated.items()})
    return {
        "type": "object",
        "properties": props,
        "required": list(props if required is None else required),
    }


def node(
    name: str,
    consumes: str,
    produces: str,
    inp: dict[str, Any],
    out: dict[str, Any] | None = None,
    **kw: Any,
) -> CapabilityNode:
    return CapabilityNode(
        name,
        tuple(INDEX.expand(c) for c in consumes.split()),
        tuple(INDEX.expand(p) for p in produces.split()),
        input_schema=inp,
        output_schema=out or {},
        **kw,
    )


def test_names_of_concepts():
    assert local_name(TAX + "ValidatedFacts") == "ValidatedFacts"
    assert local_name("modx:Text") == "Text" and local_name("http://x.test/a/B") == "B"
    assert field_names(TAX + "ValidatedFacts") == ["validated_facts", "facts"]
    assert field_names(TAX + "Proof") == ["proof"]
    assert input_slots([TAX + "Text", "modx:Text"]) == {TAX + "Text": "Text", "modx:Text": "Text_2"}


def test_input_fields_by_annotation_name_position_and_whole():
    by_all = node(
        "x.y",
        "tax:Proof tax:ValidatedFacts tax:TaxQuestion tax:SaraCaseFile",
        "tax:Explanation",
        schema("proof_tree", "facts", "query", "mode", required=("query", "proof_tree")),
    )
    by_all = CapabilityNode(
        by_all.name,
        by_all.consumes,
        by_all.produces,
        input_schema={
            **by_all.input_schema,
            "properties": {
                **by_all.input_schema["properties"],
                "case": {"type": "string", "x-concept": "tax:SaraCaseFile"},
            },
        },
    )
    bindings = {b.field: (local_name(b.concept), b.rule) for b in bind_inputs(by_all, INDEX)}
    assert bindings == {
        "case": ("SaraCaseFile", "annotation"),
        "facts": ("ValidatedFacts", "name"),
        "query": ("Proof", "position"),
        "proof_tree": ("TaxQuestion", "position"),
    }
    whole = node("w", "modx:Text", "modx:Embedding", {"type": "object"})
    assert [(b.field, b.rule) for b in bind_inputs(whole, INDEX)] == [(None, "whole")]


def test_unwirable_capabilities_are_refused():
    too_many = node("a", "tax:Proof tax:TaxQuestion", "tax:Explanation", schema("x"))
    with pytest.raises(UnwirableError, match="no input field takes tax:TaxQuestion"):
        bind_inputs(too_many, INDEX)
    extra_required = node("b", "tax:Proof", "tax:Explanation", schema("proof", "mode"))
    with pytest.raises(UnwirableError, match="mode take no consumed concept"):
        bind_inputs(extra_required, INDEX)


def test_values_keep_their_field_name_then_concept_name_then_whole_output():
    nodes = [
        node("make.a", "tax:SaraCaseFile", "tax:CaseFacts", schema("case"), schema("facts", "n")),
        node("make.b", "tax:CaseFacts", "tax:Proof", schema("facts"), schema("proof", "other")),
        node("make.c", "tax:Proof", "tax:Explanation", schema("tree"), schema("text")),
    ]
    wiring = wire(INDEX.expand("tax:Explanation"), {TAX + "SaraCaseFile": "..."}, nodes, INDEX)
    steps = {s["id"]: s["input"] for s in wiring.definition["steps"]}
    assert steps == {
        "make_a": {"case": "$.input.SaraCaseFile"},
        "make_b": {"facts": "$.steps.make_a.output.facts"},  # same field name
        "make_c": {"tree": "$.steps.make_b.output.proof"},  # named after the concept
    }
    assert wiring.definition["output"] == "$.steps.make_c.output"
    assert wiring.run_input == {"SaraCaseFile": "..."}
    parse_definition(wiring.definition)


def test_given_values_win_over_step_outputs_and_exact_over_subclass():
    nodes = [
        node("v", "tax:CaseFacts", "tax:ValidatedFacts", schema("facts"), schema("facts")),
        node("u", "tax:CaseFacts tax:Proof", "tax:Explanation", schema("facts", "proof")),
    ]
    given = {TAX + "CaseFacts": {"a": 1}, TAX + "ValidatedFacts": {"b": 2}, TAX + "Proof": {}}
    wiring = wire(TAX + "Explanation", given, nodes[1:], INDEX)
    # Both given facts fit tax:CaseFacts; the exact concept is taken.
    assert wiring.definition["steps"][0]["input"]["facts"] == "$.input.CaseFacts"


def test_idempotent_steps_get_retries_and_the_record_says_how_inputs_were_filled():
    nodes = [node("a.b", "tax:Proof", "tax:Explanation", schema("proof"), idempotent=True)]
    wiring = wire(TAX + "Explanation", {TAX + "Proof": {}}, nodes, INDEX)
    step = wiring.definition["steps"][0]
    assert step["retry"] == {"max_attempts": 3, "backoff_s": 0.5}
    assert wiring.steps[0]["inputs"] == {
        "proof": {"concept": "tax:Proof", "from": "$.input.Proof", "rule": "name"}
    }
    assert wiring.definition["name"] == "goal.tax-Explanation"


class _Row:
    """Just enough of a registry row for ``capability_nodes``."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def legal_nodes() -> list[CapabilityNode]:
    from agents.legal.agent import agent

    online = _Row(status="online", id="a1")
    rows = [(_Row(**spec), online) for spec in agent.card()["capabilities"]]
    nodes, excluded = capability_nodes(rows, INDEX)  # type: ignore[arg-type]
    assert excluded == {}
    return nodes


def test_the_legal_agent_is_planned_and_wired_like_sara_tax():
    nodes = legal_nodes()
    goal, given = TAX + "TaxAnswer", {TAX + "SaraCaseFile": "% Text ..."}
    chain = shortest_chain(goal, given, nodes, INDEX.subsumes)
    assert [n.name for n in chain or ()] == [
        "sara.parse_case",
        "legal.validate_facts",
        "legal.infer",
    ]
    wiring = wire(goal, given, chain or (), INDEX)
    definition = parse_definition(wiring.definition)
    assert [(s.id, s.input) for s in definition.steps] == [
        ("sara_parse_case", {"case": "$.input.SaraCaseFile"}),
        ("legal_validate_facts", {"facts": "$.steps.sara_parse_case.output.facts"}),
        (
            "legal_infer",
            {
                "facts": "$.steps.legal_validate_facts.output.facts",
                "query": "$.steps.sara_parse_case.output.query",
            },
        ),
    ]
    assert definition.output == "$.steps.legal_infer.output"
    explain = shortest_chain(TAX + "Explanation", given, nodes, INDEX.subsumes)
    assert [n.name for n in explain or ()][-1] == "legal.explain"
    assert wire(TAX + "Explanation", given, explain or (), INDEX).definition["steps"][-1][
        "input"
    ] == {"proof": "$.steps.legal_infer.output.proof"}
