"""§152(d) against the text: can a newborn make its parent (who has no income) a qualifying
relative? Read alone, (d) says yes ((d)(2)(C) "the father or mother", (d)(1) "with respect to
any taxpayer"); §152(b)(1) settles it: the newborn, the parent's qualifying child and so the
parent's dependent, "shall be treated as having no dependents". The parent keeps the child."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.statutes.sara import STATUTES_PL, prolog_atom

pytestmark = pytest.mark.prolog

FACTS = """
birth_(b). agent_(b, bob). start_(b, "2017-03-01").
son_(s). agent_(s, bob). patient_(s, alice). start_(s, "2017-03-01").
residence_(r1). agent_(r1, alice). patient_(r1, home). start_(r1, "2010-01-01").
residence_(r2). agent_(r2, bob). patient_(r2, home). start_(r2, "2017-03-01").
"""
GOALS = {
    "s152_d(alice, bob, 2017)": True,  # (d) read alone: alice is bob's qualifying relative
    "s152_c(bob, alice, 2017)": True,  # bob is alice's qualifying child
    "s152_a(bob, alice, 2017)": True,  # so alice claims bob
    "s152_a(alice, bob, 2017)": False,  # and bob, her dependent, claims no one: (b)(1)
}


def test_a_newborn_does_not_take_its_parent_as_a_dependent(swipl: str, tmp_path: Path) -> None:
    facts = tmp_path / "newborn.pl"
    facts.write_text(FACTS)
    checks = ", ".join(f"( statutes:{goal} -> writeln(yes) ; writeln(no) )" for goal in GOALS)
    proc = subprocess.run(
        [
            swipl,
            "-q",
            "-g",
            f"consult({prolog_atom(STATUTES_PL)}), consult({prolog_atom(facts)}), {checks}",
            "-t",
            "halt",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout.split() == ["yes" if v else "no" for v in GOALS.values()], proc.stderr
