"""Turn a proof tree into a readable justification in which every line cites its subsection.

One line per proof step, indented by depth. A step with its own citation shows it
(``[§63(c)(2)]``); a step without one (a case fact, an arithmetic check) shows the nearest cited
step above it (``[for §63(c)(2)]``), and an uncited top step (``tax/3``) shows the cited steps
it combines (``[from §1, §3301]``), so every line can be traced to the statute. Values are
shown after the goal (``= 12000``) and the case facts a step used are listed beneath it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ontology.reasoner.models import Answer, ProofNode

FACT = "fact"
"""The citation ``proof.pl`` gives to case-fact leaves."""


@dataclass(frozen=True)
class ExplanationLine:
    """One rendered step."""

    depth: int
    text: str
    citation: str | None
    inherited: bool
    """True when ``citation`` comes from an ancestor step."""

    def render(self, indent: str = "  ") -> str:
        """The line as text: indentation, statement, citation."""
        if self.citation is None:
            cite = "[no citation]"
        elif self.inherited:
            cite = f"[for {self.citation}]"
        else:
            cite = f"[{self.citation}]"
        return f"{indent * self.depth}{self.text}  {cite}"


def _format_value(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frontier(node: ProofNode) -> list[str]:
    """Citations of the nearest cited steps below ``node`` (for an uncited top step)."""
    found: dict[str, None] = {}
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if child.citation and child.citation != FACT:
            found.setdefault(child.citation, None)
        else:
            stack.extend(reversed(child.children))
    return list(found)


def _statement(node: ProofNode) -> str:
    goal = node.goal
    if goal.startswith("\\+"):
        goal = "not " + goal[2:].lstrip()  # a condition checked and found not to hold
    return goal if node.value is None else f"{goal} = {_format_value(node.value)}"


def explanation_lines(
    proof: ProofNode | Mapping[str, Any], *, max_depth: int | None = None
) -> list[ExplanationLine]:
    """Flatten a proof into lines, depth first.

    Args:
        proof: A ``ProofNode`` or the dict ``prove/2`` returned.
        max_depth: Leave out steps deeper than this (``None``: all).

    Returns:
        One line per step and per case fact a step lists.
    """
    root = proof if isinstance(proof, ProofNode) else ProofNode.model_validate(proof)
    lines: list[ExplanationLine] = []
    stack: list[tuple[int, ProofNode, str | None]] = [(0, root, None)]
    while stack:
        depth, node, above = stack.pop()
        if max_depth is not None and depth > max_depth:
            continue
        own = node.citation if node.citation and node.citation != FACT else None
        cite = own or above
        if node.citation == FACT:
            lines.append(ExplanationLine(depth, f"fact: {node.goal}", cite, inherited=True))
        elif cite is None and (below := _frontier(node)):
            lines.append(
                ExplanationLine(
                    depth, _statement(node), "from " + ", ".join(below), inherited=False
                )
            )
        else:
            lines.append(
                ExplanationLine(
                    depth, _statement(node), cite, inherited=own is None and cite is not None
                )
            )
        shown = {c.goal for c in node.children}
        for fact in node.facts:
            if fact != node.goal and fact not in shown:  # fact leaves are printed once
                lines.append(ExplanationLine(depth + 1, f"fact: {fact}", cite, inherited=True))
        stack.extend((depth + 1, child, cite) for child in reversed(node.children))
    return lines


def explain(
    proof: ProofNode | Mapping[str, Any], *, indent: str = "  ", max_depth: int | None = None
) -> str:
    """Render a proof as indented text, one cited step per line.

    Args:
        proof: A ``ProofNode`` or the dict ``prove/2`` returned.
        indent: The indentation of one level.
        max_depth: Leave out steps deeper than this (``None``: all).

    Returns:
        The explanation, lines joined by newlines.
    """
    return "\n".join(line.render(indent) for line in explanation_lines(proof, max_depth=max_depth))


def explain_answer(
    answer: Answer, *, question: str | None = None, indent: str = "  ", max_depth: int | None = None
) -> str:
    """Render an answer: the question, the bindings, then the cited proof.

    Args:
        answer: What ``ReasonerPool.query`` returned.
        question: Shown first when given.
        indent: The indentation of one level.
        max_depth: Leave out proof steps deeper than this.

    Returns:
        The explanation text.
    """
    head = [question] if question else []
    if answer.bindings:
        head.append("Answer: " + ", ".join(f"{k} = {v}" for k, v in answer.bindings.items()))
    cited = [c for c in answer.proof.citations() if c.startswith("§")]
    if cited:
        head.append("Provisions applied: " + ", ".join(cited))
    return "\n".join([*head, explain(answer.proof, indent=indent, max_depth=max_depth)])


__all__ = ["ExplanationLine", "explain", "explain_answer", "explanation_lines"]
