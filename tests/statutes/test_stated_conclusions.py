"""A statutory conclusion the case states ("Bob is married under section 7703") is an
assumption: the node is taken as given wherever the statutes reach it, whether the answer is
computed alone (sara_entail/3 called directly) or with its proof (prove/2, where the node
says "assumption": true)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.statutes.sara import STATUTES_PL, prolog_atom

pytestmark = pytest.mark.prolog

# No marriage event: that Bob is married is only stated, as a conclusion.
FACTS = """
joint_return_(jr). agent_(jr, bob). agent_(jr, carol).
start_(jr, "2019-01-01"). end_(jr, "2019-12-31").
"""
QUESTION = '"s1_a(bob,2019,_,1500)"'  # §1(a)(i): 15% of $10,000 of taxable income
STATED = '"s7703(bob,carol,_,_,_,_,_,_,2019).\\ns63(bob,2019,10000)."'
INCOME_ONLY = '"s63(bob,2019,10000)."'


def run(swipl: str, tmp_path: Path, goal: str) -> str:
    facts = tmp_path / "case.pl"
    facts.write_text(FACTS)
    proc = subprocess.run(
        [
            swipl,
            "-q",
            "-g",
            f"use_module(library(http/json)), consult({prolog_atom(STATUTES_PL)}), consult({prolog_atom(facts)}), {goal}",
            "-t",
            "halt",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_stated_marriage_makes_the_joint_return_without_the_proof(
    swipl: str, tmp_path: Path
) -> None:
    out = run(
        swipl,
        tmp_path,
        f"statutes:sara_entail({QUESTION}, {STATED}, A1), writeln(A1), "
        f"statutes:sara_entail({QUESTION}, {INCOME_ONLY}, A2), writeln(A2)",
    )
    # Stated married: the joint-return schedule applies; not stated: no marriage at all.
    assert out.split() == ["Entailment", "Contradiction"]


def test_the_proof_marks_the_stated_marriage_as_an_assumption(swipl: str, tmp_path: Path) -> None:
    out = run(
        swipl,
        tmp_path,
        f"statutes:prove(sara_entail({QUESTION}, {STATED}, A), P), writeln(A), "
        "json:json_write_dict(current_output, P, [width(0)])",
    )
    answer, proof = out.split("\n", 1)
    assert answer == "Entailment"
    assumed: list[tuple[str, object]] = []

    def walk(node: dict[str, object]) -> None:
        if node.get("assumption"):
            assumed.append((str(node["goal"]), node["citation"]))
        for child in node.get("children", []):  # type: ignore[attr-defined]
            walk(child)

    walk(json.loads(proof))
    assert ("s7703(bob,carol,2019)", "§7703") in assumed
    assert ("s63(bob,2019,10000)", "§63") in assumed
