"""Proof trees rendered as cited, indented text."""

from __future__ import annotations

import pytest

from agents.legal import explain, explain_answer, explanation_lines
from ontology.reasoner import Answer, ProofNode, ReasonerPool

PROOF = {
    "goal": "tax(alice,2019,100)",
    "citation": None,
    "value": 100,
    "facts": [],
    "children": [
        {
            "goal": "s1(alice,2019,100)",
            "citation": "§1",
            "value": 100.0,
            "facts": [],
            "children": [
                {
                    "goal": "\\+s2_a(alice,2019)",
                    "citation": "§2(a)",
                    "value": None,
                    "children": [],
                    "facts": [],
                },
                {
                    "goal": "gross_income(alice,2019,1000)",
                    "citation": None,
                    "value": 1000,
                    "facts": ["income_(e)", "amount_(e,1000)"],
                    "children": [
                        {
                            "goal": "income_(e)",
                            "citation": "fact",
                            "value": None,
                            "children": [],
                            "facts": ["income_(e)"],
                        }
                    ],
                },
            ],
        },
        {
            "goal": "s3301(alice,2019,0)",
            "citation": "§3301",
            "value": 0,
            "facts": [],
            "children": [],
        },
    ],
    "exact": "ignored extra key",
}


def test_amounts_in_dollars_arithmetic_and_checked_provisions_apart() -> None:
    text = explain(PROOF)
    lines = text.splitlines()
    assert lines[0] == "Answer: $100"
    applied = lines[
        lines.index("Provisions applied:") + 1 : lines.index("Checked, not applicable:")
    ]
    assert applied[0].strip().startswith("tax (alice, 2019): $100")
    assert any("§1" in ln and "$100" in ln for ln in applied)
    assert any("gross income (alice, 2019): $1,000" in ln for ln in applied)
    assert not any("s2_a" in ln or "§2(a)" in ln for ln in applied)  # not applied: listed apart
    checked = lines[lines.index("Checked, not applicable:") + 1 :]
    assert checked and checked[0].strip().startswith("§2(a)")


def test_a_combining_node_shows_its_arithmetic() -> None:
    proof = {
        "goal": "s63_b(alice,2017,119517)",
        "citation": "§63(b)",
        "value": 119517,
        "combine": "difference",
        "children": [
            {"goal": "adjusted_gross_income(alice,2017,133200)", "value": 133200},
            {"goal": "s63_b_1(alice,2017,11683)", "citation": "§63(b)(1)", "value": 11683},
            {"goal": "s63_b_2(alice,2017,2000)", "citation": "§63(b)(2)", "value": 2000},
        ],
    }
    first = explanation_lines(proof)[0]
    assert first.text.endswith(": $119,517 = $133,200 \u2212 $11,683 \u2212 $2,000")
    assert first.citation == "§63(b)"


def test_fractions_are_dollars_and_cents() -> None:
    proof = {
        "goal": "s1_a_iv(150000,71857r2)",
        "citation": "§1(a)(iv)",
        "value": 35928.5,
        "exact": "71857r2",
    }
    assert "$35,928.50" in explain(proof)


def test_answer_header() -> None:
    answer = Answer(bindings={"Amount": 100}, proof=ProofNode.model_validate(PROOF), elapsed_s=0.01)
    text = explain_answer(answer, question="How much tax?")
    assert text.splitlines()[:2] == ["How much tax?", "Answer: $100"]


@pytest.mark.prolog
async def test_explains_a_real_proof(toy_pool: ReasonerPool) -> None:
    answer = await toy_pool.query(["person_(alice)", "age_(alice, 30)"], "adult(X)")
    lines = explain(answer.proof).splitlines()
    assert lines[0] == "Answer: adult(alice)"
    assert any("toy §1(a)" in line for line in lines[2:])
