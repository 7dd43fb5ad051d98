"""Proofs a person can check with a calculator: for 20 numeric training cases, a checker that
knows nothing of Prolog reads the rendered explanation, recomputes every combined amount from
the amounts printed beneath it, and finds that each line adds up and the top line is the answer."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from agents.legal.explanation import explain_answer
from ontology import CaseExpander, ReasonerPool, parse_case_text, sara_dir, statutes_rules
from tests.fixtures.services import missing

pytestmark = pytest.mark.prolog

CASES = [
    f"tax_case_{n}"
    for n in (1, 3, 7, 10, 12, 16, 20, 25, 26, 29, 34, 37, 42, 47, 51, 56, 63, 70, 83, 91)
]

AMOUNT = r"-?\$[\d,]+(?:\.\d\d)?"
LINE = re.compile(rf"^(?P<indent> *)(?P<label>.*?): (?P<amount>{AMOUNT})(?: = (?P<calc>.*))?$")
SUFFIXES = ("  [stated in the case: an assumption of this proof]", "  (as shown above)")


def money(text: str) -> Fraction:
    sign = -1 if text.startswith("-") else 1
    return sign * Fraction(text.lstrip("-").lstrip("$").replace(",", ""))


def check(text: str, answer: int) -> int:
    """Check every combining line of a rendered explanation; return how many were checked."""
    lines = text.splitlines()
    assert lines[0] == f"Answer: ${answer:,}" if answer >= 0 else f"Answer: -${-answer:,}"
    body = lines[lines.index("Provisions applied:") + 1 :]
    end = body.index("") if "" in body else len(body)
    rows = []
    for raw in body[:end]:
        for suffix in SUFFIXES:
            raw = raw.removesuffix(suffix)
        match = LINE.match(raw)
        depth = (len(raw) - len(raw.lstrip(" "))) // 2
        rows.append((depth, raw.strip(), match))
    checked = 0
    for i, (depth, _, match) in enumerate(rows):
        if match is None or match["calc"] is None:
            continue
        below = []
        for d, row, m in rows[i + 1 :]:
            if d <= depth:
                break
            if d == depth + 1 and m is not None and not row.startswith("fact:"):
                below.append(money(m["amount"]))
        amount, calc = money(match["amount"]), match["calc"]
        shown = [money(a) for a in re.findall(AMOUNT, calc)]
        cent = Fraction(1, 100)
        if "rounded to the dollar" in calc:
            assert len(below) == 1 and abs(amount - round(below[0])) <= cent, rows[i]
        elif " + " in calc or calc.startswith("nothing to add"):
            assert shown == below and abs(amount - sum(below)) <= cent * len(below), rows[i]
        elif " \u2212 " in calc:
            assert shown == below, rows[i]
            assert abs(amount - (below[0] - sum(below[1:]))) <= cent * len(below), rows[i]
        else:  # the amount of one step beneath, carried up (same / last)
            assert shown == [amount] and amount in below, rows[i]
        checked += 1
    return checked


async def test_every_combined_amount_adds_up_and_the_top_line_is_the_answer(swipl: str) -> None:
    root = sara_dir()
    if not (root / "cases").is_dir():
        missing(f"the SARA data at {root} (set MODX_SARA_DIR)")
    total = 0
    with CaseExpander(swipl) as expander:
        async with ReasonerPool(statutes_rules(), size=1, swipl=swipl) as pool:
            for name in CASES:
                case = parse_case_text(
                    (root / "cases" / f"{name}.pl").read_text(), name, expander=expander
                )
                answer = await pool.query(case.facts, case.query.goal())
                assert answer.bindings["Amount"] == case.gold
                text = explain_answer(answer)
                assert "r" not in re.sub(r"[^\d]r\d|[a-z]", "", text)  # no 819953r25 rationals
                assert "sum_of" not in text and "member(" not in text  # plumbing hidden
                checked = check(text, int(case.gold))  # type: ignore[arg-type]
                assert checked >= 5, name
                total += checked
    assert total >= 200


def test_the_checker_catches_a_line_that_does_not_add_up() -> None:
    text = "\n".join(
        [
            "Answer: $10",
            "",
            "Provisions applied:",
            "  total (alice, 2017): $10 = $4 + $5",
            "    first: $4",
            "    second: $5",
        ]
    )
    with pytest.raises(AssertionError):
        check(text, 10)
