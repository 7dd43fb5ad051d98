"""Concept IRIs: compact and full forms, and subsumption from the tax ontology."""

from __future__ import annotations

from ontology import IRI_BASE
from services.discovery.concepts import PREFIXES, build_index, default_index

INDEX = default_index()


def test_the_tax_prefix_is_the_ontology_base():
    assert PREFIXES["tax"] == IRI_BASE


def test_compact_iris_expand_and_back():
    full = IRI_BASE + "CaseFacts"
    assert INDEX.expand("tax:CaseFacts") == full and INDEX.compact(full) == "tax:CaseFacts"
    assert INDEX.expand(full) == full
    assert INDEX.expand("other:Thing") == "other:Thing" == INDEX.compact("other:Thing")
    assert INDEX.expand("https://example.test/x#Y") == "https://example.test/x#Y"


def test_subclasses_are_subsumed_and_not_the_other_way():
    assert INDEX.subsumes("tax:CaseFacts", "tax:ValidatedFacts")
    assert INDEX.subsumes("tax:CaseFacts", IRI_BASE + "ValidatedFacts")
    assert not INDEX.subsumes("tax:ValidatedFacts", "tax:CaseFacts")
    assert INDEX.subsumes("tax:TaxAmount", "tax:IncomeTaxAmount")
    assert INDEX.subsumes("tax:StatutoryAmount", "tax:IncomeTaxAmount")  # transitive
    assert INDEX.subsumes("tax:ReasoningArtifact", "tax:Explanation")
    assert INDEX.subsumes("tax:CaseFacts", "tax:CaseFacts")


def test_the_concepts_of_the_legal_capabilities_are_in_the_ontology():
    from agents.legal.agent import agent

    used = {iri for cap in agent.capabilities.values() for iri in (*cap.consumes, *cap.produces)}
    assert used and all(INDEX.known(iri) for iri in used), sorted(
        iri for iri in used if not INDEX.known(iri)
    )


def test_unknown_iris_match_only_themselves():
    assert INDEX.subsumes("modx:Text", "modx:Text")
    assert not INDEX.subsumes("modx:Text", "modx:LongText")
    assert not INDEX.subsumes("tax:NoSuchThing", "tax:CaseFacts")
    assert not INDEX.known("tax:NoSuchThing")
    assert INDEX.any_subsumed("tax:CaseFacts", ["modx:Text", "tax:ValidatedFacts"])


def test_the_index_is_plain_data_built_from_the_committed_export():
    index = build_index()
    assert index.ancestors == INDEX.ancestors
    assert IRI_BASE + "CaseFacts" in index.ancestors[IRI_BASE + "ValidatedFacts"]
