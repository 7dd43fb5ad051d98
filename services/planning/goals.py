"""Goal-driven runs: from ``{"produce": IRI, "given": {IRI: value}}`` to a wired definition.

``plan_goal`` reads the registry, plans the shortest chain (``graph``) over the capabilities
that live agents serve, falls back to every registered capability when no live chain exists
(its steps then wait for an agent, like any step), wires the chain into an inline workflow
definition (``wiring``), and returns what ``POST /v1/runs`` records: the definition, the run
input, and the ``goal`` column (the goal and its plan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import AgentRow, CapabilityRow
from services.discovery.concepts import ConceptIndex
from services.orchestrator.definitions import (
    DefinitionError,
    WorkflowDefinition,
    parse_definition,
    problems_from,
)
from services.planning.graph import (
    CapabilityNode,
    Gap,
    PlanningLimit,
    find_gap,
    shortest_chain,
)
from services.planning.wiring import UnwirableError, bind_inputs, wire
from services.registry import store


class Goal(BaseModel):
    """The ``goal`` of ``POST /v1/runs``: a concept to produce, from given concept values."""

    model_config = ConfigDict(extra="forbid")

    produce: str = Field(min_length=1, max_length=1000)
    given: dict[str, Any] = Field(default_factory=dict, max_length=100)


class PlanningError(ValueError):
    """No run can be planned for the goal; the API answers 422 with ``code`` and details."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True)
class PlannedRun:
    """What a goal-driven run is created with."""

    definition: WorkflowDefinition
    run_input: dict[str, Any]
    goal: dict[str, Any]


def capability_nodes(
    pairs: Sequence[tuple[CapabilityRow, AgentRow]], index: ConceptIndex
) -> tuple[list[CapabilityNode], dict[str, str]]:
    """One planning node per capability name, and the capabilities left out (with why).

    When several agents serve a name, a live agent's declaration wins, and among those one
    that says what it produces (discovery's ``?produces=`` finds the name by any agent's
    declaration: the planner must too); IRIs are expanded.
    """
    chosen: dict[str, tuple[CapabilityRow, bool]] = {}
    for cap, agent in pairs:
        online = agent.status == store.ONLINE
        current = chosen.get(cap.name)
        rank = (online, bool(cap.produces))
        if current is None or rank > (current[1], bool(current[0].produces)):
            chosen[cap.name] = (cap, online)
    nodes: list[CapabilityNode] = []
    excluded: dict[str, str] = {}
    for name, (cap, live) in sorted(chosen.items()):
        node = CapabilityNode(
            name=name,
            consumes=tuple(index.expand(c) for c in cap.consumes),
            produces=tuple(index.expand(p) for p in cap.produces),
            live=live,
            input_schema=cap.input_schema or {},
            output_schema=cap.output_schema or {},
            idempotent=cap.idempotent,
        )
        if not node.produces:
            continue  # produces nothing a plan could use
        try:
            bind_inputs(node, index)
        except UnwirableError as exc:
            excluded[name] = str(exc)
            continue
        nodes.append(node)
    return nodes, excluded


def parse_goal(raw: Any) -> Goal:
    """Validate the request's ``goal`` object.

    Raises:
        PlanningError: ``invalid_request``, naming each field at fault (``$.goal.produce``).
    """
    try:
        return Goal.model_validate(raw)
    except ValidationError as exc:
        problems = [p.model_dump() for p in problems_from(exc, "$.goal")]
        raise PlanningError(
            "invalid_request", f"{problems[0]['path']}: {problems[0]['message']}", problems
        ) from None


def _no_plan(
    goal: str, given: Sequence[str], gap: Gap, excluded: Mapping[str, str], index: ConceptIndex
) -> PlanningError:
    names = [index.compact(c) for c in gap.missing]
    start = ", ".join(index.compact(g) for g in given) or "nothing"
    why = (
        f"nobody produces {', '.join(names)}"
        if names
        else f"{', '.join(index.compact(c) for c in gap.unreachable)} only come from each other"
    )
    message = f"no chain of capabilities produces {index.compact(goal)} from {start}: {why}"
    if excluded:
        message += f" (left out, their input cannot be wired: {', '.join(sorted(excluded))})"
    return PlanningError(
        "no_plan",
        message,
        {
            "goal": index.compact(goal),
            "given": [index.compact(g) for g in given],
            "missing": names,
            "unreachable": [index.compact(c) for c in gap.unreachable],
            "excluded": dict(excluded),
        },
    )


async def plan_goal(
    session: AsyncSession, raw_goal: Any, index: ConceptIndex, tenant: str | None = None
) -> PlannedRun:
    """Plan a goal over the registry and wire the plan into a definition.

    Args:
        session: A session to read the registry with.
        raw_goal: The request's ``goal`` object.
        index: Concept vocabulary (prefixes and subsumption).
        tenant: Plan only with the capabilities serving this tenant (None: all).

    Returns:
        The definition, run input and goal record of the run to create.

    Raises:
        PlanningError: The goal is malformed (``invalid_request``), already given
            (``goal_given``), out of reach (``no_plan``, naming the concepts nobody produces),
            or the search is too large (``planning_limit``).
    """
    goal = parse_goal(raw_goal)
    target = index.expand(goal.produce)
    given = {index.expand(concept): value for concept, value in goal.given.items()}
    nodes, excluded = capability_nodes(await store.find_capabilities(session, tenant=tenant), index)
    try:
        live_only = True
        chain = shortest_chain(target, given, [n for n in nodes if n.live], index.subsumes)
        if chain is None:
            live_only = False
            chain = shortest_chain(target, given, nodes, index.subsumes)
    except PlanningLimit as exc:
        raise PlanningError("planning_limit", str(exc)) from None
    if chain is None:
        gap = find_gap(target, given, nodes, index.subsumes)
        raise _no_plan(target, list(given), gap, excluded, index)
    if not chain:
        raise PlanningError(
            "goal_given", f"{index.compact(target)} is already given: there is nothing to run"
        )
    wiring = wire(target, given, chain, index)
    try:
        definition = parse_definition(wiring.definition)
    except DefinitionError as exc:  # a wiring bug, not the caller's fault; say what it was
        raise PlanningError("plan_invalid", f"the planned workflow is invalid: {exc}") from None
    record = {
        "produce": index.compact(target),
        "given": [index.compact(g) for g in given],
        "input": wiring.slots,
        "plan": {"live_only": live_only, "steps": wiring.steps},
        "excluded": excluded,
    }
    return PlannedRun(definition, wiring.run_input, record)


__all__ = ["Goal", "PlannedRun", "PlanningError", "capability_nodes", "parse_goal", "plan_goal"]
