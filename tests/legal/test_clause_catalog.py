"""The clause heads Python reads from ``sara_clauses.pl`` (for the model that writes a binary
question from English) are exactly the table's: every name/arity the Prolog table maps, and
no other."""

from __future__ import annotations

import subprocess

import pytest

from ontology.sara.clauses import clause_catalog, known_clause, split_goal, statute_nodes
from tests.statutes.sara import STATUTES_PL, prolog_atom

pytestmark = pytest.mark.prolog


def test_the_catalog_is_the_prolog_tables_heads(swipl: str) -> None:
    proc = subprocess.run(
        [
            swipl,
            "-q",
            "-g",
            f"consult({prolog_atom(STATUTES_PL)}), "
            "findall(N/A, ( clause(statutes:sara_clause(H, _, _), _), functor(H, N, A) ), L), "
            "sort(L, S), forall(member(N/A, S), format('~w ~w~n', [N, A]))",
            "-t",
            "halt",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    prolog = {(n, int(a)) for n, a in (line.split() for line in proc.stdout.splitlines())}
    python = {(c.name, c.arity) for c in clause_catalog()}
    assert python == prolog
    assert len(prolog) > 100


def test_heads_say_what_each_argument_is() -> None:
    heads = {c.head: c.citation for c in clause_catalog()}
    assert heads["s2_b_1_A(taxpayer, _, qualifying_individual, year)"] == "§2(b)(1)(A)"
    assert heads["s3306_a_1_B(employer, year)"] == "§3306(a)(1)(B)"
    assert "s151_b(taxpayer, amount_or_individual, year)" in heads  # two readings, one head
    assert known_clause("s151_b", 3) and not known_clause("s9_z", 1)
    # A subsection the table does not name, but one of our nodes does: placed by kind.
    assert known_clause("s152_d_2_C", 3) and not any(
        c.name == "s152_d_2_C" for c in clause_catalog()
    )
    assert statute_nodes()["s152_d_2_C"] == "§152(d)(2)(C)"
    assert split_goal('s7703(bob,"2019-01-01",[a,b],_).') == (
        "s7703",
        ["bob", '"2019-01-01"', "[a,b]", "_"],
    )
    assert split_goal("s2_b(bob") is None
