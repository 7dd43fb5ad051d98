"""Proof trees rendered as cited, indented text."""

from __future__ import annotations

import re

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


def test_every_line_cites_a_subsection() -> None:
    text = explain(PROOF)
    for line in text.splitlines():
        assert re.search(r"\[(for |from )?§[\d()A-Za-z, §]+\]$", line), line
    assert text.splitlines() == [
        "tax(alice,2019,100) = 100  [from §1, §3301]",
        "  s1(alice,2019,100) = 100  [§1]",
        "    not s2_a(alice,2019)  [§2(a)]",
        "    gross_income(alice,2019,1000) = 1000  [for §1]",
        "      fact: amount_(e,1000)  [for §1]",
        "      fact: income_(e)  [for §1]",
        "  s3301(alice,2019,0) = 0  [§3301]",
    ]


def test_depth_and_limit() -> None:
    lines = explanation_lines(ProofNode.model_validate(PROOF), max_depth=1)
    assert [(ln.depth, ln.citation) for ln in lines] == [
        (0, "from §1, §3301"),
        (1, "§1"),
        (1, "§3301"),
    ]
    assert explain(PROOF, indent="....").splitlines()[1].startswith("....s1(")


def test_uncited_tree_says_so() -> None:
    assert explain({"goal": "p", "children": []}) == "p  [no citation]"


def test_answer_header() -> None:
    answer = Answer(bindings={"Amount": 100}, proof=ProofNode.model_validate(PROOF), elapsed_s=0.01)
    text = explain_answer(answer, question="How much tax?")
    assert text.splitlines()[:3] == [
        "How much tax?",
        "Answer: Amount = 100",
        "Provisions applied: §1, §2(a), §3301",
    ]


@pytest.mark.prolog
async def test_explains_a_real_proof(toy_pool: ReasonerPool) -> None:
    answer = await toy_pool.query(["person_(alice)", "age_(alice, 30)"], "adult(X)")
    lines = explain(answer.proof).splitlines()
    assert lines[0] == "adult(alice)  [toy §1(a)]"
    assert all(line.endswith("[for toy §1(a)]") for line in lines[1:])
