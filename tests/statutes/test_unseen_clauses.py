"""Held-out binary cases ask about clauses no training case names (each training clause comes
with both its cases), so the clause table cannot map them; our node of the same name answers,
its arguments placed by kind (``generic_clause_node/3`` in ``sara_clauses.pl``). Every training
question is run as if its clause were new (the table skipped for the question): most are
answered and right, few wrong, the rest refused with an error rather than guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology import CaseExpander, GoalQuery, parse_case_text
from tests.statutes.sara import require_sara, run_goal_batch

pytestmark = pytest.mark.prolog


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def test_training_questions_as_if_their_clause_were_new(swipl: str, tmp_path: Path) -> None:
    root = require_sara()
    items = []
    gold: dict[str, str] = {}
    with CaseExpander(swipl) as expander:
        for path in sorted((root / "cases").glob("s*_*.pl")):
            text = path.read_text()
            gold[path.stem] = "Entailment" if "Entailment" in text.split("% Facts")[0] else ""
            case = parse_case_text(text, path.stem, expander=expander)
            assert isinstance(case.query, GoalQuery)
            question, stated = case.query.text, "\n".join(case.query.assumptions)
            for verdict in ("Entailment", "Contradiction"):
                goal = (
                    "nb_setval(sara_generic_only, true), "
                    f"sara_entail({_string(question)}, {_string(stated)}, A), "
                    f'A == "{verdict}"'
                )
                items.append((f"{path.stem}:{verdict}", path, goal))
    assert len(gold) == 176
    out, _ = run_goal_batch(swipl, items, tmp_path)
    right = wrong = refused = 0
    for name, entailment in gold.items():
        said = [v for v in ("Entailment", "Contradiction") if out.get(f"{name}:{v}")]
        if not said:
            refused += 1  # an error: no placement, or the placed goal raised
        elif said == [entailment or "Contradiction"]:
            right += 1
        else:
            wrong += 1
    print(f"unseen clauses: {right} right, {wrong} wrong, {refused} refused")
    # Measured: 173 right, 3 wrong (the dataset's own disagreements), 0 refused;
    # 171/3/2 before the employee the facts name took §3306(c)(10)(A)(ii)'s one place and
    # the student was checked to be his spouse (s3306_c_10_A_ii_pos/_neg were refused);
    # 169/4/3 before §151(b)'s exemption "for the spouse" left out the joint return's other
    # taxpayer (s151_b_neg wrong) and §152(b)(2) took the spouse it names (s152_b_2_neg refused);
    # 167/4/5 before §63(d)(2) was a node of ours and a list of amounts ([1200]) their sum;
    # 165/4/7 before a school position took the school the question names (by its text) and
    # a period our node takes the one day the question gives; 159/4/13 before §151(d)(2), (d)(5) carried the zero they set and a relationship's
    # start and end were read as the span it holds (status_span/3);
    # 160/5/11 before a goal testing an argument the placed clause does not take was refused
    # (s152_d_2_D_pos wrong, _neg right by chance: both now refused); 139/12/25 before
    # services, payments, plans, households, marriages and parties were placed by kind.
    assert right >= 173 and wrong <= 3, (right, wrong, refused)
    assert right + wrong + refused == 176


def test_a_goal_testing_an_argument_the_placed_clause_does_not_take_is_refused(
    swipl: str, tmp_path: Path
) -> None:
    """Placed by kind, §152(d)(2)(H) takes the two people and a year; it is no status at a
    day (it asks about the whole year), so a start and an end the question tests have no
    place: the question's is_before/2 would test an unbound variable. It is refused with an
    error naming the clause; a question that leaves such arguments anonymous is answered."""
    root = require_sara()
    path = root / "cases" / "s152_d_2_H_pos.pl"
    spanned = "s152_d_2_H(bob,alice,Start,End), first_day_year(2019,Day), is_before(Start,Day)"
    refused = (
        "nb_setval(sara_generic_only, true), "
        f'catch((sara_entail({_string(spanned)}, "", _), fail), '
        "error(domain_error(placed_argument, s152_d_2_H), _), true)"
    )
    out, err = run_goal_batch(swipl, [("refused", path, refused)], tmp_path)
    assert out == {"refused": True}, err


@pytest.mark.parametrize(("year", "expected"), [(2019, "Entailment"), (2018, "Contradiction")])
def test_a_relationship_asked_with_its_start_and_end_is_the_span_it_holds(
    swipl: str, tmp_path: Path, year: int, expected: str
) -> None:
    """The dataset writes a relationship with its start and end days (Start, End), not a
    year. Alice married Bob's father Charlie on 2018-08-08: she is Bob's stepmother
    (§152(d)(2)(D)) from that day on, End open. "Before the first day of 2019": yes; "before
    the first day of 2018": no. Both were refused (the placed node took no start or end)."""
    root = require_sara()
    path = root / "cases" / "s152_d_2_D_pos.pl"
    spanned = (
        "s152_d_2_D(alice,bob,Start,End), var(End), "
        f"first_day_year({year},Day), is_before(Start,Day)"
    )
    start = 's152_d_2_D(alice,bob,"2018-08-08",_)'
    goals = [
        (
            "span",
            path,
            f'nb_setval(sara_generic_only, true), sara_entail({_string(spanned)}, "", A), '
            f'A == "{expected}"',
        ),
        (
            "start",
            path,
            f'nb_setval(sara_generic_only, true), sara_entail({_string(start)}, "", A), '
            'A == "Entailment"',
        ),
    ]
    out, err = run_goal_batch(swipl, goals, tmp_path)
    assert out == {"span": True, "start": True}, err


def test_a_school_named_by_its_text_and_one_day_fill_a_student_clause(
    swipl: str, tmp_path: Path
) -> None:
    """§3306(c)(10)(A)(i) is ours as (Emp, School, From, To): a school position takes only a
    school of the case, which the question names by its text ("johns hopkins university"),
    and the one day the question gives is the period. Alice was a student there until 2016:
    not on 2017-01-01. (ii) names the student and the employee, one more individual than our
    node takes: the one the facts make an employee takes the place and the other is checked
    to be his spouse, in either order (before, refused: placed in order, the student would
    have been taken for the employee). Bob paid by the school is the student's father in
    the negative case, so no spouse of hers."""
    root = require_sara()
    student = 's3306_c_10_A_i(alice, "johns hopkins university", "2017-01-01")'
    spouse = 's3306_c_10_A_ii(alice, bob, "johns hopkins university", "2017-01-01")'
    goals = [
        (
            "student_neg",
            root / "cases" / "s3306_c_10_A_i_neg.pl",
            f'nb_setval(sara_generic_only, true), sara_entail({_string(student)}, "", A), '
            'A == "Contradiction"',
        ),
        (
            "student_then",
            root / "cases" / "s3306_c_10_A_i_neg.pl",
            "nb_setval(sara_generic_only, true), "
            f'sara_entail({_string(student.replace("2017-01-01", "2015-10-01"))}, "", A), '
            'A == "Entailment"',
        ),
    ]
    reversed_spouse = spouse.replace("alice, bob", "bob, alice")
    for name, question, case, answer in (
        ("spouse_pos", spouse, "pos", "Entailment"),
        ("spouse_pos_reversed", reversed_spouse, "pos", "Entailment"),
        ("spouse_neg", spouse, "neg", "Contradiction"),
        ("spouse_neg_reversed", reversed_spouse, "neg", "Contradiction"),
    ):
        goal = (
            "nb_setval(sara_generic_only, true), "
            f'sara_entail({_string(question)}, "", A), A == "{answer}"'
        )
        goals.append((name, root / "cases" / f"s3306_c_10_A_ii_{case}.pl", goal))
    out, err = run_goal_batch(swipl, goals, tmp_path)
    assert out == {
        "student_neg": True,
        "student_then": True,
        "spouse_pos": True,
        "spouse_pos_reversed": True,
        "spouse_neg": True,
        "spouse_neg_reversed": True,
    }, err


def test_a_payment_is_never_placed_in_an_individuals_position(swipl: str, tmp_path: Path) -> None:
    """§3306(a)(1)(A) is ours as (Employer, Year). A question that names a payment where the
    employer goes is refused, not answered about the payment as if it were a person (which
    employs no one: a Contradiction whatever the facts). §3306(b)(1) asked about one payment
    (payment, service, employer, employee) takes our node about a payment, not the
    employer's wages node: Alice's $5,000 paid on December 22nd, after $5,000 in June, goes
    past the $7,000 base (Entailment); the June payment does not (Contradiction)."""
    root = require_sara()
    path = root / "cases" / "s3306_b_7_pos.pl"
    employer = "s3306_a_1_A(alice_pays_bob,2017,_)"
    own = Path(__file__).resolve().parents[1] / "legal" / "cases"
    wage_base = own / "payment_past_wage_base_s3306_b_1_clause_not_in_table.pl"
    goals = [
        (
            "payment_refused",
            path,
            "nb_setval(sara_generic_only, true), "
            f'catch((sara_entail({_string(employer)}, "", _), fail), '
            "error(existence_error(sara_clause, s3306_a_1_A/3), _), true)",
        ),
        (
            "december",
            wage_base,
            'sara_entail("s3306_b_1(alice_pays_december,alice_employer,alice,bob)", "", A), '
            'A == "Entailment"',
        ),
        (
            "june",
            wage_base,
            'sara_entail("s3306_b_1(alice_pays_june,alice_employer,alice,bob)", "", A), '
            'A == "Contradiction"',
        ),
    ]
    out, err = run_goal_batch(swipl, goals, tmp_path)
    assert out == {"payment_refused": True, "december": True, "june": True}, err
