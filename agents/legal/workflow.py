"""The ``sara-tax`` and ``sara-entail`` workflows: a SARA case file in, a cited answer out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEMO_CASE = Path(__file__).parent / "data" / "demo_case.pl"

SARA_TAX: dict[str, Any] = {
    "name": "sara-tax",
    "description": "Tax owed on a SARA case: translate, validate against the ontology, infer with "
    "the formalized statutes, explain with citations.",
    "input_schema": {
        "type": "object",
        "required": ["case"],
        "properties": {"case": {"type": "string", "minLength": 1}, "case_id": {"type": "string"}},
    },
    "steps": [
        {
            "id": "parse",
            "capability": "sara.parse_case",
            # the input as it came: case_id is optional (the agent's default applies), and a
            # reference to an absent field fails the step (bad_reference)
            "input": "$.input",
            "timeout_s": 30,
        },
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
            "timeout_s": 60,
        },
        {
            "id": "explain",
            "capability": "legal.explain",
            "input": {
                "proof": "$.steps.infer.output.proof",
                "question": "$.steps.parse.output.question",
                "answer": "$.steps.infer.output.answer",
            },
        },
    ],
    "output": {
        "case_id": "$.steps.parse.output.case_id",
        "question": "$.steps.parse.output.question",
        "answer": "$.steps.infer.output.answer",
        "citations": "$.steps.infer.output.citations",
        "proof": "$.steps.infer.output.proof",
        "explanation": "$.steps.explain.output.explanation",
    },
}


SARA_ENTAIL: dict[str, Any] = {
    "name": "sara-entail",
    "description": "Whether a statute clause applies to a SARA case (Entailment or "
    "Contradiction): translate, validate, decide with the formalized statutes, explain.",
    "input_schema": SARA_TAX["input_schema"],
    "steps": [
        SARA_TAX["steps"][0],
        SARA_TAX["steps"][1],
        {
            "id": "entail",
            "capability": "legal.entail",
            "input": {"facts": "$.steps.check.output.facts", "query": "$.steps.parse.output.query"},
            "retry": {"max_attempts": 3, "backoff_s": 0.5},
            "timeout_s": 60,
        },
        {
            "id": "explain",
            "capability": "legal.explain",
            "input": {
                "proof": "$.steps.entail.output.proof",
                "question": "$.steps.parse.output.question",
                "answer": "$.steps.entail.output.answer",
            },
        },
    ],
    "output": {
        "case_id": "$.steps.parse.output.case_id",
        "question": "$.steps.parse.output.question",
        "answer": "$.steps.entail.output.answer",
        "assumptions": "$.steps.entail.output.assumptions",
        "citations": "$.steps.entail.output.citations",
        "proof": "$.steps.entail.output.proof",
        "explanation": "$.steps.explain.output.explanation",
    },
}
