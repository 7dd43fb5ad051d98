"""A case restated in other words gets the same answer. The formalizer writes what the text
says, and a paraphrase says it from another side: "Alice files a joint return with Bob" (Bob
the patient, not a second agent), "Kofi is Lena's father since 2008" (the parent's side of
"Lena is Kofi's daughter, born 2008"), "Bob's employer paid him $X" (a payment he receives,
not an income_ of his), "Alice pays the costs of her house" (the house the payment's patient, not
its purpose), "Bob died" (Bob the patient of his death, his birth, his blindness),
the sentences in another order. Every SARA training case and every
case of our own (tests/legal/cases), restated that way, gets its original answer.

Other restatements, each on its own: an income or payment paid in two parts on its day, or in
three, or in two equal instalments as one event that recurs (two start_ days; numeric cases), a
punctual event's day written as a one-day span (its end_ too), an income written as earned from
January 1st to its day, a stay in a home written as two back-to-back stays cut at a new year, a
brother or sister stated as a sibling, a payment that names no medium paid by check, an
unrelated person with income and a home of his own added; each state or relationship stated
twice, a stay's home given as its location_, a service for agricultural labor typed as an
agricultural service, an itemized deduction claimed in two parts, a condition (blindness,
citizenship, enrollment, ...) cut at a new year, a service's payer left implicit, workers
who did the same work stated as one service performed by all of them, an amount dated by its
end_ alone ("paid by March 4th"; numeric cases), and a child's relationship to a parent stated
from both sides, a legal separation stated as one of the two spouses rather than of their
marriage, its decree given as its type_, and a place named by another of its names ("usa" as
"United States of America")."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from ontology import CaseExpander, ReasonerPool, parse_case_text, sara_dir, statutes_rules
from tests.fixtures.services import missing

pytestmark = pytest.mark.prolog

OWN_CASES = Path(__file__).with_name("cases")


def _events(facts: str, kind: str) -> list[str]:
    return re.findall(rf"^{kind}\(([a-z]\w*)\)\.$", facts, re.M)


def _role(facts: str, role: str, event: str) -> list[str]:
    return re.findall(rf"^{role}\({event},(\w+)\)\.$", facts, re.M)


def _set(facts: str, old: str, new: str) -> str:
    return re.sub(rf"^{re.escape(old)}$", new, facts, count=1, flags=re.M)


def _restated_facts(facts: str) -> str:
    # The second party of a marriage or joint return as its patient.
    for kind in ("marriage_", "joint_return_"):
        for e in _events(facts, kind):
            agents = _role(facts, "agent_", e)
            if len(agents) == 2:
                facts = _set(facts, f"agent_({e},{agents[1]}).", f"patient_({e},{agents[1]}).")
    # A child's relationship stated from the parent's side.
    for kind, other in (("son_", "father_"), ("daughter_", "mother_")):
        for e in _events(facts, kind):
            child, parent = _role(facts, "agent_", e), _role(facts, "patient_", e)
            if len(child) == 1 and len(parent) == 1:
                facts = _set(facts, f"{kind}({e}).", f"{other}({e}).")
                facts = _set(facts, f"agent_({e},{child[0]}).", f"patient_({e},{child[0]}).@")
                facts = _set(facts, f"patient_({e},{parent[0]}).", f"agent_({e},{parent[0]}).")
                facts = facts.replace(f"patient_({e},{child[0]}).@", f"patient_({e},{child[0]}).")
    # A one-party event (a birth, a death, blindness, nonresident alien status, a deduction
    # claimed) with its person as patient: "Bob died", not "Bob did the dying".
    for kind in ("birth_", "death_", "blindness_", "nonresident_alien_", "deduction_"):
        for e in _events(facts, kind):
            people = _role(facts, "agent_", e)
            if len(people) == 1 and not _role(facts, "patient_", e):
                facts = _set(facts, f"agent_({e},{people[0]}).", f"patient_({e},{people[0]}).")
    # A household's upkeep paid to the household (its patient), not for it (its purpose).
    homes = {h for r in _events(facts, "residence_") for h in _role(facts, "patient_", r)}
    for e in _events(facts, "payment_"):
        purposes = _role(facts, "purpose_", e)
        if len(purposes) == 1 and purposes[0] in homes and not _role(facts, "patient_", e):
            facts = _set(facts, f"purpose_({e},{purposes[0]}).", f"patient_({e},{purposes[0]}).")
    # An income of P as a payment P receives.
    for e in _events(facts, "income_"):
        earners = _role(facts, "agent_", e)
        if len(earners) == 1:
            facts = _set(facts, f"income_({e}).", f"payment_({e}).")
            facts = _set(facts, f"agent_({e},{earners[0]}).", f"patient_({e},{earners[0]}).")
    return facts


def _split_amounts(facts: str) -> str:
    """Each income or payment with one amount paid in two parts on the same day."""
    for kind in ("income_", "payment_"):
        for e in _events(facts, kind):
            amounts = re.findall(rf"^amount_\({e},(\d+)\)\.$", facts, re.M)
            dated = re.search(rf'^start_\({e},"', facts, re.M)  # not by a rule of the case
            if len(amounts) != 1 or int(amounts[0]) < 2 or not dated:
                continue
            total = int(amounts[0])
            first = total // 2
            own = [ln for ln in facts.splitlines() if re.match(rf"^\w+\({e}(,.*)?\)\.$", ln)]
            twin = [ln.replace(f"({e}", f"({e}_part_two", 1) for ln in own]
            twin = [re.sub(r"^(amount_\(\w+),\d+\)", rf"\g<1>,{total - first})", ln) for ln in twin]
            facts = _set(facts, f"amount_({e},{total}).", f"amount_({e},{first}).")
            facts += "\n" + "\n".join(twin) + "\n"
    return facts


def _instalments(facts: str) -> str:
    """Each income or payment of an even amount, dated by one start_ fact, paid in two equal
    instalments: one event that recurs (two start_ days, the day before in the same quarter)."""
    for kind in ("income_", "payment_"):
        for e in _events(facts, kind):
            amounts = re.findall(rf"^amount_\({e},(\d+)\)\.$", facts, re.M)
            days = re.findall(rf'^start_\({e},"(\d{{4}}-\d\d-\d\d)"\)\.$', facts, re.M)
            if len(amounts) != 1 or len(days) != 1 or int(amounts[0]) % 2:
                continue
            day = date.fromisoformat(days[0])
            if re.search(rf"^end_\({e},", facts, re.M) or (day.month % 3 == 1 and day.day == 1):
                continue
            facts = _set(
                facts, f"amount_({e},{amounts[0]}).", f"amount_({e},{int(amounts[0]) // 2})."
            )
            facts += f'\nstart_({e},"{(day - timedelta(days=1)).isoformat()}").\n'
    return facts


def _three_parts(facts: str) -> str:
    """Each income or payment of $3 or more, dated by a fact, paid in three events that day."""
    for kind in ("income_", "payment_"):
        for e in _events(facts, kind):
            amounts = re.findall(rf"^amount_\({e},(\d+)\)\.$", facts, re.M)
            if (
                len(amounts) != 1
                or int(amounts[0]) < 3
                or not re.search(rf'^start_\({e},"', facts, re.M)
            ):
                continue
            total = int(amounts[0])
            part = total // 3
            own = [ln for ln in facts.splitlines() if re.match(rf"^\w+\({e}(,.*)?\)\.$", ln)]
            for suffix, amount in (("_second", part), ("_third", total - 2 * part)):
                twin = [ln.replace(f"({e}", f"({e}{suffix}", 1) for ln in own]
                twin = [re.sub(r"^(amount_\(\w+),\d+\)", rf"\g<1>,{amount})", ln) for ln in twin]
                facts += "\n" + "\n".join(twin) + "\n"
            facts = _set(facts, f"amount_({e},{total}).", f"amount_({e},{part}).")
    return facts


def _income_spans(facts: str) -> str:
    """An income dated by one day written as earned over a span: from January 1st of that year
    to that day (an amount belongs to the year of its start_, which stays the same)."""
    for e in _events(facts, "income_"):
        days = re.findall(rf'^start_\({e},"(\d{{4}})(-\d\d-\d\d)"\)\.$', facts, re.M)
        if len(days) != 1 or re.search(rf"^end_\({e},", facts, re.M):
            continue
        year, rest = days[0]
        facts = _set(facts, f'start_({e},"{year}{rest}").', f'start_({e},"{year}-01-01").')
        facts += f'\nend_({e},"{year}{rest}").\n'
    return facts


def _siblings(facts: str) -> str:
    """A brother or sister stated as a sibling (the vocabulary's word for either)."""
    for kind in ("brother_", "sister_"):
        for e in _events(facts, kind):
            facts = _set(facts, f"{kind}({e}).", f"sibling_({e}).")
    return facts


def _paid_by_check(facts: str) -> str:
    """A payment that names no medium paid by check (money, as cash is)."""
    for e in _events(facts, "payment_"):
        if not re.search(rf"^means_\({e},", facts, re.M):
            facts += f'\nmeans_({e},"check").\n'
    return facts


def _stay_per_person(facts: str) -> str:
    """A home shared by several people stated as one stay per person ("Alice lives in the
    house", "Bob lives in the house"), each with the stay's place and dates."""
    for e in _events(facts, "residence_"):
        people = _role(facts, "agent_", e)
        if len(people) < 2:
            continue
        own = [ln for ln in facts.splitlines() if re.match(rf"^\w+\({e}(,.*)?\)\.$", ln)]
        shared = [ln for ln in own if not ln.startswith("agent_(")]
        for i, person in enumerate(people[1:], 1):
            facts = _set(facts, f"agent_({e},{person}).", "")
            stay = [ln.replace(f"({e}", f"({e}_{i}", 1) for ln in shared]
            facts += "\n" + "\n".join([*stay, f"agent_({e}_{i},{person})."]) + "\n"
    return facts


def _marriage_ends_at_death(facts: str) -> str:
    """A marriage without an end_ that a spouse's death ends, given that day as its last."""
    deaths = {
        p: d
        for e in _events(facts, "death_")
        for p in _role(facts, "agent_", e) + _role(facts, "patient_", e)
        for d in re.findall(rf'^start_\({e},("[\d-]+")\)\.$', facts, re.M)
    }
    for e in _events(facts, "marriage_"):
        spouses = _role(facts, "agent_", e) + _role(facts, "patient_", e)
        died = sorted(deaths[p] for p in spouses if p in deaths)
        if died and not re.search(rf"^end_\({e},", facts, re.M):
            facts += f"\nend_({e},{died[0]}).\n"
    return facts


def _birth_by_kinship(facts: str) -> str:
    """A child's birth left unstated where the child's relationship to a parent starts that
    day ("Bob is Alice's son, born on ..."): the birth is read off the relationship."""
    for e in _events(facts, "birth_"):
        child = _role(facts, "agent_", e)
        day = re.findall(rf'^start_\({e},("[\d-]+")\)\.$', facts, re.M)
        if len(child) != 1 or len(day) != 1:
            continue
        kin = [
            k
            for kind in ("son_", "daughter_")
            for k in _events(facts, kind)
            if _role(facts, "agent_", k) == child
            and re.search(rf"^start_\({k},{re.escape(day[0])}\)\.$", facts, re.M)
        ]
        if kin:
            for ln in [ln for ln in facts.splitlines() if re.match(rf"^\w+\({e}(,.*)?\)\.$", ln)]:
                facts = _set(facts, ln, "")
    return facts


def _one_day_spans(facts: str) -> str:
    """A punctual event's day also given as its last day."""
    for kind in ("income_", "payment_", "birth_", "death_"):
        for e in _events(facts, kind):
            days = re.findall(rf'^start_\({e},("[\d-]+")\)\.$', facts, re.M)
            if len(days) == 1 and not re.search(rf"^end_\({e},", facts, re.M):
                facts += f"\nend_({e},{days[0]}).\n"
    return facts


def _split_stays(facts: str) -> str:
    """A dated stay in a home as two back-to-back stays, cut at the first new year."""
    return _split_at_new_year(facts, "residence_")


def _split_at_new_year(facts: str, kind: str) -> str:
    for e in _events(facts, kind):
        starts = re.findall(rf'^start_\({e},"(\d{{4}})-[\d-]+"\)\.$', facts, re.M)
        ends = re.findall(rf'^end_\({e},("(\d{{4}})-[\d-]+")\)\.$', facts, re.M)
        if len(starts) != 1 or len(ends) > 1 or (ends and int(ends[0][1]) <= int(starts[0])):
            continue
        year = int(starts[0])
        own = [ln for ln in facts.splitlines() if re.match(rf"^\w+\({e}(,.*)?\)\.$", ln)]
        later = [ln.replace(f"({e}", f"({e}_later", 1) for ln in own if not ln.startswith("start_")]
        later.append(f'start_({e}_later,"{year + 1}-01-01").')
        if ends:
            facts = _set(facts, f"end_({e},{ends[0][0]}).", f'end_({e},"{year}-12-31").')
        else:
            facts += f'\nend_({e},"{year}-12-31").\n'
        facts += "\n" + "\n".join(later) + "\n"
    return facts


def _own_lines(facts: str, e: str) -> list[str]:
    return [ln for ln in facts.splitlines() if re.match(rf"^\w+\({e}(,.*)?\)\.$", ln)]


# States and relationships, which hold or not: stated twice, they are the same facts.
STATE_KINDS = (
    "marriage_",
    "residence_",
    "son_",
    "daughter_",
    "father_",
    "mother_",
    "brother_",
    "sister_",
    "sibling_",
    "blindness_",
    "citizenship_",
    "nonresident_alien_",
    "death_",
    "birth_",
    "joint_return_",
    "legal_separation_",
    "hospital_",
    "educational_institution_",
)


def _states_repeated(facts: str) -> str:
    """Each state or relationship stated twice, by two events with the same roles ("Alice and
    Bob are married. Bob is Alice's husband.")."""
    for kind in STATE_KINDS:
        for e in _events(facts, kind):
            twin = [ln.replace(f"({e}", f"({e}_again", 1) for ln in _own_lines(facts, e)]
            facts += "\n" + "\n".join(twin) + "\n"
    return facts


def _residence_located(facts: str) -> str:
    """A stay whose home is given as where it takes place (its location_), not as its
    patient_ ("Alice lives at 5 Elm Row")."""
    for e in _events(facts, "residence_"):
        homes = _role(facts, "patient_", e)
        if len(homes) == 1 and not re.search(rf"^location_\({e},", facts, re.M):
            facts = _set(facts, f"patient_({e},{homes[0]}).", f"location_({e},{homes[0]}).")
    return facts


def _farm_service_typed(facts: str) -> str:
    """A service whose purpose is agricultural labor stated as an agricultural service (the
    vocabulary's event type), without the purpose."""
    for e in _events(facts, "service_"):
        purposes = re.findall(rf'^purpose_\({e},("[^"]*")\)\.$', facts, re.M)
        if len(purposes) == 1 and "agricultur" in purposes[0].lower():
            facts = _set(facts, f"service_({e}).", f"agricultural_service_({e}).")
            facts = _set(facts, f"purpose_({e},{purposes[0]}).", "")
    return facts


def _deductions_split(facts: str) -> str:
    """Each itemized deduction of $2 or more, dated by a fact, claimed in two parts that day."""
    for e in _events(facts, "deduction_"):
        amounts = re.findall(rf"^amount_\({e},(\d+)\)\.$", facts, re.M)
        if (
            len(amounts) != 1
            or int(amounts[0]) < 2
            or not re.search(rf'^start_\({e},"', facts, re.M)
        ):
            continue
        total = int(amounts[0])
        twin = [ln.replace(f"({e}", f"({e}_part_two", 1) for ln in _own_lines(facts, e)]
        twin = [
            re.sub(r"^(amount_\(\w+),\d+\)", rf"\g<1>,{total - total // 2})", ln) for ln in twin
        ]
        facts = _set(facts, f"amount_({e},{total}).", f"amount_({e},{total // 2}).")
        facts += "\n" + "\n".join(twin) + "\n"
    return facts


def _conditions_split(facts: str) -> str:
    """A dated condition (blindness, citizenship, nonresident alien status, enrollment,
    attending classes, being a patient, incarceration) as two back-to-back spans, cut at the
    first new year, as _split_stays cuts a stay."""
    for kind in (
        "blindness_",
        "citizenship_",
        "nonresident_alien_",
        "enrollment_",
        "attending_classes_",
        "medical_patient_",
        "incarceration_",
    ):
        facts = _split_at_new_year(facts, kind)
    return facts


def _payer_implicit(facts: str) -> str:
    """A payment for a service whose payer is the person served left implicit ("Bob was paid
    $X for his work for Alice")."""
    services = {e: _role(facts, "patient_", e) for e in _events(facts, "service_")}
    for e in _events(facts, "payment_"):
        purposes = _role(facts, "purpose_", e)
        payers = _role(facts, "agent_", e)
        if len(purposes) == 1 and len(payers) == 1 and services.get(purposes[0]) == payers:
            facts = _set(facts, f"agent_({e},{payers[0]}).", "")
    return facts


def _crew_service(facts: str) -> str:
    """Services that differ only in who performs them (same employer, days, kind and place)
    stated as one service performed by all of them ("Alice employed Bob and Carl to pick
    apples from ... to ..."); each payment keeps its payee."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for e in _events(facts, "service_"):
        own = _own_lines(facts, e)
        if len(_role(facts, "agent_", e)) != 1 or len(_role(facts, "patient_", e)) != 1:
            continue
        shape = tuple(
            sorted(ln.replace(f"({e}", "(_", 1) for ln in own if not ln.startswith("agent_("))
        )
        groups.setdefault(shape, []).append(e)
    for events in groups.values():
        first, *others = events
        for e in others:
            worker = _role(facts, "agent_", e)[0]
            for ln in _own_lines(facts, e):
                facts = _set(facts, ln, "")
            facts += f"\nagent_({first},{worker}).\n"
            facts = re.sub(rf"^(purpose_\(\w+),{e}\)\.$", rf"\g<1>,{first}).", facts, flags=re.M)
    return facts


def _dated_by_end(facts: str) -> str:
    """An income, payment or deduction dated by one day given as its end_, not its start_
    ("paid by March 4th")."""
    for kind in ("income_", "payment_", "deduction_"):
        for e in _events(facts, kind):
            days = re.findall(rf'^start_\({e},("[\d-]+")\)\.$', facts, re.M)
            if len(days) == 1 and not re.search(rf"^end_\({e},", facts, re.M):
                facts = _set(facts, f"start_({e},{days[0]}).", f"end_({e},{days[0]}).")
    return facts


def _kinship_both_sides(facts: str) -> str:
    """A child's relationship to a parent stated from both sides ("Bob is Alice's son. Alice is
    Bob's mother.")."""
    for kind, other in (("son_", "father_"), ("daughter_", "mother_")):
        for e in _events(facts, kind):
            child, parent = _role(facts, "agent_", e), _role(facts, "patient_", e)
            if len(child) == 1 and len(parent) == 1:
                side = [
                    f"{other}({e}_side).",
                    f"agent_({e}_side,{parent[0]}).",
                    f"patient_({e}_side,{child[0]}).",
                ]
                side += [
                    ln.replace(f"({e}", f"({e}_side", 1)
                    for ln in _own_lines(facts, e)
                    if ln.startswith(("start_(", "end_("))
                ]
                facts += "\n" + "\n".join(side) + "\n"
    return facts


def _separation_of_spouses(facts: str) -> str:
    """A legal separation that names the marriage it ends stated as one of the two spouses
    ("Alice and Bob were divorced by a decree of ...")."""
    marriages = {
        m: _role(facts, "agent_", m) + _role(facts, "patient_", m)
        for m in _events(facts, "marriage_")
    }
    for e in _events(facts, "legal_separation_"):
        ended = [m for m in _role(facts, "patient_", e) if m in marriages]
        if len(ended) == 1 and len(marriages[ended[0]]) == 2:
            a, b = marriages[ended[0]]
            facts = _set(
                facts, f"patient_({e},{ended[0]}).", f"patient_({e},{a}).\npatient_({e},{b})."
            )
    return facts


def _decree_as_type(facts: str) -> str:
    """The decree of a legal separation given as its type_, not its agent_."""
    for e in _events(facts, "legal_separation_"):
        decrees = re.findall(rf'^agent_\({e},("[^"]*")\)\.$', facts, re.M)
        if len(decrees) == 1:
            facts = _set(facts, f"agent_({e},{decrees[0]}).", f"type_({e},{decrees[0]}).")
    return facts


PLACE_NAMES = {"usa": "United States of America", "maryland": "State of Maryland"}
PLACE_NAMES |= {"baltimore": "Baltimore, Maryland", "venezuela": "Bolivarian Republic of Venezuela"}


def _places_spelled_out(facts: str) -> str:
    """A place named by another of its names ("usa" as "United States of America")."""
    for short, long in PLACE_NAMES.items():
        facts = re.sub(
            rf'^((?:location_|patient_|country_)\(\w+,)"?{short}"?\)\.$',
            rf'\g<1>"{long}").',
            facts,
            flags=re.M,
        )
    return facts


def _distractor(facts: str) -> str:
    """An unrelated person with income in a year of the case and a home of his own."""
    years = re.findall(r'"(\d{4})-\d\d-\d\d"', facts)
    year = years[0] if years else "2017"
    return facts + (
        "\nincome_(zed_pay).\nagent_(zed_pay,zed).\namount_(zed_pay,41000).\n"
        f'start_(zed_pay,"{year}-05-05").\n'
        "residence_(zed_home).\nagent_(zed_home,zed).\npatient_(zed_home,zed_flat).\n"
    )


OTHER_RESTATEMENTS = {
    "amounts split": _split_amounts,
    "instalments": _instalments,
    "one-day spans": _one_day_spans,
    "stays split": _split_stays,
    "distractor": _distractor,
    "three parts": _three_parts,
    "income spans": _income_spans,
    "siblings": _siblings,
    "paid by check": _paid_by_check,
    "stay per person": _stay_per_person,
    "marriage ends at death": _marriage_ends_at_death,
    "birth by kinship": _birth_by_kinship,
    "states repeated": _states_repeated,
    "residence located": _residence_located,
    "farm service typed": _farm_service_typed,
    "deductions split": _deductions_split,
    "conditions split": _conditions_split,
    "payer implicit": _payer_implicit,
    "crew service": _crew_service,
    "dated by end": _dated_by_end,
    "kinship both sides": _kinship_both_sides,
    "separation of spouses": _separation_of_spouses,
    "decree as type": _decree_as_type,
    "places spelled out": _places_spelled_out,
}


def restated_by(source: str, kind: str) -> str:
    """The case with its facts restated by one of OTHER_RESTATEMENTS, in their order."""
    head, sep, rest = source.partition("% Facts")
    facts, sep2, test = rest.partition("% Test")
    # Clauses first: a last clause without its full stop gets one before anything follows it.
    body = "\n".join(_clauses(OTHER_RESTATEMENTS[kind]("\n".join(_clauses(facts)) + "\n")))
    return f"{head}{sep}\n{body}\n\n{sep2}{test}"


def _clauses(facts: str) -> list[str]:
    """The Facts section's clauses (a rule may span lines), comments dropped. A last clause
    without its full stop (two training files end so, the section's end closing it) gets one:
    moved up by the reversal, it would run into the next."""
    out, current = [], []
    for line in facts.splitlines():
        code = line.strip()
        if not code or code.startswith("%"):
            continue
        current.append(line)
        if re.sub(r"%[^\"']*$", "", code).rstrip().endswith("."):
            out.append("\n".join(current))
            current = []
    return out + (["\n".join(current) + "."] if current else [])


def restated(source: str) -> str:
    """The case with its facts restated as above, in reverse order (directives first)."""
    head, sep, rest = source.partition("% Facts")
    facts, sep2, test = rest.partition("% Test")
    clauses = _clauses(_restated_facts(facts))
    directives = [c for c in clauses if c.lstrip().startswith(":-")]
    others = [c for c in clauses if not c.lstrip().startswith(":-")]
    body = "\n".join(directives + others[::-1])
    return f"{head}{sep}\n{body}\n\n{sep2}{test}"


def _cases() -> list[Path]:
    root = sara_dir()
    if not (root / "cases").is_dir():
        missing(f"the SARA data at {root} (set MODX_SARA_DIR)")
    return sorted((root / "cases").glob("*.pl")) + sorted(OWN_CASES.glob("*.pl"))


async def test_restated_cases_get_the_same_answers(swipl: str) -> None:
    paths = _cases()
    assert len(paths) > 256
    changed: dict[str, list[int | float | str | None]] = {}
    restatements = 0
    with CaseExpander(swipl) as expander:
        async with ReasonerPool(statutes_rules(), size=2, swipl=swipl) as pool:
            for path in paths:
                source = path.read_text()
                answers: list[int | float | str | None] = []
                for text in (source, restated(source)):
                    case = parse_case_text(text, path.stem, expander=expander)
                    answer = await pool.query(case.facts, case.query.goal())
                    answers.append(answer.bindings.get("Answer", answer.bindings.get("Amount")))
                facts = source.partition("% Facts")[2].partition("% Test")[0]
                restatements += _restated_facts(facts) != facts
                if len(set(map(str, answers))) != 1:
                    changed[path.stem] = answers
    print(f"{restatements} of {len(paths)} cases restated beyond the order of their facts")
    assert restatements >= 150, restatements
    assert changed == {}


async def test_cases_restated_in_other_ways_get_the_same_answers(swipl: str) -> None:
    paths = _cases()
    changed: dict[str, list[int | float | str | None]] = {}
    restatements = dict.fromkeys(OTHER_RESTATEMENTS, 0)
    with CaseExpander(swipl) as expander:
        async with ReasonerPool(statutes_rules(), size=2, swipl=swipl) as pool:
            for path in paths:
                source = path.read_text()
                numeric = "tax(" in source.partition("% Test")[2]
                facts = source.partition("% Facts")[2].partition("% Test")[0]
                texts = {"original": source}
                for kind in OTHER_RESTATEMENTS:
                    numeric_only = (
                        "amounts split",
                        "instalments",
                        "three parts",
                        "deductions split",
                        "dated by end",
                    )
                    if kind in numeric_only and not numeric:
                        continue  # a binary question may name the payment split
                    text = restated_by(source, kind)
                    restatements[kind] += OTHER_RESTATEMENTS[kind](facts) != facts
                    texts[kind] = text
                answers: dict[str, int | float | str | None] = {}
                for kind, text in texts.items():
                    case = parse_case_text(text, path.stem, expander=expander)
                    answer = await pool.query(case.facts, case.query.goal())
                    answers[kind] = answer.bindings.get("Answer", answer.bindings.get("Amount"))
                for kind, got in answers.items():
                    if str(got) != str(answers["original"]):
                        changed[f"{path.stem} ({kind})"] = [answers["original"], got]
    print(f"restated: {restatements}")
    # Each kind restates many cases; the few that state siblings or births apart from kinship
    # fewer (measured: siblings 31, birth by kinship 17, every other kind 63 or more).
    few = {"siblings": 25, "birth by kinship": 15, "stay per person": 50}
    few["marriage ends at death"] = 50
    # Measured: farm service typed 15, deductions split 18, conditions split 38, payer
    # implicit 87, crew service 5 (services are mostly generated by rules, left alone).
    few |= {"farm service typed": 12, "deductions split": 15, "conditions split": 30}
    few |= {"payer implicit": 70, "crew service": 4}
    # Measured: 20 cases state a legal separation, 16 of them with a decree.
    few |= {"separation of spouses": 15, "decree as type": 12}
    few["places spelled out"] = 25  # measured: 29
    assert all(n >= few.get(kind, 100) for kind, n in restatements.items()), restatements
    assert changed == {}


def test_the_other_restatements_restate() -> None:
    source = (
        '% Facts\nincome_(i).\nagent_(i,alice).\namount_(i,101).\nstart_(i,"2017-03-04").\n'
        'residence_(r).\nagent_(r,alice).\npatient_(r,home).\nstart_(r,"2015-06-01").\n'
        "% Test\n:- tax(alice,2017,0).\n"
    )
    split = restated_by(source, "amounts split").splitlines()
    assert {"amount_(i,50).", "amount_(i_part_two,51).", 'start_(i_part_two,"2017-03-04").'} <= set(
        split
    ), split
    assert 'end_(i,"2017-03-04").' in restated_by(source, "one-day spans").splitlines()
    even = source.replace("amount_(i,101)", "amount_(i,100)")
    instalments = restated_by(even, "instalments").splitlines()
    assert {"amount_(i,50).", 'start_(i,"2017-03-03").', 'start_(i,"2017-03-04").'} <= set(
        instalments
    ), instalments
    stays = restated_by(source, "stays split").splitlines()
    assert {
        'end_(r,"2015-12-31").',
        'start_(r_later,"2016-01-01").',
        "patient_(r_later,home).",
    } <= set(stays), stays
    assert 'start_(zed_pay,"2017-05-05").' in restated_by(source, "distractor").splitlines()
    three = restated_by(source, "three parts").splitlines()
    assert {"amount_(i,33).", "amount_(i_second,33).", "amount_(i_third,35)."} <= set(three), three
    spans = restated_by(source, "income spans").splitlines()
    assert {'start_(i,"2017-01-01").', 'end_(i,"2017-03-04").'} <= set(spans), spans
    family = (
        "% Facts\nbrother_(b).\nagent_(b,carl).\npatient_(b,alice).\nresidence_(r).\n"
        "agent_(r,alice).\nagent_(r,carl).\npatient_(r,home).\nbirth_(cb).\nagent_(cb,carl).\n"
        'start_(cb,"2001-02-03").\nson_(s).\nagent_(s,carl).\npatient_(s,dan).\n'
        'start_(s,"2001-02-03").\nmarriage_(m).\nagent_(m,dan).\nagent_(m,eva).\n'
        'death_(d).\nagent_(d,eva).\nstart_(d,"2016-05-05").\npayment_(k).\namount_(k,1).\n'
        "% Test\n:- tax(alice,2017,0).\n"
    )
    assert "sibling_(b)." in restated_by(family, "siblings").splitlines()
    assert 'means_(k,"check").' in restated_by(family, "paid by check").splitlines()
    stays = restated_by(family, "stay per person").splitlines()
    assert {"agent_(r,alice).", "agent_(r_1,carl).", "patient_(r_1,home)."} <= set(stays), stays
    assert "agent_(r,carl)." not in stays
    assert 'end_(m,"2016-05-05").' in restated_by(family, "marriage ends at death").splitlines()
    unborn = restated_by(family, "birth by kinship").splitlines()
    assert "birth_(cb)." not in unborn and "son_(s)." in unborn, unborn
    twice = restated_by(family, "states repeated").splitlines()
    assert {"marriage_(m_again).", "agent_(m_again,dan).", "son_(s_again)."} <= set(twice), twice
    located = restated_by(family, "residence located").splitlines()
    assert "location_(r,home)." in located and "patient_(r,home)." not in located, located
    work = (
        '% Facts\nservice_(s1).\nagent_(s1,bob).\npatient_(s1,ann).\npurpose_(s1,"agricultural labor").\n'
        'start_(s1,"2017-05-01").\nservice_(s2).\nagent_(s2,cy).\npatient_(s2,ann).\n'
        'purpose_(s2,"agricultural labor").\nstart_(s2,"2017-05-01").\npayment_(p).\n'
        "agent_(p,ann).\npatient_(p,cy).\npurpose_(p,s2).\namount_(p,9).\n"
        'start_(p,"2017-05-02").\ndeduction_(d).\nagent_(d,ann).\namount_(d,9).\n'
        'start_(d,"2017-05-02").\nblindness_(b).\nagent_(b,ann).\nstart_(b,"2015-02-02").\n'
        "% Test\n:- tax(ann,2017,0).\n"
    )
    crew = restated_by(work, "crew service").splitlines()
    assert {"agent_(s1,cy).", "purpose_(p,s1)."} <= set(crew) and "service_(s2)." not in crew
    farm = restated_by(work, "farm service typed").splitlines()
    assert "agricultural_service_(s1)." in farm and "service_(s1)." not in farm, farm
    assert "agent_(p,ann)." not in restated_by(work, "payer implicit").splitlines()
    parts = restated_by(work, "deductions split").splitlines()
    assert {"amount_(d,4).", "amount_(d_part_two,5)."} <= set(parts), parts
    separated = (
        "% Facts\nmarriage_(m).\nagent_(m,ann).\nagent_(m,bo).\nlegal_separation_(l).\n"
        'agent_(l,"decree of divorce").\npatient_(l,m).\n% Test\n:- tax(ann,2017,0).\n'
    )
    apart = restated_by(separated, "separation of spouses").splitlines()
    assert {"patient_(l,ann).", "patient_(l,bo)."} <= set(apart) and "patient_(l,m)." not in apart
    abroad = '% Facts\nservice_(s).\nlocation_(s,usa).\nlocation_(s,"baltimore").\n% Test\n'
    named = restated_by(abroad, "places spelled out").splitlines()
    assert {
        'location_(s,"United States of America").',
        'location_(s,"Baltimore, Maryland").',
    } <= set(named)
    typed = restated_by(separated, "decree as type").splitlines()
    assert 'type_(l,"decree of divorce").' in typed, typed
    by_end = restated_by(work, "dated by end").splitlines()
    assert 'end_(p,"2017-05-02").' in by_end and 'start_(p,"2017-05-02").' not in by_end
    sides = restated_by(family, "kinship both sides").splitlines()
    assert {"father_(s_side).", "agent_(s_side,dan).", "patient_(s_side,carl)."} <= set(sides)
    cut = restated_by(work, "conditions split").splitlines()
    assert {'end_(b,"2015-12-31").', 'start_(b_later,"2016-01-01").'} <= set(cut), cut


def test_the_restatement_restates() -> None:
    source = (
        "% Facts\nmarriage_(m).\nagent_(m,alice).\nagent_(m,bob).\n"
        'son_(s).\nagent_(s,carl).\npatient_(s,alice).\nstart_(s,"2001-02-03").\n'
        'death_(d).\nagent_(d,bob).\nstart_(d,"2016-05-05").\n'
        "residence_(r).\nagent_(r,alice).\npatient_(r,home).\n"
        "payment_(k).\nagent_(k,alice).\npurpose_(k,home).\namount_(k,1).\n"
        "income_(i).\nagent_(i,alice).\namount_(i,100).\n% Test\n:- tax(alice,2017,0).\n"
    )
    text = restated(source)
    for fact in (
        "patient_(m,bob).",
        "father_(s).",
        "agent_(s,alice).",
        "patient_(s,carl).",
        "payment_(i).",
        "patient_(i,alice).",
        "patient_(d,bob).",
        "patient_(k,home).",
    ):
        assert fact in text.splitlines(), (fact, text)
    facts = text.split("% Facts")[1].split("% Test")[0].split()
    assert facts[0] == "amount_(i,100)." and facts[-1] == "marriage_(m)."
