"""Data returned by the reasoner: answers and proof trees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProofNode(BaseModel):
    """One goal of a proof: what was proved, under which subsection, with which value.

    Mirrors the dict ``prove/2`` builds in ``ontology/statutes/proof.pl``:
    ``_{goal, citation, children, value, facts}``.
    """

    model_config = ConfigDict(extra="ignore")

    goal: str
    citation: str | None = None
    value: int | float | None = None
    children: list[ProofNode] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    combine: str | None = None
    """How the value follows from the children's: sum, difference, same, last, round, set..."""
    exact: str | None = None
    """The exact rational when ``value`` is a fraction (``"819953r25"``)."""
    negation: bool = False
    """A ``\\+ G`` node: G was checked and does not hold."""
    repeat: bool = False
    """A subproof given earlier in the tree, not repeated."""
    assumption: bool = False
    """Proved by a conclusion the case states (not derived): an assumption of the proof."""
    unit: str | None = None
    """What ``value`` counts when it is not dollars: ``percent``, ``weeks``."""
    branch: bool = False
    """In a failed proof's trace: one alternative (a rule of the node above, a solution of a
    condition, a side of an "or"), every one of which fails."""
    truncated: bool = False
    """In a failed proof's trace: the trace stops here (its size bound), this goal unexplained."""
    failed: bool = False
    """In a failed proof's trace: this condition does not hold (a ``negation`` node without it
    is a "not G" that holds)."""
    evaluated: str | None = None
    """A failed comparison with its sides evaluated (``"80 > 100"``)."""

    @field_validator("facts", mode="before")
    @classmethod
    def _facts_as_text(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [x if isinstance(x, str) else json.dumps(x) for x in v]
        return v

    @field_validator("goal", "citation", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return v if v is None or isinstance(v, str) else json.dumps(v)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, ProofNode]]:
        """Yield ``(depth, node)`` for this node and its descendants, depth first."""
        stack: list[tuple[int, ProofNode]] = [(depth, self)]
        while stack:
            d, node = stack.pop()
            yield d, node
            stack.extend((d + 1, c) for c in reversed(node.children))

    def citations(self) -> list[str]:
        """Every distinct citation in the tree, in first-use order."""
        seen: dict[str, None] = {}
        for _, node in self.walk():
            if node.citation:
                seen.setdefault(node.citation, None)
        return list(seen)


class Answer(BaseModel):
    """The first proof of a goal: variable bindings, the proof tree and the time it took."""

    bindings: dict[str, int | float | str | None]
    proof: ProofNode
    elapsed_s: float
    """Wall time from ``query()`` call to answer, queueing included."""
    inferences: int | None = None


class PoolStats(BaseModel):
    """Counters of a ``ReasonerPool``."""

    size: int
    started: int = 0
    restarts: int = 0
    completed: int = 0
    failed: int = 0
    queued: int = 0
    pids: list[int] = Field(default_factory=list)
