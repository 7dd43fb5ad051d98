"""A name never carries meaning the facts do not state: every SARA training case, its events
and individuals renamed (to opaque ids, to quoted names with capitals and spaces, and to words
that are Prolog's or the formalization's own: true, null, tax, member, gross_income, ...), gets
the same answer as the original. A held-out case names its people and events differently;
the answer must not depend on it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ontology import CaseExpander, ReasonerPool, parse_case_text, sara_dir, statutes_rules
from tests.fixtures.services import missing

pytestmark = pytest.mark.prolog

# Events are the subjects of typing facts; individuals the atoms that fill their roles.
_TYPED = re.compile(r"^[a-z_]+_\(([a-z][A-Za-z0-9_]*)\)\.", re.M)
_ROLE = re.compile(
    r"^(?:agent_|patient_|beneficiary_|purpose_|location_|country_)"
    r"\(([a-z][A-Za-z0-9_]*),([a-z][A-Za-z0-9_]*)\)\.",
    re.M,
)
_STRING = re.compile(r'("(?:[^"\\]|\\.)*")')
_ATOM = re.compile(r"\b([a-z][A-Za-z0-9_]*)\b")


# Words an outsider may well give a person or a place, which are also JSON constants, Prolog
# built-ins or predicates of ours (a person named true came back from the expander as a bool).
RESERVED = [
    "true", "false", "null", "tax", "member", "fail", "income", "year", "spouse",
    "gross_income", "s151_b", "s7703", "married_on", "abode", "call", "halt", "not", "end",
]  # fmt: skip


def renamed(source: str, quoted: bool, reserved: bool = False) -> str:
    """The case with every event and individual renamed (strings left alone); with
    ``reserved``, the individuals (not the events) get the RESERVED words, as long as they
    last, each one the case does not already use."""
    head, sep, rest = source.partition("% Facts")
    events = {m.group(1) for m in _TYPED.finditer(rest)}
    names = set(events)
    for match in _ROLE.finditer(rest):
        names |= {match.group(1), match.group(2)}
    mapping = {
        name: f"'{name.title().replace('_', ' ')} No {i}'" if quoted else f"z{i}q"
        for i, name in enumerate(sorted(names))
    }
    if reserved:
        free = [w for w in RESERVED if not re.search(rf"\b{w}\b", rest)]
        people = sorted(names - events - {m.group(1) for m in _ROLE.finditer(rest)})
        mapping = dict(zip(people, free, strict=False))

    def line(text: str) -> str:
        parts = _STRING.split(text)
        for i in range(0, len(parts), 2):  # outside strings
            parts[i] = _ATOM.sub(lambda m: mapping.get(m.group(1), m.group(1)), parts[i])
        return "".join(parts)

    return head + sep + "\n".join(line(t) for t in rest.splitlines()) + "\n"


async def test_renamed_cases_get_the_same_answers(swipl: str) -> None:
    root = sara_dir()
    if not (root / "cases").is_dir():
        missing(f"the SARA data at {root} (set MODX_SARA_DIR)")
    paths: list[Path] = sorted((root / "cases").glob("*.pl"))
    assert len(paths) == 256
    changed: dict[str, list[int | float | str | None]] = {}
    with CaseExpander(swipl) as expander:
        async with ReasonerPool(statutes_rules(), size=2, swipl=swipl) as pool:
            for path in paths:
                source = path.read_text()
                answers: list[int | float | str | None] = []
                for text in (
                    source,
                    renamed(source, False),
                    renamed(source, True),
                    renamed(source, False, reserved=True),
                ):
                    case = parse_case_text(text, path.stem, expander=expander)
                    answer = await pool.query(case.facts, case.query.goal())
                    answers.append(answer.bindings.get("Answer", answer.bindings.get("Amount")))
                if len(set(map(str, answers))) != 1:
                    changed[path.stem] = answers
    assert changed == {}


def test_the_renaming_renames() -> None:
    source = (
        "% Facts\nmarriage_(alice_and_bob).\nagent_(alice_and_bob,alice).\n"
        'start_(alice_and_bob,"2017-02-03").\n% Test\n:- s7703(alice,bob,_,_,_,_,_,_,2017).\n'
    )
    opaque = renamed(source, False)
    assert "alice" not in opaque and '"2017-02-03"' in opaque
    assert "'Alice And Bob No 1'" in renamed(source, True)
    reserved = renamed(source, False, reserved=True)
    assert "agent_(alice_and_bob,true)." in reserved and "s7703(true,bob," in reserved
