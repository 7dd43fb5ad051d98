"""The planning search on synthetic capability graphs: shortest chains, subsumption,
translators, preferred live agents, and the missing links named when there is no plan."""

from __future__ import annotations

import pytest

from services.discovery.concepts import ConceptIndex
from services.planning.graph import (
    CapabilityNode,
    PlanningLimit,
    find_gap,
    reachable,
    shortest_chain,
)


def vocabulary(parents: dict[str, str]) -> ConceptIndex:
    """A ConceptIndex over ``ex:`` concepts with the given child -> parent edges."""
    base = "https://example.test/ex#"
    names = set(parents) | set(parents.values())
    ancestors = {}
    for name in names:
        chain, current = {base + name}, name
        while current in parents:
            current = parents[current]
            chain.add(base + current)
        ancestors[base + name] = frozenset(chain)
    return ConceptIndex({"ex": base}, ancestors)


def cap(name: str, consumes: str = "", produces: str = "", live: bool = True) -> CapabilityNode:
    return CapabilityNode(name, tuple(consumes.split()), tuple(produces.split()), live=live)


def names(chain) -> list[str] | None:
    return None if chain is None else [node.name for node in chain]


def test_the_shortest_chain_wins_over_a_longer_one():
    nodes = [
        cap("a.long1", "A", "B"),
        cap("a.long2", "B", "C"),
        cap("a.long3", "C", "G"),
        cap("z.short1", "A", "D"),
        cap("z.short2", "D", "G"),
    ]
    assert names(shortest_chain("G", ["A"], nodes)) == ["z.short1", "z.short2"]


def test_a_capability_needs_all_its_inputs_and_order_respects_dependencies():
    nodes = [
        cap("join", "X Y", "G"),
        cap("make.x", "A", "X"),
        cap("make.y", "A", "Y"),
    ]
    assert names(shortest_chain("G", ["A"], nodes)) == ["make.x", "make.y", "join"]
    assert shortest_chain("G", ["X"], nodes[:1]) is None


def test_the_goal_already_given_needs_no_step():
    assert shortest_chain("G", ["G"], [cap("x", "G", "H")]) == ()


def test_a_produced_subclass_serves_a_consumer_of_its_superclass():
    index = vocabulary({"ValidatedFacts": "CaseFacts", "TaxAnswer": "Answer"})
    e = index.expand
    nodes = [
        cap("parse", e("ex:File"), f"{e('ex:CaseFacts')} {e('ex:Question')}"),
        cap("validate", e("ex:CaseFacts"), e("ex:ValidatedFacts")),
        cap("infer", f"{e('ex:ValidatedFacts')} {e('ex:Question')}", e("ex:TaxAnswer")),
    ]
    chain = shortest_chain(e("ex:Answer"), [e("ex:File")], nodes, index.subsumes)
    assert names(chain) == ["parse", "validate", "infer"]
    # Validated facts given directly: parsing is still needed for the question, validating not.
    chain = shortest_chain(
        e("ex:TaxAnswer"), [e("ex:ValidatedFacts"), e("ex:File")], nodes, index.subsumes
    )
    assert names(chain) == ["parse", "infer"]
    # Plain case facts do not satisfy a consumer of validated ones (subsumption is one way).
    assert shortest_chain(e("ex:TaxAnswer"), [e("ex:CaseFacts")], nodes[2:], index.subsumes) is None


def test_translators_are_just_capabilities():
    nodes = [
        cap("fr.summarize", "TexteFR", "ResumeFR"),
        cap("translate.en_fr", "TextEN", "TexteFR"),
        cap("translate.fr_en", "ResumeFR", "SummaryEN"),
    ]
    assert names(shortest_chain("SummaryEN", ["TextEN"], nodes)) == [
        "translate.en_fr",
        "fr.summarize",
        "translate.fr_en",
    ]


def test_cycles_and_useless_steps_do_not_loop():
    nodes = [cap("ab", "A", "B"), cap("ba", "B", "A"), cap("noop", "A", "A"), cap("bg", "B", "G")]
    assert names(shortest_chain("G", ["A"], nodes)) == ["ab", "bg"]
    assert shortest_chain("H", ["A"], nodes) is None


def test_sources_without_inputs_are_applicable_anywhere():
    nodes = [cap("clock.now", "", "Time"), cap("stamp", "Doc Time", "StampedDoc")]
    assert names(shortest_chain("StampedDoc", ["Doc"], nodes)) == ["clock.now", "stamp"]


def test_ties_are_broken_by_name():
    nodes = [cap("b.way", "A", "G"), cap("a.way", "A", "G")]
    assert names(shortest_chain("G", ["A"], nodes)) == ["a.way"]


def test_limits_bound_the_search():
    # 8 independent producers of 8 needed concepts: 2**8 concept sets on the way.
    needs = " ".join(f"N{i}" for i in range(8))
    nodes = [cap(f"p{i}", "A", f"N{i} M{i}") for i in range(8)] + [cap("all", needs, "G")]
    assert len(shortest_chain("G", ["A"], nodes) or ()) == 9
    assert shortest_chain("G", ["A"], nodes, max_steps=5) is None
    with pytest.raises(PlanningLimit):
        shortest_chain("G", ["A"], nodes, max_states=50)


def test_reachable_is_the_forward_closure():
    nodes = [cap("ab", "A", "B"), cap("bc", "B C0", "C"), cap("de", "D", "E")]
    assert reachable(["A"], nodes) == {"A", "B"}
    assert reachable(["A", "C0"], nodes) == {"A", "B", "C", "C0"}


def test_the_gap_names_what_nobody_produces():
    nodes = [
        cap("parse", "SaraCaseFile", "CaseFacts TaxQuestion"),
        cap("validate", "CaseFacts", "ValidatedFacts"),
        cap("infer", "ValidatedFacts TaxQuestion", "TaxAnswer Proof"),
    ]
    gap = find_gap("TaxAnswer", ["CaseFacts"], nodes)
    assert gap.missing == ("SaraCaseFile",)
    assert gap.unreachable == ("TaxAnswer", "TaxQuestion")
    assert find_gap("Refund", ["CaseFacts"], nodes).missing == ("Refund",)
    # Without the validator, validated facts are the missing link.
    gap = find_gap("TaxAnswer", ["SaraCaseFile"], [nodes[0], nodes[2]])
    assert gap.missing == ("ValidatedFacts",)


def test_the_gap_of_a_cycle_names_the_cycle():
    nodes = [cap("ab", "A", "B"), cap("ba", "B", "A"), cap("bg", "B", "G")]
    gap = find_gap("G", ["X"], nodes)
    assert gap.missing == () and set(gap.unreachable) == {"G", "B", "A"}
