"""Sanity checks of subsection predicates on SARA's binary cases.

The binary cases test the dataset authors' own predicates and argument orders, so they are
secondary here: each row below states, in this formalization's own predicates and signatures,
what the case's question asks, and the expected truth value (Entailment / Contradiction).
Cases whose answer rests on a legal conclusion stated through the authors' predicates (e.g. a
fact ``s63_c_2(alice, 2017, 2000)`` or ``s151_c_applies(bob, charlie, Year)``) cannot be
restated and are left out; where such a fact is present but irrelevant to the goal, the case is
kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.statutes.sara import require_sara, run_goal_batch

pytestmark = pytest.mark.prolog

# (case file stem, goal, expected)
ROWS: list[tuple[str, str, bool]] = [
    ("s151_b_pos", "statutes:s151_b__spouse(alice,bob,2015)", True),
    ("s151_b_neg", "statutes:s151_b__spouse(alice,bob,2015)", False),
    ("s151_d_5_pos", "statutes:s151_d_5(2018, 0)", True),
    ("s151_d_3_B_pos", "statutes:s151_d_3_B(alice,2015,22)", True),
    ("s151_d_3_B_neg", "statutes:s151_d_3_B(alice,2015,118)", False),
    ("s151_a_neg", "statutes:s151_a(alice,2015,6000)", False),
    ("s152_b_2_pos", "statutes:s152_b_2(alice,2015)", True),
    ("s152_b_2_neg", "statutes:s152_b_2(alice,2015)", False),
    ("s152_c_1_B_pos", "statutes:s152_c_1_B(bob,alice,2016)", True),
    ("s152_c_1_B_neg", "statutes:s152_c_1_B(bob,alice,2015)", False),
    ("s152_c_1_E_pos", "statutes:s152_c_1_E(bob,2019)", True),
    ("s152_c_1_E_neg", "statutes:s152_c_1_E(bob,2019)", False),
    ("s152_c_2_A_pos", "statutes:s152_c_2_A(bob,alice,2019)", True),
    ("s152_c_2_A_neg", "statutes:s152_c_2_A(bob,alice,2019)", False),
    ("s152_c_2_pos", "statutes:s152_c_2(bob,alice,2019)", True),
    ("s152_c_2_neg", "statutes:s152_c_2(alice,bob,2019)", False),
    ("s152_c_3_pos", "statutes:s152_c_3(bob,alice,2019)", True),
    ("s152_c_3_neg", "statutes:s152_c_3(bob,alice,2019)", False),
    ("s152_d_1_B_pos", "statutes:s152_d_1_B(alice,2015)", True),
    ("s152_d_1_B_neg", "statutes:s152_d_1_B(alice,2015)", False),
    ("s152_d_2_A_pos", "statutes:s152_d_2_A(alice,bob,2019)", True),
    ("s152_d_2_A_neg", "statutes:s152_d_2_A(alice,bob,2019)", False),
    ("s152_d_2_B_pos", "statutes:s152_d_2_B(alice,bob,2015)", True),
    ("s152_d_2_B_neg", "statutes:s152_d_2_B(alice,bob,2015)", False),
    ("s152_d_2_D_pos", "statutes:s152_d_2_D(alice,bob,2019)", True),
    ("s152_d_2_F_pos", "statutes:s152_d_2_F(alice,bob,2019)", True),
    ("s152_d_2_F_neg", "statutes:s152_d_2_F(alice,bob,2019)", False),
    ("s152_d_2_H_pos", "statutes:s152_d_2_H(alice,bob,2018)", True),
    ("s152_d_2_H_neg", "statutes:s152_d_2_H(alice,bob,2015)", False),
    ("s2_a_1_A_pos", "statutes:s2_a_1_A(bob,_,2015)", True),
    ("s2_a_1_A_neg", "statutes:s2_a_1_A(bob,_,2014)", False),
    ("s2_a_1_B_pos", "statutes:s2_a_1_B(bob,2016,_,charlie)", True),
    ("s2_a_1_B_neg", "statutes:s2_a_1_B(bob,2020,_,_)", False),
    ("s2_a_2_B_pos", "statutes:s2_a_2_B(bob,alice)", True),
    ("s2_a_2_B_neg", "statutes:s2_a_2_B(bob,alice)", False),
    ("s2_b_1_A_i_pos", "statutes:s2_b_1_A(bob,2018,_)", True),
    ("s2_b_1_A_pos", "statutes:s2_b_1_A(bob,2018,_)", True),
    ("s2_b_1_A_neg", "statutes:s2_b_1_A(bob,2018,_)", False),
    ("s2_b_1_A_ii_pos", "statutes:s2_b_1_A(bob,2017,_)", True),
    ("s2_b_1_A_ii_neg", "statutes:s2_b_1_A(bob,2017,_)", False),
    ("s2_b_1_B_neg", "statutes:s2_b_1_B(bob,2018,_)", False),
    ("s2_b_1_neg", "statutes:s2_b_1(bob,2016,_)", False),
    ("s2_b_2_A_pos", "statutes:s2_b_2_A(alice,bob,2018)", True),
    ("s2_b_2_A_neg", "statutes:s2_b_2_A(alice,bob,2010)", False),
    ("s2_b_2_C_pos", "statutes:s2_b_2_C(bob,alice,2014)", True),
    ("s2_b_2_C_neg", "statutes:s2_b_2_C(bob,alice,2014)", False),
    (
        "s7703_a_2_pos",
        "statutes:s7703_a(alice,bob,2016), \\+ statutes:s7703_a(alice,bob,2018)",
        True,
    ),
    ("s7703_a_2_neg", "\\+ statutes:s7703_a(alice,bob,2012)", False),
    ("s7703_b_2_pos", "statutes:s7703_b_2(alice,alice_s_house,2018)", True),
    ("s7703_b_2_neg", "statutes:s7703_b_2(alice,alice_s_house,2018)", False),
    ("s7703_b_3_pos", "statutes:s7703_b_3(alice,bob,home,2018)", True),
    ("s7703_b_3_neg", "statutes:s7703_b_3(alice,bob,alice_s_house,2018)", False),
    ("s63_c_2_C_pos", "statutes:s63_c_2_C(2017,3000)", True),
    ("s63_c_2_C_neg", "statutes:s63_c_2_C(2017,4400)", False),
    ("s63_c_2_B_neg", "statutes:s63_c_2_B(alice,2017,4400)", False),
    ("s63_c_2_A_ii_neg", "statutes:s63_c_2_A_ii(alice,2017)", False),
    ("s63_c_6_A_pos", "statutes:s63_c_6_A(alice,2017)", True),
    ("s63_c_6_A_neg", "statutes:s63_c_6_A(alice,2017)", False),
    ("s63_c_6_B_pos", "statutes:s63_c_6_B(alice,2017)", True),
    ("s63_c_6_B_neg", "statutes:s63_c_6_B(alice,2017)", False),
    ("s63_c_6_D_pos", 'statutes:s63_c_6_D("Walter Brown Family Trust II",1999)', True),
    ("s63_c_6_D_neg", 'statutes:s63_c_6_D("Walter Brown Family Trust II",2021)', False),
    ("s63_f_3_pos", "statutes:s63_f_3(alice,2017,750)", True),
    ("s63_f_3_neg", "statutes:s63_f_3(alice,2017,600)", False),
    ("s68_f_pos", "statutes:s68_f(2018)", True),
    ("s68_f_neg", "statutes:s68_f(2014)", False),
    ("s68_b_1_D_neg", "statutes:s68_b_1_D(alice,2016,150000)", False),
    ("s68_a_2_pos", "statutes:s68_a_2(60000,48000)", True),
    ("s68_a_2_neg", "statutes:s68_a_2(60000,47000)", False),
    ("s3306_a_3_pos", "statutes:s3306_a_3(bob,2018)", True),
    ("s3306_a_3_neg", "statutes:s3306_a_3(alice,2017)", False),
    ("s3306_a_1_pos", "statutes:s3306_a_1(bob,2018)", True),
    ("s3306_a_1_neg", "statutes:s3306_a_1(alice,2018)", False),
    ("s3306_b_2_A_pos", "statutes:s3306_b_2(alice_pays_insurance)", True),
    ("s3306_b_2_A_neg", "statutes:s3306_b_2(alice_pays_bob)", False),
    ("s3306_b_2_C_pos", "statutes:s3306_b_2(alice_pays_insurance)", True),
    ("s3306_b_2_C_neg", "statutes:s3306_b_2(alice_pays_retirement)", False),
    ("s3306_b_7_pos", "statutes:s3306_b_7(alice_pays_bob,alice_employer,alice)", True),
    ("s3306_b_7_neg", "statutes:s3306_b_7(alice_pays_bob,alice_employer,alice)", False),
    ("s3306_b_10_A_pos", "statutes:s3306_b_10_A(alice_pays,alice_employer,bob)", True),
    ("s3306_b_10_A_neg", "statutes:s3306_b_10_A(alice_pays,alice_employer,bob)", False),
    ("s3306_b_10_B_pos", "statutes:s3306_b_10_B(alice_pays,alice_employer)", True),
    ("s3306_b_10_B_neg", "statutes:s3306_b_10_B(alice_pays,alice_employer)", False),
    ("s3306_c_1_pos", "statutes:s3306_c_1(alice_employer,2017)", True),
    ("s3306_c_1_neg", "statutes:s3306_c_1(alice_employer,2017)", False),
    ("s3306_c_1_A_i_pos", "statutes:s3306_c_1_A_i(alice,2017)", True),
    ("s3306_c_1_A_i_neg", "statutes:s3306_c_1_A_i(alice,2017)", False),
    ("s3306_c_2_pos", "statutes:s3306_c_2(alice_employer,2017)", True),
    ("s3306_c_2_neg", "statutes:s3306_c_2(alice_employer,2017)", False),
    ("s3306_c_6_pos", "statutes:s3306_c_6(alice_employed)", True),
    ("s3306_c_6_neg", "statutes:s3306_c_6(alice_employed)", False),
    ("s3306_c_16_pos", "statutes:s3306_c_16(alice_employed)", True),
    ("s3306_c_16_neg", "statutes:s3306_c_16(alice_employed)", False),
    ("s3306_c_21_pos", "statutes:s3306_c_21(alice_employed)", True),
    ("s3306_c_21_neg", "statutes:s3306_c_21(alice_employed)", False),
    ("s3306_c_10_A_i_pos", "statutes:s3306_c_10_A(alice_employed)", True),
    ("s3306_c_10_A_i_neg", "statutes:s3306_c_10_A(alice_employed)", False),
    ("s3306_c_10_A_ii_pos", "statutes:s3306_c_10_A(bob_employed)", True),
    ("s3306_c_10_A_ii_neg", "statutes:s3306_c_10_A(bob_employed)", False),
    ("s3306_c_A_pos", "statutes:s3306_c_A(alice_employer)", True),
    ("s3306_c_A_neg", "statutes:s3306_c_A(alice_employer)", False),
    ("s3306_c_B_pos", "statutes:s3306_c_B(alice_employer)", True),
    ("s3306_c_B_neg", "statutes:s3306_c_B(alice_employer)", False),
]


@pytest.fixture(scope="module")
def binary_outcomes(
    swipl: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, bool | None], str]:
    """Every row of the table in one ``swipl`` process; a row whose case file is missing
    fails here, by name (no row is dropped)."""
    root = require_sara()
    absent = [stem for stem, _, _ in ROWS if not (root / "cases" / f"{stem}.pl").exists()]
    assert not absent, f"case files missing from {root / 'cases'}: {absent}"
    workdir: Path = tmp_path_factory.mktemp("sara_binary")
    items = [(stem, root / "cases" / f"{stem}.pl", goal) for stem, goal, _ in ROWS]
    return run_goal_batch(swipl, items, workdir)


def test_every_row_ran(binary_outcomes: tuple[dict[str, bool | None], str]) -> None:
    outcomes, stderr = binary_outcomes
    assert sorted(outcomes) == sorted(stem for stem, _, _ in ROWS), stderr[-3000:]


@pytest.mark.parametrize(("stem", "goal", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_binary_case(
    stem: str,
    goal: str,
    expected: bool,
    binary_outcomes: tuple[dict[str, bool | None], str],
) -> None:
    outcomes, stderr = binary_outcomes
    assert stem in outcomes, f"{stem} did not run\n{stderr[-3000:]}"
    assert outcomes[stem] is not None, f"fact base not empty before {stem}"
    assert outcomes[stem] == expected, f"{goal}: expected {expected}"
