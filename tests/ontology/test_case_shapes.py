"""One situation written in several shapes of case file: each shape must give the same expanded
facts and the same tax, through the sandboxed expander (the pipeline) and when the file is
consulted directly (``load_case_facts/1``, the way the statute tests run cases). Files that must
be refused are refused with an error that says why, and where."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ontology import CaseExpander, CaseFormatError, ReasonerPool, parse_case_text, statutes_rules
from ontology.tax_facts import facts_to_prolog
from tests.statutes.sara import NumericCase, run_tax_batch

pytestmark = pytest.mark.prolog

HEAD = """% Text
% Alice is paid $10000 on March 1st, $15000 on May 1st and $20000 on July 1st, 2017.

% Question
% How much tax does Alice have to pay in 2017? $0

% Facts
:- [statutes/prolog/init].
"""
TAIL = """
% Test
:- tax(alice,2017,0).
:- halt.
"""

SHAPES: dict[str, str] = {
    "flat facts": """
payment_(pay_1). patient_(pay_1, alice). amount_(pay_1, 10000). start_(pay_1, "2017-03-01").
payment_(pay_2). patient_(pay_2, alice). amount_(pay_2, 15000). start_(pay_2, "2017-05-01").
payment_(pay_3). patient_(pay_3, alice). amount_(pay_3, 20000). start_(pay_3, "2017-07-01").
""",
    "between/3 and atom_concat/3": """
payment_(E) :- between(1, 3, I), atom_concat(pay_, I, E).
patient_(E, alice) :- payment_(E).
amount_(E, A) :- payment_(E), atom_concat(pay_, N, E), atom_number(N, I), A is 5000 + 5000 * I.
start_(E, D) :-
    payment_(E), atom_concat(pay_, N, E), atom_number(N, I), M is 2 * I + 1,
    format(string(D), "2017-~|~`0t~d~2+-01", [M]).
""",
    "split_string/4": """
payment_(E) :- split_string("pay_1,pay_2,pay_3", ",", "", Ps), member(P, Ps), atom_string(E, P).
patient_(E, alice) :- payment_(E).
amount_(E, A) :-
    split_string("pay_1:10000 pay_2:15000 pay_3:20000", " ", "", Ps), member(P, Ps),
    split_string(P, ":", "", [N, S]), atom_string(E, N), number_string(A, S).
start_(E, D) :-
    split_string("pay_1/2017-03-01 pay_2/2017-05-01 pay_3/2017-07-01", " ", "", Ps),
    member(P, Ps), split_string(P, "/", "", [N, D]), atom_string(E, N).
""",
    "sub_atom/5 (the subject must be bound)": """
payment_(pay_1). payment_(pay_2). payment_(pay_3).
patient_(E, alice) :- sub_atom(E, 0, _, _, pay_).
amount_(E, A) :- sub_atom(E, _, 1, 0, C), atom_number(C, I), A is 5000 + 5000 * I.
start_(E, D) :-
    sub_atom(E, _, 1, 0, C), atom_number(C, I), M is 2 * I + 1,
    format(string(D), "2017-~|~`0t~d~2+-01", [M]).
""",
    "format(atom(_), ...)": """
payment_(E) :- between(1, 3, I), format(atom(E), 'pay_~w', [I]).
patient_(E, alice) :- payment_(E).
amount_(E, A) :- between(1, 3, I), format(atom(E), 'pay_~w', [I]), A is 5000 + 5000 * I.
start_(E, D) :-
    between(1, 3, I), format(atom(E), 'pay_~w', [I]), M is 2 * I + 1,
    format(string(D), "2017-~|~`0t~d~2+-01", [M]).
""",
    "nth1/3": """
payment_(E) :- nth1(_, [pay_1, pay_2, pay_3], E).
patient_(E, alice) :- payment_(E).
amount_(E, A) :- nth1(I, [pay_1, pay_2, pay_3], E), nth1(I, [10000, 15000, 20000], A).
start_(E, D) :-
    nth1(I, [pay_1, pay_2, pay_3], E), nth1(I, ["2017-03-01", "2017-05-01", "2017-07-01"], D).
""",
    "rules with bodies over a helper table": """
salary(pay_1, 10000, "2017-03-01").
salary(pay_2, 15000, "2017-05-01").
salary(pay_3, 20000, "2017-07-01").
payment_(E) :- salary(E, _, _).
patient_(E, alice) :- salary(E, _, _).
amount_(E, A) :- salary(E, A, _).
start_(E, D) :- salary(E, _, D).
""",
}


def case_text(body: str) -> str:
    return HEAD + body + TAIL


@pytest.fixture(scope="module")
def expander(swipl: str) -> Iterator[CaseExpander]:
    with CaseExpander(swipl, inferences=5_000_000, time_s=60) as exp:
        yield exp


async def test_every_shape_gives_the_same_facts_and_the_same_tax(
    expander: CaseExpander, swipl: str, tmp_path: Path
) -> None:
    facts = {
        name: parse_case_text(case_text(body), "shape", expander=expander).facts
        for name, body in SHAPES.items()
    }
    flat = sorted(facts_to_prolog(facts["flat facts"]))
    assert len([f for f in flat if f.startswith("amount_(")]) == 3
    assert {name: sorted(facts_to_prolog(f)) for name, f in facts.items()} == {
        name: flat for name in SHAPES
    }
    async with ReasonerPool(statutes_rules(), size=1, swipl=swipl) as pool:
        answers = {
            name: (await pool.query(f, "tax(alice, 2017, Amount)")).bindings["Amount"]
            for name, f in facts.items()
        }
    assert len(set(answers.values())) == 1, answers
    tax = answers["flat facts"]
    assert isinstance(tax, int) and tax > 0
    # The same files consulted directly: the statutes expand the rules themselves.
    files = []
    for index, body in enumerate(SHAPES.values()):
        path = tmp_path / f"shape_{index}.pl"
        path.write_text(case_text(body))
        files.append(NumericCase(f"shape_{index}", path, "alice", 2017, tax))
    outcomes, stderr = run_tax_batch(swipl, files, tmp_path)
    assert {n: o.answer for n, o in outcomes.items()} == {c.name: str(tax) for c in files}, stderr


@pytest.mark.parametrize(
    ("body", "code", "line", "says"),
    [
        ("amount_(e, X) :- open('/etc/hostname', read, S), read(S, X).", "unsafe_goal", 9, "open"),
        ("amount_(e, X) :- tcp_connect(localhost:80, _, []), X = 1.", "unsafe_goal", 9, "tcp"),
        ("payment_(E) :- assertz(seen(E)), E = p.", "unsafe_goal", 9, "assertz"),
        ("payment_(E) :- shell('true'), E = p.", "unsafe_goal", 9, "shell"),
        ("payment_(p) :- payment_(p).", "resource", None, "inferences"),
        ("payment_(p).\namount_(E, A) :- payment_(E), A is foo + 1.", "expansion", 10, "foo"),
    ],
)
def test_refused_cases_say_why(
    expander: CaseExpander, body: str, code: str, line: int | None, says: str
) -> None:
    with pytest.raises(CaseFormatError) as info:
        parse_case_text(case_text(body), "bad", expander=expander)
    assert (info.value.code, info.value.line) == (code, line)
    assert says in str(info.value)


def test_an_error_in_a_rule_is_not_a_dropped_fact_when_consulted_directly(
    swipl: str, tmp_path: Path
) -> None:
    """Loaded directly, a role rule that raises used to be dropped (a confident wrong tax);
    now the case fails with the error and the rule's line."""
    body = SHAPES["flat facts"] + "agent_(E, acme) :- payment_(E), X is foo + 1, X > 0.\n"
    path = tmp_path / "broken.pl"
    path.write_text(case_text(body))
    outcomes, stderr = run_tax_batch(
        swipl, [NumericCase("broken", path, "alice", 2017, 0)], tmp_path
    )
    assert outcomes["broken"].answer == "error"
    assert "while generating facts" in stderr and "foo" in stderr
