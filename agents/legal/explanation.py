"""Explanations of the legal agent's answers: the one renderer of proofs for people
(``ontology.reasoner.readable``), applied to an answer, with the question on top.

The CLI (``modx legal explain``, ``modx legal eval --explain``), the ``legal.explain``
capability (hence the API's run output) and the dashboard's proof view all render through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ontology.reasoner.models import Answer, ProofNode
from ontology.reasoner.readable import ReadableProof, readable_proof


@dataclass(frozen=True)
class ExplanationLine:
    """One applied step, as shown."""

    depth: int
    text: str
    citation: str | None


def _root(proof: ProofNode | Mapping[str, Any]) -> ProofNode:
    return proof if isinstance(proof, ProofNode) else ProofNode.model_validate(proof)


def answer_value(answer: Answer) -> object:
    """The answer a proof supports: the tax (``Amount``) or the verdict (``Answer``)."""
    for name in ("Amount", "Answer"):
        if name in answer.bindings:
            return answer.bindings[name]
    return None


def readable(proof: ProofNode | Mapping[str, Any], answer: object = None) -> ReadableProof:
    """The readable form of a proof (dict or ``ProofNode``)."""
    return readable_proof(_root(proof), answer)


def explanation_lines(proof: ProofNode | Mapping[str, Any]) -> list[ExplanationLine]:
    """The applied steps of a proof, depth first."""
    return [ExplanationLine(s.depth, s.text, s.citation) for s in readable(proof).applied]


def explain(proof: ProofNode | Mapping[str, Any], answer: object = None) -> str:
    """The explanation of a proof as text: the answer, the provisions applied with their
    arithmetic, then those checked and not applicable."""
    return readable(proof, answer).text()


def explain_answer(answer: Answer, *, question: str | None = None) -> str:
    """``explain`` for an answer, with the question on top when given."""
    head = [question] if question else []
    return "\n".join([*head, explain(answer.proof, answer_value(answer))])


__all__ = [
    "ExplanationLine",
    "answer_value",
    "explain",
    "explain_answer",
    "explanation_lines",
    "readable",
]
