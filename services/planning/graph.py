"""The planning search: the shortest chain of capabilities from the given concepts to a goal.

The state of the search is the set of concepts available so far (the given ones first). A
capability is applicable when each concept it consumes is available, directly or through a
subclass (``tax:ValidatedFacts`` serves where ``tax:CaseFacts`` is consumed); applying it adds
what it produces. Breadth-first search over these sets finds a plan with the fewest steps;
a capability is only tried when it adds a concept not already available, and a set reached
twice is expanded once, so the search stays small on real registries. Translators need no
special case: a capability that consumes one vocabulary's concept and produces another's is
one more edge.

This module is pure: it knows nothing of the registry or of workflows (see ``wiring`` and
``goals``). Subsumption comes in as a function, so tests use synthetic hierarchies.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Subsumes = Callable[[str, str], bool]
"""``subsumes(broader, narrower)``: True when ``narrower`` is ``broader`` or a subclass of it."""


def exact(broader: str, narrower: str) -> bool:
    """Subsumption without an ontology: a concept is only itself."""
    return broader == narrower


@dataclass(frozen=True)
class CapabilityNode:
    """A capability as the planner sees it.

    Attributes:
        name: The capability name.
        consumes: IRIs of what it needs, in declared order.
        produces: IRIs of what it returns.
        live: True when an online agent serves it.
        input_schema: JSON Schema of its input (used to wire the plan).
        output_schema: JSON Schema of its output.
        idempotent: True when running it twice is harmless (its steps get retries).
    """

    name: str
    consumes: tuple[str, ...] = ()
    produces: tuple[str, ...] = ()
    live: bool = True
    input_schema: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    output_schema: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    idempotent: bool = False


class PlanningLimit(RuntimeError):
    """The search visited more concept sets than allowed before it found or ruled out a plan."""


def available(concepts: Iterable[str], wanted: str, subsumes: Subsumes) -> bool:
    """True when one of ``concepts`` is ``wanted`` or a subclass of it."""
    return any(subsumes(wanted, have) for have in concepts)


def shortest_chain(
    goal: str,
    given: Iterable[str],
    nodes: Sequence[CapabilityNode],
    subsumes: Subsumes = exact,
    *,
    max_steps: int = 12,
    max_states: int = 50_000,
) -> tuple[CapabilityNode, ...] | None:
    """The shortest sequence of capabilities that makes ``goal`` available, or None.

    Ties between equally short plans go to the first capability in name order, so a plan is
    reproducible.

    Args:
        goal: The concept to produce.
        given: The concepts available at the start.
        nodes: The capabilities to choose from.
        subsumes: The subsumption test.
        max_steps: Longest plan considered.
        max_states: Concept sets the search may visit.

    Returns:
        The steps in an order that respects their dependencies (``()`` when the goal is
        given), or None when no chain of at most ``max_steps`` exists.

    Raises:
        PlanningLimit: More than ``max_states`` sets were visited.
    """
    start = frozenset(given)
    if available(start, goal, subsumes):
        return ()
    ordered = sorted(nodes, key=lambda node: node.name)
    frontier: deque[tuple[frozenset[str], tuple[CapabilityNode, ...]]] = deque([(start, ())])
    seen = {start}
    while frontier:
        have, path = frontier.popleft()
        if len(path) >= max_steps:
            continue
        for node in ordered:
            if not all(available(have, need, subsumes) for need in node.consumes):
                continue
            new = [p for p in node.produces if not available(have, p, subsumes)]
            if not new:
                continue
            after = have | frozenset(new)
            if after in seen:
                continue
            route = (*path, node)
            if available(after, goal, subsumes):
                return route
            seen.add(after)
            if len(seen) > max_states:
                raise PlanningLimit(f"planning visited more than {max_states} concept sets")
            frontier.append((after, route))
    return None


def reachable(
    given: Iterable[str], nodes: Sequence[CapabilityNode], subsumes: Subsumes = exact
) -> set[str]:
    """Every concept some chain of capabilities can produce from ``given`` (and ``given``)."""
    have = set(given)
    grew = True
    while grew:
        grew = False
        for node in nodes:
            if all(available(have, need, subsumes) for need in node.consumes):
                new = set(node.produces) - have
                if new:
                    have |= new
                    grew = True
    return have


@dataclass(frozen=True)
class Gap:
    """Why a goal is out of reach.

    Attributes:
        missing: Concepts needed on the way that no capability produces and nobody gave.
        unreachable: Concepts that some capability produces, but only from missing ones.
    """

    missing: tuple[str, ...]
    unreachable: tuple[str, ...]


def find_gap(
    goal: str, given: Iterable[str], nodes: Sequence[CapabilityNode], subsumes: Subsumes = exact
) -> Gap:
    """Walk back from ``goal`` through the producers of what is not reachable.

    Every producer of a needed concept is followed, so ``missing`` lists all the links that
    would each open some chain (e.g. ``tax:SaraCaseFile`` when only its parser can make the
    question that inference needs).
    """
    have = reachable(given, nodes, subsumes)
    missing: list[str] = []
    unreachable: list[str] = []
    visited: set[str] = set()

    def visit(concept: str) -> None:
        if concept in visited or available(have, concept, subsumes):
            return
        visited.add(concept)
        producers = [n for n in nodes if any(subsumes(concept, p) for p in n.produces)]
        if not producers:
            missing.append(concept)
            return
        unreachable.append(concept)
        for node in producers:
            for need in node.consumes:
                visit(need)

    visit(goal)
    return Gap(tuple(missing), tuple(unreachable))


__all__ = [
    "CapabilityNode",
    "Gap",
    "PlanningLimit",
    "Subsumes",
    "available",
    "exact",
    "find_gap",
    "reachable",
    "shortest_chain",
]
