"""The trace of a failed proof is bounded by its size, not by a depth: a rule that recurses
thousands of levels before failing gets a trace that stops with a "truncated" node, within the
budget, and that Python reads and renders (``proof.pl``: ``failure_trace/2``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ontology.reasoner.models import ProofNode
from ontology.reasoner.readable import _trace
from tests.statutes.sara import STATUTES_PL, prolog_atom

pytestmark = pytest.mark.prolog

# A provision that holds only after 2,000 steps of itself, and never does (not tax law).
TOY = """
:- multifile statutes:cites/3.
statutes:cites(toy_chain/1, '\u00a71(a)', 0).
statutes:toy_chain(N) :- N < 2000, M is N + 1, toy_chain(M).
"""


def trace_of(swipl: str, tmp_path: Path, goal: str) -> list[ProofNode]:
    toy = tmp_path / "toy.pl"
    toy.write_text(TOY, encoding="utf-8")
    proc = subprocess.run(
        [
            swipl,
            "-q",
            "-g",
            f"use_module(library(http/json)), consult({prolog_atom(STATUTES_PL)}), "
            f"consult({prolog_atom(toy)}), statutes:failure_trace({goal}, Ns), "
            "json_write_dict(current_output, Ns, [width(0)])",
            "-t",
            "halt",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [ProofNode.model_validate(n) for n in json.loads(proc.stdout)]


def test_a_deep_failure_is_traced_until_the_size_bound_and_says_where_it_stops(
    swipl: str, tmp_path: Path
) -> None:
    nodes = trace_of(swipl, tmp_path, "toy_chain(0)")
    walked = [n for root in nodes for _, n in root.walk()]
    failed = [n for n in walked if n.failed]
    # Far deeper than the four levels the trace once stopped at, and cut, not endless.
    assert 20 < len(failed) <= 600
    assert sum(n.truncated for n in walked) == 1
    assert max(d for root in nodes for d, _ in root.walk()) < 200
    lines = _trace(nodes)
    assert any("the trace's size limit" in line for line in lines)
    assert sum("fails: \u00a71(a)" in line for line in lines) == len(
        [n for n in failed if n.citation == "\u00a71(a)"]
    )


def test_each_failed_level_carries_its_arithmetic(swipl: str, tmp_path: Path) -> None:
    nodes = trace_of(swipl, tmp_path, "toy_chain(1999)")
    walked = [n for root in nodes for _, n in root.walk()]
    # toy_chain(1999) -> toy_chain(2000), whose 2000 < 2000 fails, shown evaluated.
    assert [n.evaluated for n in walked if n.evaluated] == ["2000 < 2000"]
    assert not any(n.truncated for n in walked)
