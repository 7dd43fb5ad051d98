"""Helpers for the statute tests: locate SARA, read cases, run SWI-Prolog.

The data directory is ``$MODX_SARA_DIR``, else ``../shared/data/sara`` relative to the repository.
To run a case: consult ``ontology/statutes/statutes.pl``, then the case's facts (the case file
without the ``:- [statutes/prolog/init].`` directive, the ``% Test`` goal and ``halt``), then a
query.  ``run_case_goal`` does so in a fresh ``swipl`` process; ``run_tax_batch`` runs many cases
in one process, unloading each case's facts (and checking that none is left) before the next.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ontology.places import gazetteer_facts
from tests.fixtures.services import missing

REPO = Path(__file__).resolve().parents[2]
STATUTES_PL = REPO / "ontology" / "statutes" / "statutes.pl"

_TEST_GOAL = re.compile(r"^:-\s*tax\(\s*(\w+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s*\.", re.M)
_INIT = re.compile(r"^\s*:-\s*\[\s*statutes/prolog/init\s*\]\s*\.")
_HALT = re.compile(r"^\s*:-\s*halt\s*\.")


def sara_dir() -> Path | None:
    """The SARA data directory, or None when it is not available."""
    env = os.environ.get("MODX_SARA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data" / "sara")
    for path in candidates:
        if (path / "cases").is_dir() and (path / "statutes").is_dir():
            return path
    return None


def require_sara() -> Path:
    """The SARA data directory; without it the test skips on a laptop and fails in CI."""
    root = sara_dir()
    if root is None:
        missing("the SARA data (set MODX_SARA_DIR)")
    assert root is not None
    return root


def case_params(cases: Sequence[NumericCase]) -> list[Any]:
    """Parameters for a table of cases read from the data. Without the data, one parameter
    stands for them all (its test then calls ``require_sara``): the table is never empty, and
    never silently short."""
    if not cases:
        return [pytest.param(None, id="sara-data-missing")]
    return [pytest.param(case, id=case.name) for case in cases]


@dataclass(frozen=True)
class NumericCase:
    """A numeric case: ``tax(person, year, gold)``."""

    name: str
    path: Path
    person: str
    year: int
    gold: int


def numeric_cases() -> list[NumericCase]:
    """The numeric cases (``tax_case_N.pl``), ordered by N; [] without data."""
    root = sara_dir()
    if root is None:
        return []
    cases = []
    for path in sorted(
        (root / "cases").glob("tax_case_*.pl"), key=lambda p: int(p.stem.rsplit("_", 1)[1])
    ):
        text = path.read_text()
        match = _TEST_GOAL.search(text)
        if match is None:
            continue
        question = next(
            (
                line
                for line in text.splitlines()[text.splitlines().index("% Question") + 1 :]
                if line.strip()
            ),
            "",
        )
        gold = int(question.rsplit("$", 1)[1]) if "$" in question else int(match.group(3))
        cases.append(NumericCase(path.stem, path, match.group(1), int(match.group(2)), gold))
    return cases


def case_facts(text: str) -> str:
    """The facts of a case file: without the init directive, the ``% Test`` part and halt;
    then what the gazetteer says of its places and employers (``ontology/places.py``), as the
    pipeline adds it at query time."""
    out = []
    for line in text.splitlines():
        if line.startswith("% Test"):
            break
        if _INIT.match(line) or _HALT.match(line):
            continue
        out.append(line)
    body = "\n".join(out) + "\n"
    stated = [t.strip() for t in re.split(r"\.\s*\n", body) if t.strip()]
    stated = [t.split("\n")[-1] for t in stated]  # drop comment lines before a fact
    return body + "".join(f"{fact}.\n" for fact in gazetteer_facts(stated))


def prolog_atom(path: Path) -> str:
    """A quoted Prolog atom for a file path."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def run_case_goal(
    swipl: str, case_path: Path, goal: str, workdir: Path, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Consult the statutes and the case's facts, then run ``goal`` (which should print)."""
    facts = workdir / (case_path.stem + ".facts.pl")
    facts.write_text(case_facts(case_path.read_text()))
    full = (
        f"consult({prolog_atom(STATUTES_PL)}), consult({prolog_atom(facts)}), "
        f"catch(({goal}), E, (print_message(error, E), fail))"
    )
    return subprocess.run(
        [swipl, "-q", "-g", full, "-t", "halt"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tax_goal(person: str, year: int) -> str:
    """Prolog goal printing ``<amount> <cpu ms>`` for tax(person, year, A)."""
    return (
        f"statistics(cputime, T0), (tax({person}, {year}, A) -> true ; A = failed), "
        f"statistics(cputime, T1), Ms is (T1 - T0) * 1000, format('~w ~6f~n', [A, Ms])"
    )


@dataclass(frozen=True)
class TaxOutcome:
    """What ``tax/3`` answered for a case, and the CPU time the query took."""

    answer: str
    cpu_ms: float | None


def run_tax_batch(
    swipl: str, cases: list[NumericCase], workdir: Path, timeout: float = 600.0
) -> tuple[dict[str, TaxOutcome], str]:
    """Run ``tax(Person, Year, A)`` for each case in one ``swipl`` process.

    Before each case the fact base must be empty (``case_fact_base_empty/0``); the case's facts
    are consulted (``load_case_facts/1``), queried, then unloaded (``unload_case_facts/1``).
    Returns the outcomes by case name (missing: the process died first) and the stderr text.
    """
    specs = []
    for case in cases:
        facts = workdir / (case.path.stem + ".facts.pl")
        facts.write_text(case_facts(case.path.read_text()))
        specs.append(
            f"case({prolog_atom(Path(case.name))}, {prolog_atom(facts)}, "
            f"{case.person}, {case.year})"
        )
    goal = (
        f"consult({prolog_atom(STATUTES_PL)}), "
        f"forall(member(case(Name, File, P, Y), [{', '.join(specs)}]), "
        "( ( case_fact_base_empty -> Clean = clean ; Clean = dirty ), "
        "catch(load_case_facts(File), E1, print_message(error, E1)), "
        "statistics(cputime, T0), "
        "( catch(tax(P, Y, A), E, (print_message(error, E), A = error)) -> true ; A = failed ), "
        "statistics(cputime, T1), Ms is (T1 - T0) * 1000, "
        "format('~w ~w ~w ~6f~n', [Name, Clean, A, Ms]), "
        "unload_case_facts(File) ))"
    )
    proc = subprocess.run(
        [swipl, "-q", "-g", goal, "-t", "halt"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out: dict[str, TaxOutcome] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        name, clean, answer, ms = parts
        out[name] = TaxOutcome(answer if clean == "clean" else f"dirty:{answer}", float(ms))
    return out, proc.stderr


def run_goal_batch(
    swipl: str, items: list[tuple[str, Path, str]], workdir: Path, timeout: float = 600.0
) -> tuple[dict[str, bool | None], str]:
    """Run ``(name, case file, goal)`` items in one ``swipl`` process: for each, consult the
    case's facts, expand them, run the goal once, unload.  Returns name -> True / False (None
    if the fact base was not empty beforehand) and the stderr text."""
    specs = []
    for name, path, goal in items:
        facts = workdir / (path.stem + ".facts.pl")
        facts.write_text(case_facts(path.read_text()))
        specs.append(f"item({prolog_atom(Path(name))}, {prolog_atom(facts)}, ({goal}))")
    goal = (
        f"consult({prolog_atom(STATUTES_PL)}), "
        f"forall(member(item(Name, File, G), [{', '.join(specs)}]), "
        "( ( case_fact_base_empty -> Clean = clean ; Clean = dirty ), "
        "catch(load_case_facts(File), E1, print_message(error, E1)), "
        "( catch(G, E, (print_message(error, E), fail)) -> R = yes ; R = no ), "
        "format('~w ~w ~w~n', [Name, Clean, R]), "
        "unload_case_facts(File) ))"
    )
    proc = subprocess.run(
        [swipl, "-q", "-g", goal, "-t", "halt"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out: dict[str, bool | None] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = None if parts[1] != "clean" else parts[2] == "yes"
    return out, proc.stderr


def exact(node: dict[str, object]) -> Fraction | None:
    """A proof node's value as an exact fraction (None if it has none)."""
    text = node.get("exact")
    if isinstance(text, str):
        num, den = text.split("r")
        return Fraction(int(num), int(den))
    value = node.get("value")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10**6)
    return None


def round_half_up(x: Fraction) -> int:
    """Nearest integer, halves away from zero (as Prolog's round/1)."""
    sign = -1 if x < 0 else 1
    return sign * int((abs(x) + Fraction(1, 2)) // 1)


_LABEL = re.compile(r"^(\s*)\(([A-Za-z0-9]+)\)")
_INLINE_ROMAN = re.compile(r"(?<![\w)])\(([ivx]+)\)")
_CITATION = re.compile(r"^§(\d+)((?:\([A-Za-z0-9]+\))*)$")


def statute_paths(text: str) -> set[tuple[str, ...]]:
    """Subsection paths of a statute text, from its labels and indentation.

    ``(a)`` at the margin, ``(1)`` indented under it, and so on; a label at the same or a smaller
    indentation closes the deeper ones.  Roman numerals enumerated inside a paragraph's sentence
    ("because of (i) death, or (ii) retirement") count as its children.
    """
    paths: set[tuple[str, ...]] = set()
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        match = _LABEL.match(line)
        if match is None:
            continue
        indent = len(match.group(1).expandtabs(4))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group(2)))
        path = tuple(label for _, label in stack)
        paths.add(path)
        for inline in _INLINE_ROMAN.findall(line[match.end() :]):
            paths.add((*path, inline))
    return paths


def citation_path(citation: str) -> tuple[str, tuple[str, ...]] | None:
    """``'§63(c)(2)(A)'`` -> ``('63', ('c', '2', 'A'))``; None if malformed."""
    match = _CITATION.match(citation)
    if match is None:
        return None
    return match.group(1), tuple(re.findall(r"\(([A-Za-z0-9]+)\)", match.group(2)))
