"""Layered layout of a workflow's DAG, drawn left to right as SVG by the run page.

Layers come from the longest path from a root (a step sits one layer right of its latest
dependency). Within a layer, steps are ordered by the barycenter heuristic (the mean position of
their neighbours, a few sweeps each way), which removes most edge crossings of real workflows. A
``for_each`` step is one node that shows how many items it fanned out to and their states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.db.models import StepRow
from services.orchestrator.definitions import WorkflowDefinition

NODE_W = 188
NODE_H = 58
GAP_X = 64
GAP_Y = 22
DUMMY_H = 14


def _what(step: dict[str, Any]) -> str:
    """What the step does, on its node: the capability, or the signal or time it waits for."""
    if isinstance(step.get("wait"), dict):
        return f"wait: {step['wait'].get('signal', '')}"
    if isinstance(step.get("sleep"), dict):
        sleep = step["sleep"]
        return (
            f"sleep {sleep['seconds']:g}s"
            if "seconds" in sleep
            else f"sleep until {sleep.get('until')}"
        )
    return str(step.get("capability", ""))


PAD = 16
SWEEPS = 4


@dataclass
class Node:
    """A step of the definition, placed."""

    id: str
    capability: str
    status: str
    attempt: int = 0
    max_attempts: int = 1
    items: int | None = None
    item_states: dict[str, int] = field(default_factory=dict)
    layer: int = 0
    x: float = 0
    y: float = 0

    @property
    def label(self) -> str:
        """The step id, cut to fit the box."""
        return self.id if len(self.id) <= 22 else self.id[:21] + "…"

    @property
    def sublabel(self) -> str:
        """The capability, cut to end before the status label on its line (the node's
        ``<title>`` tooltip names it in full)."""
        # 11px monospace is ~6.6px a character; the bold uppercase status ~7.5px.
        room = NODE_W - 16 - 10 - 8 - 7.5 * len(self.status)
        fits = max(4, int(room / 6.6))
        text = self.capability
        return text if len(text) <= fits else text[: fits - 1] + "…"


@dataclass(frozen=True)
class Edge:
    """A dependency, as an SVG path from the dependency to the step."""

    source: str
    target: str
    path: str


@dataclass
class Dag:
    """Placed nodes, routed edges, and the drawing's size."""

    nodes: list[Node]
    edges: list[Edge]
    width: float
    height: float


def dependencies(definition: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """The definition's steps and what each waits for (empty graph for a broken definition)."""
    steps = [s for s in definition.get("steps", []) if isinstance(s, dict) and "id" in s]
    try:
        return steps, WorkflowDefinition.model_validate(definition).dependencies()
    except (ValidationError, ValueError, TypeError):
        ids = {s["id"] for s in steps}
        return steps, {s["id"]: {d for d in s.get("after", []) if d in ids} for s in steps}


def _layers(order: list[str], deps: dict[str, set[str]]) -> dict[str, int]:
    layer: dict[str, int] = {}

    def depth(step: str, trail: frozenset[str]) -> int:
        if step in layer:
            return layer[step]
        parents = [d for d in deps.get(step, set()) if d in deps and d not in trail]
        value = 1 + max((depth(p, trail | {step}) for p in parents), default=-1)
        layer[step] = value
        return value

    for step in order:
        depth(step, frozenset())
    return layer


def _order_layers(
    columns: list[list[str]], upper: dict[str, set[str]], lower: dict[str, set[str]]
) -> None:
    def sweep(columns_in_order: Sequence[list[str]], neighbours: dict[str, set[str]]) -> None:
        position: dict[str, float] = {}
        for column in columns_in_order:
            if position:
                weights = {}
                for index, step in enumerate(column):
                    near = [position[n] for n in neighbours.get(step, set()) if n in position]
                    weights[step] = sum(near) / len(near) if near else float(index)
                column.sort(key=lambda s: weights[s])
            for index, step in enumerate(column):
                position[step] = index

    for _ in range(SWEEPS):
        sweep(columns, upper)
        sweep(list(reversed(columns)), lower)


def _node(step: dict[str, Any], rows: dict[str, StepRow], items: list[StepRow]) -> Node:
    row = rows.get(step["id"])
    node = Node(
        id=step["id"],
        capability=_what(step),
        status=row.status if row is not None else "pending",
        attempt=row.attempt if row is not None else 0,
        max_attempts=row.max_attempts if row is not None else 1,
    )
    if step.get("for_each"):
        node.items = len(items)
        for item in items:
            node.item_states[item.status] = node.item_states.get(item.status, 0) + 1
    return node


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    bend = max(24.0, (x2 - x1) / 2)
    return f"C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def layout(definition: dict[str, Any], steps: Sequence[StepRow]) -> Dag:
    """Place the definition's steps, coloured by the state of their rows in ``steps``.

    An edge that skips layers runs through a slot of its own in each layer it crosses (a
    "dummy" node), so it never cuts through a step's box.
    """
    defined, deps = dependencies(definition)
    rows = {s.step_id: s for s in steps if s.item_index is None}
    items: dict[str, list[StepRow]] = {}
    for row in steps:
        if row.item_index is not None:
            items.setdefault(row.definition_id, []).append(row)
    nodes = {s["id"]: _node(s, rows, items.get(s["id"], [])) for s in defined}
    layer = _layers(list(nodes), deps)

    # The graph that is ordered and placed: steps, plus one dummy per layer a long edge crosses.
    upper: dict[str, set[str]] = {step: set() for step in nodes}
    routes: list[tuple[str, str, list[str]]] = []
    for step, parents in deps.items():
        for parent in sorted(parents):
            if parent not in nodes or step not in nodes:
                continue
            chain = [f"~{parent}>{step}#{k}" for k in range(layer[parent] + 1, layer[step])]
            for k, dummy in enumerate(chain):
                upper[dummy] = {chain[k - 1] if k else parent}
                layer[dummy] = layer[parent] + 1 + k
            upper[step].add(chain[-1] if chain else parent)
            routes.append((parent, step, chain))
    lower: dict[str, set[str]] = {name: set() for name in upper}
    for name, above in upper.items():
        for other in above:
            lower[other].add(name)
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for name in upper:  # definition order is the starting order within a layer
        columns[layer[name]].append(name)
    _order_layers(columns, upper, lower)

    def size(name: str) -> float:
        return float(NODE_H if name in nodes else DUMMY_H)

    def used(column: list[str]) -> float:
        return sum(size(n) for n in column) + max(0, len(column) - 1) * GAP_Y

    height = PAD * 2 + max((used(c) for c in columns), default=0)
    centre: dict[str, float] = {}
    for index, column in enumerate(columns):
        y = (height - used(column)) / 2  # centre short columns against the tallest
        for name in column:
            centre[name] = y + size(name) / 2
            if name in nodes:
                nodes[name].layer = index
                nodes[name].x = PAD + index * (NODE_W + GAP_X)
                nodes[name].y = y
            y += size(name) + GAP_Y

    edges = []
    for parent, step, chain in routes:
        a, b = nodes[parent], nodes[step]
        x, y = a.x + NODE_W, a.y + NODE_H / 2
        path = f"M{x:.1f},{y:.1f} "
        for dummy in chain:
            left = PAD + layer[dummy] * (NODE_W + GAP_X)
            path += (
                _curve(x, y, left, centre[dummy]) + f" L{left + NODE_W:.1f},{centre[dummy]:.1f} "
            )
            x, y = left + NODE_W, centre[dummy]
        path += _curve(x, y, b.x - 6, b.y + NODE_H / 2)  # stop short of the box: arrowhead
        edges.append(Edge(parent, step, path))
    width = PAD * 2 + len(columns) * NODE_W + max(0, len(columns) - 1) * GAP_X
    return Dag(list(nodes.values()), edges, width, height)
