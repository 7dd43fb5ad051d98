"""SARA case translation: all training cases, helper-rule expansion, malformed files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ontology import CaseFormatError, facts_to_program, parse_case, parse_case_text
from ontology.reasoner.process import address_space_mb
from ontology.sara import Case, CaseExpander, GoalQuery, TaxQuery, case_paths, iter_cases

pytestmark = pytest.mark.prolog


@pytest.fixture(scope="module")
def expander(swipl: str) -> Iterator[CaseExpander]:
    # The inference bound (deterministic) trips long before the generous time bound, however
    # busy the machine; every training case needs far fewer inferences.
    with CaseExpander(swipl, inferences=5_000_000, time_s=60) as exp:
        yield exp


@pytest.fixture(scope="module")
def cases(expander: CaseExpander) -> dict[str, Case]:
    return {c.case_id: c for c in iter_cases(case_paths(), expander=expander)}


def test_parses_all_training_cases(cases: dict[str, Case]) -> None:
    assert len(cases) == 256
    numeric = [c for c in cases.values() if isinstance(c.query, TaxQuery)]
    binary = [c for c in cases.values() if isinstance(c.query, GoalQuery)]
    assert len(numeric) == 80 and len(binary) == 176
    assert all(isinstance(c.gold, int) for c in numeric)
    assert {c.gold for c in binary} == {"Entailment", "Contradiction"}
    assert all(c.facts.individuals or c.rules for c in cases.values())


def test_numeric_case(cases: dict[str, Case]) -> None:
    case = cases["tax_case_1"]
    assert case.query == TaxQuery(person="alice", year=2019)
    assert case.query.goal() == "tax(alice, 2019, Amount)"
    assert case.gold == 0
    assert case.question == "How much tax does Alice have to pay in 2019?"
    assert case.text.startswith("Alice was paid $1200 in 2019")
    paid = case.facts.get("alice_is_paid")
    assert paid is not None and paid.types == ["Payment"]
    assert paid.properties == {
        "agent": ["jail"],
        "amount": [1200],
        "patient": ["alice"],
        "purpose": ["alice_employed_in_jail"],
        "start": ["2019-05-05"],
    }
    jail = case.facts.get("jail")
    assert jail is not None and jail.types == ["Entity"]


def test_helper_rules_are_expanded(cases: dict[str, Case]) -> None:
    case = cases["tax_case_10"]  # alice_employer/3 generates one service and payment per worker
    services = [i for i in case.facts.individuals if i.types == ["Service"]]
    assert sorted(i.id for i in services) == [
        f"alice_employs_{n}" for n in ("bob", "cameron", "dan", "emily", "fred", "george")
    ]
    pay = case.facts.get("alice_pays_fred")
    assert pay is not None
    assert pay.properties["amount"] == [5012]
    assert pay.properties["purpose"] == ["alice_employs_fred"]
    home = case.facts.get("alice_maintains_home")  # start_ generated for 1993..2093
    assert home is not None and len(home.properties["start"]) == 101
    assert {r.name for r in case.rules} == {"alice_employer"}

    household = cases["s2_a_1_B_pos"]  # one payment per year, 2004-2017
    years = [i.id for i in household.facts.individuals if i.id.startswith("bob_maintains")]
    assert years == [f"bob_maintains_household_{y}" for y in range(2004, 2018)]


def test_typing_of_participants(cases: dict[str, Case]) -> None:
    case = cases["tax_case_10"]
    types = {i.id: i.types for i in case.facts.individuals}
    assert types["alice"] == ["Person"] and types["harold"] == ["Person"]  # marriage agents
    assert types["unnamed_son"] == ["Person"]  # agent of a Son relation
    assert types["home"] == ["Entity"]
    country = cases["s3306_c_1_A_i_neg"].facts.get("caracas, venezuela")
    assert country is not None and country.literal and country.types == ["Entity"]
    assert country.properties == {"countryText": ["venezuela"]}


def test_binary_case_keeps_its_assumptions(cases: dict[str, Case]) -> None:
    case = cases["s151_a_pos"]
    assert case.gold == "Entailment"
    assert case.query == GoalQuery(
        predicate="s151_a",
        text="s151_a(alice, 4000, 2015)",
        assumptions=["s151_c(alice,_,2000,2015)."],
    )
    assert [(r.name, r.arity, r.text) for r in case.rules] == [
        ("s151_c", 4, "s151_c(alice,_,2000,2015)")
    ]
    neg = cases["s151_d_3_B_neg"]
    assert isinstance(neg.query, GoalQuery) and neg.query.negated


def test_tolerated_quirks_are_reported(cases: dict[str, Case]) -> None:
    missing_period = cases["s3306_c_2_pos"].warnings
    assert [(w.code, w.line) for w in missing_period] == [("missing_period", 26)]
    non_ground = [w.code for w in cases["s3306_a_2_B_pos"].warnings]
    assert non_ground == ["non_ground_fact"]
    typo = [w.code for w in cases["tax_case_25"].warnings]  # patient(...) instead of patient_
    assert typo == ["looks_like_vocabulary", "looks_like_vocabulary"]
    assert all(
        not c.warnings
        for k, c in cases.items()
        if k
        not in {
            "s3306_c_2_pos",
            "s3306_c_2_neg",
            "s3306_a_2_B_pos",
            "s3306_a_2_B_neg",
            "tax_case_25",
        }
    )


def test_facts_round_trip_through_prolog(cases: dict[str, Case], expander: CaseExpander) -> None:
    for case in cases.values():
        source = f"% Text\n% Question\n% Facts\n{facts_to_program(case.facts)}% Test\n:- t.\n"
        again = parse_case_text(source, case.case_id, expander=expander)
        assert again.facts == case.facts, case.case_id


CASE = """% Text
% Alice earned money.

% Question
% How much tax does Alice have to pay in 2019? $1,234

% Facts
:- [statutes/prolog/init].
income_(e).
agent_(e, alice).
{extra}

% Test
:- tax(alice,2019,1234).
:- halt.
"""


def _parse(text: str, expander: CaseExpander) -> Case:
    return parse_case_text(text, "example", expander=expander)


def test_small_case(expander: CaseExpander) -> None:
    case = _parse(CASE.format(extra="amount_(e, 10)."), expander)
    assert case.gold == 1234
    assert case.facts.get("e") is not None


@pytest.mark.parametrize(
    ("extra", "code", "line"),
    [
        ("amount_(e, 10", "syntax", 11),
        ("amount_(e, 10).\nstart_(e, ).", "syntax", 12),
        (":- shell('touch /tmp/modx_case_pwned').", "directive_not_allowed", 11),
        (":- initialization(halt).", "directive_not_allowed", 11),
        ("amount_(e, X) :- shell('touch /tmp/modx_case_pwned'), X = 1.", "unsafe_goal", 11),
        ("amount_(e, X) :- call(G), X = G.", "unsafe_goal", 11),
        ("between(1, 2, 3).", "bad_clause", 11),
        ("42.", "bad_clause", 11),
        ("payment_(p) :- payment_(p).", "resource", None),
        ("amount_(e, f(x)).", "unsupported_term", None),
    ],
)
def test_malformed_facts_give_structured_errors(
    expander: CaseExpander, extra: str, code: str, line: int | None
) -> None:
    with pytest.raises(CaseFormatError) as info:
        _parse(CASE.format(extra=extra), expander)
    assert (info.value.code, info.value.line) == (code, line)
    assert not Path("/tmp/modx_case_pwned").exists()
    assert _parse(CASE.format(extra=""), expander).case_id == "example"  # expander still fine


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (CASE.replace("% Facts\n", ""), "missing_section"),
        (CASE.replace("% Test\n", "% Text\n"), "bad_sections"),
        (CASE.replace(":- tax(alice,2019,1234).\n", ""), "no_test_goal"),
        (CASE.replace(":- tax(alice,2019,1234).", "tax(alice,2019,1234)."), "bad_test"),
        (CASE.replace(":- tax(alice,2019,1234).", ':- tax("alice",2019,1).'), "bad_test"),
    ],
)
def test_malformed_files(expander: CaseExpander, text: str, code: str) -> None:
    with pytest.raises(CaseFormatError) as info:
        _parse(text.format(extra=""), expander)
    assert info.value.code == code


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CaseFormatError) as info:
        parse_case(tmp_path / "missing.pl")
    assert info.value.code == "io"


def test_question_without_gold(expander: CaseExpander) -> None:
    case = _parse(CASE.replace("$1,234", "").format(extra=""), expander)
    assert case.gold is None


def test_a_rule_cannot_take_the_machines_memory(swipl: str) -> None:
    """``--stack-limit`` bounds Prolog's stacks, not its atoms: one rule of an untrusted case
    made a 400 MB atom over and over, and the process grew to 3.4 GB within its time limit.
    Its address space is capped now: the allocation fails inside the process, as an error of
    the case, and the process is fine for the next one."""
    hog = "amount_(e, X) :- format(atom(A), '~`xt~400000000|', []), atom_length(A, X)."
    with CaseExpander(swipl, time_s=5) as own:
        with pytest.raises(CaseFormatError):
            _parse(CASE.format(extra=hog), own)
        assert own._proc is not None  # the same process, still running
        status = Path(f"/proc/{own._proc.pid}/status").read_text()
        peak_kb = int(status.split("VmHWM:")[1].split()[0])
        assert peak_kb <= address_space_mb(256) * 1024, f"peak {peak_kb} kB"
        assert _parse(CASE.format(extra=""), own).case_id == "example"
