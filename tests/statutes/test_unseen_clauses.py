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
    # Measured: 160 right, 5 wrong (three are the dataset's own disagreements), 11 refused;
    # 139/12/25 before services, payments, plans, households, marriages and parties were
    # placed by kind.
    assert right >= 158 and wrong <= 5, (right, wrong, refused)
    assert right + wrong + refused == 176
