"""The OWL ontology: it builds, loads, matches the committed tax.owl and covers the vocabulary."""

from __future__ import annotations

import datetime
import re

import owlready2

from ontology import OWL_PATH, build_ontology, load_ontology, render_owl
from ontology.sara import case_paths
from ontology.tax_schema import default_schema
from ontology.tax_vocabulary import IRI_BASE, STATUTORY_CLASSES

FACTS_PL = OWL_PATH.parent / "statutes" / "facts.pl"


def test_committed_owl_is_in_sync() -> None:
    # On failure run: python -c "from ontology import regenerate_owl; regenerate_owl()"
    assert render_owl() == OWL_PATH.read_bytes()


def test_owl_loads_in_owlready2() -> None:
    world = owlready2.World()
    try:
        onto = load_ontology(world)
        payment = onto.Payment
        assert payment.iri == IRI_BASE + "Payment"
        assert payment.prologName == ["payment_"]
        assert onto.BasicStandardDeduction.definedIn == ["§63(c)(2)"]
        assert onto.TaxAmount in onto.IncomeTaxAmount.ancestors()
        assert onto.StatutoryAmount in onto.TaxAmount.ancestors()
        assert {onto.CaseFacts, onto.TaxAnswer} <= set(onto.ReasoningArtifact.subclasses())
        assert onto.start.range == [datetime.date]
        assert onto.agentText.range == [str]
        assert onto.amount.range == [int]
    finally:
        world.close()


def test_build_uses_only_the_given_world() -> None:
    world = owlready2.World()
    try:
        build_ontology(world)
        assert world.search_one(iri=IRI_BASE + "Payment") is not None
        assert owlready2.default_world.search_one(iri=IRI_BASE + "Payment") is None
    finally:
        world.close()


def test_statutory_concepts_are_cited_and_glossed() -> None:
    schema = default_schema()
    concepts = [s.name for s in STATUTORY_CLASSES if s.defined_in]
    required = {
        "GrossIncome",
        "AdjustedGrossIncome",
        "TaxableIncome",
        "BasicStandardDeduction",
        "AdditionalStandardDeduction",
        "PersonalExemption",
        "ExemptionPhaseOut",
        "Dependent",
        "QualifyingChild",
        "QualifyingRelative",
        "SurvivingSpouse",
        "HeadOfHousehold",
        "MarriedIndividual",
        "UnmarriedIndividual",
        "RateSchedule",
        "Employer",
        "Wages",
        "Employment",
        "ExciseTaxAmount",
        "IncomeTaxAmount",
    }
    assert required <= set(schema.classes)
    for name in concepts:
        info = schema.classes[name]
        assert info.defined_in and re.match(r"§\d+(\([0-9A-Za-z]+\))*$", info.defined_in), name
        assert info.comment, name


def _case_predicates() -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    for path in case_paths():
        facts = path.read_text().split("% Facts")[1].split("% Test")[0]
        for name, args in re.findall(r"\b([a-z][a-z_]*_)\(([^()]*)\)", facts):
            found.add((name, args.count(",") + 1))
    return found


def test_every_case_predicate_is_in_the_ontology() -> None:
    schema = default_schema()
    unary, binary = set(schema.class_by_prolog), set(schema.roles_by_prolog)
    missing = {
        (n, a)
        for n, a in _case_predicates()
        if (a == 1 and n not in unary) or (a == 2 and n not in binary)
    }
    assert not missing


def test_vocabulary_matches_the_statutes_declarations() -> None:
    text = FACTS_PL.read_text()
    block = text[text.index(":- dynamic") : text.index(":- discontiguous")]
    declared = {(n, int(a)) for n, a in re.findall(r"([a-z_]+_)/(\d)", block)}
    schema = default_schema()
    ours = {(p, 1) for p in schema.class_by_prolog} | {(p, 2) for p in schema.roles_by_prolog}
    assert declared == ours
