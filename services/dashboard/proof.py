"""Legal runs: find the answer, proof tree and explanation in a run's output.

A legal pipeline ends with an output like ``{"answer": ..., "proof": {goal, citation, value,
children, facts}, "explanation": "..."}`` (see ``ontology/statutes/proof.pl``). The run page
shows the proof as a collapsible tree. The tree is read defensively (it is agent output): nodes
are capped and anything unexpected is shown as text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ontology.reasoner.models import ProofNode as ReasonerProofNode
from ontology.reasoner.readable import readable_proof
from services.db.models import StepRow

MAX_NODES = 3000
OPEN_DEPTH = 2
"""Levels of the tree shown open at first; deeper ones open on click."""


@dataclass
class ProofNode:
    """One step of a proof."""

    goal: str
    citation: str | None
    value: Any
    facts: list[str]
    children: list[ProofNode] = field(default_factory=list)
    depth: int = 0
    negated: bool = False

    @property
    def is_fact(self) -> bool:
        """A leaf taken from the case's facts."""
        return self.citation == "fact"

    @property
    def open(self) -> bool:
        """Shown expanded at first."""
        return self.depth < OPEN_DEPTH


@dataclass
class LegalResult:
    """What the run page shows for a legal run."""

    answer: Any
    proof: ProofNode
    explanation: str | list[str] | None
    """The proof rendered for a person by the same renderer as the CLI and the API (the
    agent's own text when the proof cannot be read)."""
    source: str
    nodes: int
    citations: list[str]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _build(raw: Any, depth: int, budget: list[int]) -> ProofNode:
    budget[0] -= 1
    if not isinstance(raw, dict):
        return ProofNode(goal=_text(raw), citation=None, value=None, facts=[], depth=depth)
    citation = raw.get("citation")
    goal = _text(raw.get("goal", "?"))
    negated = bool(raw.get("negation")) or goal.startswith("\\+")
    if goal.startswith("\\+"):
        goal = "not " + goal[2:].lstrip()  # checked, and found not to hold
    facts: list[Any] = raw["facts"] if isinstance(raw.get("facts"), list) else []
    node = ProofNode(
        goal=goal,
        citation=None if citation in (None, "") else _text(citation),
        value=raw.get("value"),
        facts=[_text(f) for f in facts],
        depth=depth,
        negated=negated,
    )
    for child in raw.get("children") or []:
        if budget[0] <= 0:
            break
        node.children.append(_build(child, depth + 1, budget))
    return node


def statute_order(citation: str) -> list[tuple[int, str]]:
    """Sort key that reads ``§63(c)(2)`` as numbers where it has them: §2 before §63(c)."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in re.findall(r"\d+|\D+", citation)]


def _citations(node: ProofNode, into: dict[str, None]) -> None:
    if node.citation and not node.is_fact:
        into.setdefault(node.citation, None)
    for child in node.children:
        _citations(child, into)


def _readable(holder: dict[str, Any]) -> str | None:
    """The proof as the one renderer shows it (``ontology.reasoner.readable``)."""
    try:
        proof = ReasonerProofNode.model_validate(holder["proof"])
    except ValidationError:
        return None
    answer = holder.get("answer")
    return readable_proof(proof, answer if isinstance(answer, (int, str)) else None).text()


def _candidate(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("proof"), dict)


def legal_result(output: Any, steps: Sequence[StepRow]) -> LegalResult | None:
    """The proof in the run's output, or else in the latest step output that holds one."""
    found: tuple[dict[str, Any], str] | None = None
    if _candidate(output):
        found = (output, "run output")
    else:
        for step in sorted(
            steps, key=lambda s: (s.finished_at is not None, s.finished_at), reverse=True
        ):
            if _candidate(step.output):
                found = (step.output, f"output of step {step.step_id}")
                break
    if found is None:
        return None
    holder, source = found
    budget = [MAX_NODES]
    root = _build(holder["proof"], 0, budget)
    citations: dict[str, None] = {}
    _citations(root, citations)
    explanation: str | list[str] | None = _readable(holder)
    if explanation is None:
        stored = holder.get("explanation")
        if isinstance(stored, list):
            explanation = [_text(line) for line in stored]
        elif stored is not None:
            explanation = _text(stored)
    return LegalResult(
        answer=holder.get("answer"),
        proof=root,
        explanation=explanation,
        source=source,
        nodes=MAX_NODES - budget[0],
        citations=sorted(citations, key=statute_order),
    )
