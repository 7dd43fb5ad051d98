"""SARA case files -> ontology facts plus a query (see ``case.py``)."""

from ontology.sara.case import (
    Case,
    CaseClause,
    CaseWarning,
    GoalQuery,
    TaxQuery,
    case_paths,
    iter_cases,
    parse_case,
    parse_case_text,
    parse_cases,
    sara_dir,
)
from ontology.sara.expander import CaseExpander

__all__ = [
    "Case",
    "CaseClause",
    "CaseExpander",
    "CaseWarning",
    "GoalQuery",
    "TaxQuery",
    "case_paths",
    "iter_cases",
    "parse_case",
    "parse_case_text",
    "parse_cases",
    "sara_dir",
]
