"""End to end on real statutes: SARA case -> facts -> validation -> Prolog proof -> explanation.

The statute author's own tests cover all 80 numeric cases; this checks that our translation and
runtime carry a few representative ones through unchanged (helper-rule expansion, string-named
places, a typo'd predicate, several filing statuses).
"""

from __future__ import annotations

import pytest

from agents.legal import explain
from ontology import (
    ReasonerPool,
    TaxQuery,
    parse_case,
    sara_dir,
    statutes_rules,
    validate_facts,
)

pytestmark = pytest.mark.prolog

CASES = ["tax_case_1", "tax_case_4", "tax_case_10", "tax_case_20", "tax_case_25", "tax_case_78"]


async def test_numeric_cases_match_gold(swipl: str) -> None:
    async with ReasonerPool(statutes_rules(), size=2, swipl=swipl, default_timeout_s=120) as pool:
        for case_id in CASES:
            case = parse_case(sara_dir() / "cases" / f"{case_id}.pl")
            assert isinstance(case.query, TaxQuery)
            assert validate_facts(case.facts) == []
            answer = await pool.query(case.facts, case.query.goal())
            assert answer.bindings["Amount"] == case.gold, case_id
            lines = explain(answer.proof, answer.bindings["Amount"]).splitlines()
            assert lines[0] == f"Answer: ${case.gold:,}", case_id
            applied = lines[lines.index("Provisions applied:") + 1 :]
            assert applied[0].strip().startswith(f"tax ({case.query.person}, {case.query.year})")
            assert any(line.strip().startswith("§1 ") for line in applied), case_id
