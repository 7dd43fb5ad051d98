"""Tax ontology, SARA case translation, fact validation and the SWI-Prolog reasoner runtime.

Public API (all names below are re-exported here):

* ontology: ``build_ontology(world)``, ``load_ontology(world)``, ``render_owl()``,
  ``regenerate_owl()``, ``IRI_BASE``; precomputed ``Schema`` via ``default_schema()``;
* facts: ``Facts``, ``Individual``, ``facts_to_prolog``; ``validate_facts`` -> ``Problem`` list;
* SARA: ``parse_case``, ``parse_cases``, ``Case``, ``TaxQuery``, ``CaseExpander``;
* reasoning: ``ReasonerPool.query(facts, goal, timeout_s)`` -> ``Answer`` with a ``ProofNode``.
"""

from pathlib import Path

try:
    import owlready2  # noqa: F401  (checked here to give an actionable message)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the ontology package needs owlready2: pip install 'owlready2>=0.46' "
        "(or install modx itself: pip install -e .)"
    ) from exc

from ontology.errors import (
    CaseFormatError,
    FactsError,
    IncompleteCase,
    InvalidFact,
    InvalidGoal,
    NoProof,
    OntologyError,
    PoolBusy,
    PoolClosed,
    PrologSyntaxError,
    QueryTimeout,
    ReasonerError,
    ResourceExhausted,
    UnknownPredicate,
    WorkerCrashed,
    WorkerStartError,
)
from ontology.reasoner import Answer, PoolStats, ProofNode, ReasonerPool, Str, Var, goal
from ontology.sara import (
    Case,
    CaseExpander,
    GoalQuery,
    TaxQuery,
    case_paths,
    parse_case,
    parse_case_text,
    parse_cases,
    sara_dir,
)
from ontology.tax_facts import Facts, Individual, facts_to_program, facts_to_prolog
from ontology.tax_ontology import (
    OWL_PATH,
    build_ontology,
    load_ontology,
    regenerate_owl,
    render_owl,
)
from ontology.tax_schema import Schema, default_schema, load_schema
from ontology.tax_vocabulary import IRI_BASE
from ontology.validation import Problem, validate_facts

STATUTES_DIR = Path(__file__).with_name("statutes")
"""The Prolog formalization of the nine sections (``statutes.pl`` is its entry point)."""


def statutes_rules() -> list[Path]:
    """The rule files a ``ReasonerPool`` loads for tax questions."""
    return [STATUTES_DIR / "statutes.pl"]


__all__ = [
    "IRI_BASE",
    "OWL_PATH",
    "STATUTES_DIR",
    "Answer",
    "Case",
    "CaseExpander",
    "CaseFormatError",
    "Facts",
    "FactsError",
    "GoalQuery",
    "IncompleteCase",
    "Individual",
    "InvalidFact",
    "InvalidGoal",
    "NoProof",
    "OntologyError",
    "PoolBusy",
    "PoolClosed",
    "PoolStats",
    "Problem",
    "PrologSyntaxError",
    "ProofNode",
    "QueryTimeout",
    "ReasonerError",
    "ReasonerPool",
    "ResourceExhausted",
    "Schema",
    "Str",
    "TaxQuery",
    "UnknownPredicate",
    "Var",
    "WorkerCrashed",
    "WorkerStartError",
    "build_ontology",
    "case_paths",
    "default_schema",
    "facts_to_program",
    "facts_to_prolog",
    "goal",
    "load_ontology",
    "load_schema",
    "parse_case",
    "parse_case_text",
    "parse_cases",
    "regenerate_owl",
    "render_owl",
    "sara_dir",
    "statutes_rules",
    "validate_facts",
]
