"""Turn a plan (a chain of capabilities) into a workflow definition wired with ``$.`` references.

The convention, also written down in ``services/planning/README.md``:

**Run input.** The goal's ``given`` values become the run's input, one key per given concept:
its local name (``tax:SaraCaseFile`` -> ``SaraCaseFile``; made unique if two namespaces clash).

**Which input field takes a consumed concept.** For each concept a capability consumes, in
declared order, the first rule that applies:

1. *annotation*: the input schema property whose ``x-concept`` is that concept;
2. *name*: a property named after the concept, in snake case (``validated_facts``) or by its
   last word (``facts`` for ``tax:ValidatedFacts``);
3. *position*: the next required property not bound yet, in the schema's ``required`` order
   (``sara.parse_case`` takes ``tax:SaraCaseFile`` in ``case``, its one required field);
4. *whole*: a capability with no declared properties and one consumed concept gets the value
   as its whole input.

A capability with a required property that no consumed concept fills cannot be given its
input by a plan, and is left out of planning (``unwirable``).

**Where the value comes from.** Exact concepts before subclasses; then a given value before a
step's output (the caller chose it); then the latest earlier step that produces the concept.
Inside that step's output, the first rule that applies: the property annotated
``x-concept`` with the produced concept; the property with the *same name* as the consumer's
field (values keep their field name along a chain: ``facts`` from ``legal.validate_facts`` to
``legal.infer``, ``query`` from ``sara.parse_case``); a property named after the concept; the
whole output.

**Run output.** The whole output of the step that produces the goal (or its property
annotated with the goal concept), so a tax answer keeps its proof and citations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.discovery.concepts import ConceptIndex
from services.planning.graph import CapabilityNode

CONCEPT_KEY = "x-concept"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_KEY = re.compile(r"[^A-Za-z0-9_\-]+")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


class UnwirableError(ValueError):
    """A capability's input cannot be built from the concepts it consumes."""


def local_name(iri: str) -> str:
    """The last segment of an IRI: after ``#``, else after the last ``/``, else after ``:``."""
    for sep in ("#", "/", ":"):
        if sep in iri:
            return iri.rsplit(sep, 1)[1] or iri
    return iri


def _key(text: str) -> str:
    """``text`` as a reference key (letters, digits, ``_``, ``-``; not starting with a digit)."""
    key = _NOT_KEY.sub("_", text).strip("_") or "value"
    return key if key[0].isalpha() or key[0] == "_" else "_" + key


def field_names(iri: str) -> list[str]:
    """Field names that mean a concept: snake case, then its last word (lower case)."""
    words = _CAMEL.sub(" ", _key(local_name(iri))).replace("_", " ").lower().split()
    if not words:
        return []
    return list(dict.fromkeys(["_".join(words), words[-1]]))


def _properties(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    props = schema.get("properties")
    return dict(props) if isinstance(props, Mapping) else {}


def _annotated(
    props: Mapping[str, Mapping[str, Any]], concept: str, index: ConceptIndex
) -> str | None:
    for field_name, spec in props.items():
        value = spec.get(CONCEPT_KEY) if isinstance(spec, Mapping) else None
        if isinstance(value, str) and index.expand(value) == concept:
            return field_name
    return None


@dataclass(frozen=True)
class InputBinding:
    """One consumed concept and the input field that takes it (None: the whole input)."""

    concept: str
    field: str | None
    rule: str


def bind_inputs(node: CapabilityNode, index: ConceptIndex) -> list[InputBinding]:
    """Which input field takes each consumed concept (see the module docstring).

    Raises:
        UnwirableError: A concept has no field, or a required field has no concept.
    """
    props = _properties(node.input_schema)
    required = [r for r in node.input_schema.get("required", []) if r in props]
    bound: dict[str, InputBinding] = {}
    unbound: list[str] = []
    for concept in node.consumes:
        field_name = _annotated(props, concept, index)
        rule = "annotation"
        if field_name is None or field_name in bound:
            field_name = next(
                (f for f in field_names(concept) if f in props and f not in bound), None
            )
            rule = "name"
        if field_name is None:
            unbound.append(concept)
            continue
        bound[field_name] = InputBinding(concept, field_name, rule)
    free = [r for r in required if r not in bound]
    for concept in unbound:
        if free:
            field_name = free.pop(0)
            bound[field_name] = InputBinding(concept, field_name, "position")
        elif not props and len(node.consumes) == 1:
            return [InputBinding(concept, None, "whole")]
        else:
            raise UnwirableError(
                f"{node.name}: no input field takes {index.compact(concept)} (annotate one "
                f'with "{CONCEPT_KEY}")'
            )
    if free:
        raise UnwirableError(
            f"{node.name}: required input field(s) {', '.join(free)} take no consumed concept"
        )
    return [bound[f] for f in bound]


def output_field(
    node: CapabilityNode, produced: str, wanted: str | None, index: ConceptIndex
) -> str | None:
    """The output property of ``node`` that carries ``produced`` (None: the whole output)."""
    props = _properties(node.output_schema)
    found = _annotated(props, produced, index)
    if found is not None:
        return found
    if wanted is not None and wanted in props:
        return wanted
    return next((f for f in field_names(produced) if f in props), None)


@dataclass(frozen=True)
class _Source:
    concept: str
    slot: str | None = None  # a run input key
    step: str | None = None
    node: CapabilityNode | None = None
    order: int = -1


@dataclass(frozen=True)
class Wiring:
    """A plan as a workflow definition, with a record of how each input was filled."""

    definition: dict[str, Any]
    run_input: dict[str, Any]
    slots: dict[str, str]
    steps: list[dict[str, Any]]


def input_slots(given: Sequence[str]) -> dict[str, str]:
    """Given concept -> its run input key (local name, made unique)."""
    slots: dict[str, str] = {}
    for concept in given:
        base = _key(local_name(concept))
        key, n = base, 2
        while key in slots.values():
            key, n = f"{base}_{n}", n + 1
        slots[concept] = key
    return slots


def _pick(concept: str, sources: list[_Source], index: ConceptIndex) -> _Source:
    fits = [s for s in sources if index.subsumes(concept, s.concept)]
    # Exact concepts first, then given values (the caller chose them), then the latest step.
    return min(fits, key=lambda s: (s.concept != concept, s.step is not None, -s.order))


def _step_id(name: str, taken: set[str]) -> str:
    base = _key(name.replace(".", "_"))
    step_id, n = base, 2
    while step_id in taken:
        step_id, n = f"{base}_{n}", n + 1
    taken.add(step_id)
    return step_id


def wire(
    goal: str, given: Mapping[str, Any], plan: Sequence[CapabilityNode], index: ConceptIndex
) -> Wiring:
    """Build the definition of a non-empty plan (IRIs are expanded ones).

    Args:
        goal: The concept the run must produce.
        given: Given concept -> value.
        plan: The capabilities, in an order that respects their dependencies.
        index: Concept vocabulary (subsumption, compact names).

    Raises:
        UnwirableError: A step's input cannot be built.
    """
    slots = input_slots(list(given))
    sources = [_Source(concept, slot=slot) for concept, slot in slots.items()]
    steps: list[dict[str, Any]] = []
    record: list[dict[str, Any]] = []
    taken: set[str] = set()
    for order, node in enumerate(plan):
        step_id = _step_id(node.name, taken)
        step_input: Any = {}
        inputs: dict[str, Any] = {}
        for binding in bind_inputs(node, index):
            source = _pick(binding.concept, sources, index)
            if source.step is None:
                ref = f"$.input.{source.slot}"
            else:
                assert source.node is not None
                found = output_field(source.node, source.concept, binding.field, index)
                ref = f"$.steps.{source.step}.output" + (f".{found}" if found else "")
            if binding.field is None:
                step_input = ref
            else:
                step_input[binding.field] = ref
            inputs[binding.field or "$"] = {
                "concept": index.compact(binding.concept),
                "from": ref,
                "rule": binding.rule,
            }
        step: dict[str, Any] = {"id": step_id, "capability": node.name, "input": step_input}
        if node.idempotent:
            step["retry"] = {"max_attempts": 3, "backoff_s": 0.5}
        steps.append(step)
        record.append(
            {
                "id": step_id,
                "capability": node.name,
                "consumes": [index.compact(c) for c in node.consumes],
                "produces": [index.compact(p) for p in node.produces],
                "live": node.live,
                "inputs": inputs,
            }
        )
        sources.extend(_Source(p, step=step_id, node=node, order=order) for p in node.produces)
    producer = _pick(goal, sources, index)
    assert producer.node is not None, "a non-empty plan ends with the goal's producer"
    annotated = _annotated(_properties(producer.node.output_schema), producer.concept, index)
    output = f"$.steps.{producer.step}.output" + (f".{annotated}" if annotated else "")
    compact_goal = index.compact(goal)
    definition = {
        "name": "goal." + (_NOT_NAME.sub("-", compact_goal.replace(":", "-")) or "plan"),
        "description": f"Planned to produce {compact_goal} from "
        + (", ".join(index.compact(g) for g in given) or "nothing"),
        "steps": steps,
        "output": output,
    }
    run_input = {slots[concept]: value for concept, value in given.items()}
    return Wiring(definition, run_input, {index.compact(c): s for c, s in slots.items()}, record)


__all__ = [
    "CONCEPT_KEY",
    "InputBinding",
    "UnwirableError",
    "Wiring",
    "bind_inputs",
    "field_names",
    "input_slots",
    "local_name",
    "output_field",
    "wire",
]
