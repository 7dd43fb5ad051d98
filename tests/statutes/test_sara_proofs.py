"""Proof trees of tax/3: citations name real subsections, and the values add up.

For a spread of numeric cases (joint return, surviving spouse, head of household, itemized
deductions with §68 and the §151(d)(3) phaseout, §7703(b), agricultural and domestic employers,
wage exclusions), and for every numeric case of our own (tests/legal/cases), ``prove_json/2``
must return a JSON tree whose root is ``tax(P, Y, Gold)``, whose every citation parses to a
subsection path present in the statute text, and whose declared arithmetic (``combine``) holds
with exact fractions.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.statutes.sara import (
    _TEST_GOAL,
    NumericCase,
    case_params,
    citation_path,
    exact,
    numeric_cases,
    require_sara,
    round_half_up,
    run_case_goal,
    statute_paths,
)

pytestmark = pytest.mark.prolog

PROOF_CASES = [
    "tax_case_3",
    "tax_case_10",
    "tax_case_20",
    "tax_case_47",
    "tax_case_78",
    "tax_case_83",
    "tax_case_26",
    "tax_case_12",
    "tax_case_75",
    "tax_case_4",
]
OWN = Path(__file__).resolve().parents[1] / "legal" / "cases"


def own_numeric_cases() -> list[NumericCase]:
    """Our own numeric cases (tests/legal/cases), worked by hand from the statute text: their
    proofs go through the branches no training case reaches."""
    cases = []
    for path in sorted(OWN.glob("*.pl")):
        match = _TEST_GOAL.search(path.read_text())
        if match is not None:
            person, year, gold = match.group(1), int(match.group(2)), int(match.group(3))
            cases.append(NumericCase(f"own:{path.stem}", path, person, year, gold))
    return cases


OWN_CASES = own_numeric_cases()
CASES = [c for c in numeric_cases() if c.name in PROOF_CASES] + OWN_CASES

Node = dict[str, Any]


@pytest.fixture(scope="module")
def section_paths() -> dict[str, set[tuple[str, ...]]]:
    root = require_sara()
    return {
        path.stem.removeprefix("section"): statute_paths(path.read_text())
        for path in (root / "statutes").glob("section*.txt")
    }


def walk(node: Node) -> list[Node]:
    out = [node]
    for child in node["children"]:
        out.extend(walk(child))
    return out


def valued(children: list[Node]) -> list[Fraction]:
    return [v for v in (exact(c) for c in children) if v is not None]


def check_combine(node: Node) -> None:
    how = node.get("combine")
    if how is None:
        return
    value = exact(node)
    parts = valued(node["children"])
    where = f"{node['goal']} ({how})"
    if how == "sum":
        assert value == sum(parts, Fraction(0)), where
    elif how == "difference":
        assert parts and value == parts[0] - sum(parts[1:], Fraction(0)), where
    elif how == "same":
        assert len(parts) == 1 and value == parts[0], where
    elif how == "last":
        assert parts and value == parts[-1], where
    elif how == "round":
        assert len(parts) == 1 and value == round_half_up(parts[0]), where
    elif how == "count":
        assert value == len(node["children"]), where
    elif how == "set":
        assert value is None, where
    else:
        pytest.fail(f"unknown combine {how!r} in {node['goal']}")


@pytest.fixture(scope="module")
def proofs(swipl: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Node]:
    require_sara()
    workdir: Path = tmp_path_factory.mktemp("sara_proofs")
    out: dict[str, Node] = {}
    for case in CASES:
        goal = f'prove_json("tax({case.person},{case.year},A)", J), write(J), nl'
        proc = run_case_goal(swipl, case.path, goal, workdir)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[case.name] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def test_every_proof_case_ran(proofs: dict[str, Node]) -> None:
    assert len(OWN_CASES) >= 30
    names = PROOF_CASES + [c.name for c in OWN_CASES]
    assert sorted(c.name for c in CASES) == sorted(names)
    assert sorted(proofs) == sorted(names)


@pytest.mark.parametrize("case", case_params(CASES))
def test_proof_root_and_top_level_sum(case: NumericCase, proofs: dict[str, Node]) -> None:
    root = proofs[case.name]
    assert root["goal"] == f"tax({case.person},{case.year},{case.gold})"
    assert root["value"] == case.gold
    income, excise = root["children"]
    assert income["goal"].startswith("income_tax_dollars(")
    assert excise["goal"].startswith("excise_tax_dollars(")
    assert income["value"] + excise["value"] == case.gold
    # the §1 tax and the §3301 tax, rounded to whole dollars
    (s1,) = income["children"]
    assert s1["citation"] == "§1"
    assert round_half_up(exact(s1) or Fraction(0)) == income["value"]
    (s3301,) = excise["children"]
    assert s3301["citation"] == "§3301"
    wages = valued(s3301["children"])
    assert exact(s3301) == Fraction(6, 100) * wages[0]


@pytest.mark.parametrize("case", case_params(CASES))
def test_proof_citations_exist(
    case: NumericCase,
    proofs: dict[str, Node],
    section_paths: dict[str, set[tuple[str, ...]]],
) -> None:
    cited = 0
    for node in walk(proofs[case.name]):
        assert set(node) >= {"goal", "citation", "children", "value"}, node["goal"]
        citation = node["citation"]
        if citation is None or citation == "fact":
            continue
        parsed = citation_path(citation)
        assert parsed is not None, f"malformed citation {citation!r} at {node['goal']}"
        section, path = parsed
        assert section in section_paths, f"no section {section} ({citation})"
        assert not path or path in section_paths[section], (
            f"{citation} is not a subsection of section {section} ({node['goal']})"
        )
        cited += 1
    assert cited > 10


@pytest.mark.parametrize("case", case_params(CASES))
def test_proof_values_add_up(case: NumericCase, proofs: dict[str, Node]) -> None:
    combined = 0
    for node in walk(proofs[case.name]):
        check_combine(node)
        combined += "combine" in node
    assert combined >= 5


@pytest.mark.parametrize("case", case_params(CASES))
def test_proof_taxable_income(case: NumericCase, proofs: dict[str, Node]) -> None:
    """Taxable income = gross income minus the deductions, in the §63 node."""
    nodes = [
        n for n in walk(proofs[case.name]) if n["goal"].startswith("s63(") and not n.get("repeat")
    ]
    assert len(nodes) == 1, "one §63 node (later ones are marked repeat)"
    (s63,) = nodes
    (branch,) = [
        c
        for c in s63["children"]
        if c["citation"] in ("§63(a)", "§63(b)") and c["goal"].startswith(("s63_a(", "s63_b("))
    ]
    assert branch["combine"] == "difference"
    parts = valued(branch["children"])
    assert len(parts) == 3
    assert exact(branch) == parts[0] - parts[1] - parts[2] == exact(s63)


def test_proof_repeats_are_given_earlier(proofs: dict[str, Node]) -> None:
    """A node marked repeat has no children, and the same goal appears fully before it."""
    for name, root in proofs.items():
        full: set[tuple[str, object, object]] = set()
        for node in walk(root):
            key = (node["goal"], node["citation"], node["value"])
            if node.get("repeat"):
                assert not node["children"], (name, node["goal"])
                assert key in full, (name, node["goal"])
            elif node["children"]:
                full.add(key)


def test_proof_facts_and_negations(proofs: dict[str, Node]) -> None:
    for name, root in proofs.items():
        nodes = walk(root)
        facts = [n for n in nodes if n["citation"] == "fact"]
        assert facts, name
        assert all(not n["children"] for n in facts)
        negations = [n for n in nodes if n.get("negation")]
        assert negations, name
        assert all(n["goal"].startswith("\\+") for n in negations)


def test_every_declared_citation_exists(
    swipl: str, section_paths: dict[str, set[tuple[str, ...]]]
) -> None:
    """Each statutory node of the formalization cites a subsection present in the text."""
    import subprocess

    from tests.statutes.sara import STATUTES_PL, prolog_atom

    goal = (
        f"consult({prolog_atom(STATUTES_PL)}), "
        "forall(statute_node(G, C, _), (functor(G, N, A), format('~w/~w ~w~n', [N, A, C])))"
    )
    proc = subprocess.run(
        [swipl, "-q", "-g", goal, "-t", "halt"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) > 150
    for line in lines:
        predicate, citation = line.split(" ", 1)
        parsed = citation_path(citation)
        assert parsed is not None, line
        section, path = parsed
        assert not path or path in section_paths[section], line
        # the predicate is named after its subsection: s<section>_<path>[__<concept>]
        name = predicate.split("/")[0].split("__")[0]
        assert name == "s" + "_".join([section, *path]), line
