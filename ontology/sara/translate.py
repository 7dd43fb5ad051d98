"""Turn the ground vocabulary facts of a case into ontology ``Facts``.

Typing rules:

* an atom typed by a unary predicate gets that class (``payment_(p)`` -> ``Payment``);
* an atom that is the subject of a role but has no unary type is an ``Event``;
* any other atom is a participant: ``Person`` when it fills a role that the ontology restricts to
  people (``Marriage`` agent, ``Son`` patient...), otherwise ``Entity``;
* a Prolog string in subject position (only ``country_`` does this) is an ``Entity`` with
  ``literal: true``.

A fact the ontology cannot hold (an unknown predicate, a value of the wrong kind) is not dropped
silently: it becomes a warning and is kept as Prolog text in ``unmapped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ontology.errors import CaseFormatError
from ontology.reasoner import terms
from ontology.tax_facts import Facts, FactValue, Individual
from ontology.tax_schema import PropertyInfo, Schema

Value = dict[str, Any] | int | float  # {"a": atom} | {"s": string} | number, as expand.pl sends


@dataclass
class Translation:
    """Result of translating one case's rows."""

    facts: Facts
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Node:
    id: str
    literal: bool
    types: list[str] = field(default_factory=list)
    properties: dict[str, list[FactValue]] = field(default_factory=dict)
    is_subject: bool = False
    filler_of: list[tuple[str, str]] = field(default_factory=list)  # (subject id, role)


def _prolog_value(v: Value) -> str:
    if isinstance(v, dict):
        return terms.atom(v["a"]) if "a" in v else terms.string(v["s"])
    return terms.number(v)


def translate_rows(
    types: list[list[Any]], roles: list[list[Any]], schema: Schema, case_id: str
) -> Translation:
    """Build ``Facts`` from ``[pred, subject]`` and ``[pred, subject, value]`` rows.

    Raises:
        CaseFormatError: An atom and a string with the same text both name individuals.
    """
    nodes: dict[tuple[str, bool], _Node] = {}
    out = Translation(Facts())

    def node(v: Value) -> _Node:
        assert isinstance(v, dict)
        key = (v["a"], False) if "a" in v else (v["s"], True)
        return nodes.setdefault(key, _Node(id=key[0], literal=key[1]))

    for pred, subj in types:
        cls = schema.class_by_prolog.get(pred)
        if cls is None or not isinstance(subj, dict):
            out.unmapped.append(f"{terms.atom(pred)}({_prolog_value(subj)})")
            out.notes.append(f"unknown type predicate {pred}/1")
            continue
        n = node(subj)
        if cls not in n.types:
            n.types.append(cls)
    for pred, subj, value in roles:
        prop = _property_for(schema.roles_by_prolog.get(pred, ()), value)
        if prop is None or not isinstance(subj, dict):
            out.unmapped.append(
                f"{terms.atom(pred)}({_prolog_value(subj)}, {_prolog_value(value)})"
            )
            out.notes.append(f"no ontology property for {pred}/2 with value {value!r}")
            continue
        n = node(subj)
        n.is_subject = True
        if prop.kind == "object":
            filler = node(value)
            filler.filler_of.append((n.id, prop.name))
            stored: FactValue = filler.id
        else:
            stored = value["s"] if isinstance(value, dict) else value
        values = n.properties.setdefault(prop.name, [])
        if stored not in values:
            values.append(stored)

    ids = [n.id for n in nodes.values()]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise CaseFormatError(
            f"{dup!r} names both an atom and a string individual",
            code="id_collision",
            case_id=case_id,
        )
    _assign_types(nodes, schema)
    out.facts = Facts(
        individuals=[
            Individual(id=n.id, types=n.types, properties=n.properties, literal=n.literal)
            for n in sorted(nodes.values(), key=lambda n: _order(n, schema))
        ]
    )
    return out


def _property_for(props: tuple[PropertyInfo, ...], value: Value) -> PropertyInfo | None:
    by_kind = {p.kind: p for p in props}
    if isinstance(value, dict) and "a" in value:
        return by_kind.get("object")
    if isinstance(value, dict):
        return by_kind.get("text") or by_kind.get("date")
    if isinstance(value, int) and not isinstance(value, bool):
        return by_kind.get("integer")
    return None


def _assign_types(nodes: dict[tuple[str, bool], _Node], schema: Schema) -> None:
    by_id = {n.id: n for n in nodes.values()}
    for n in nodes.values():
        if n.types:
            continue
        if n.literal:
            n.types.append("Entity")
        elif n.is_subject:
            n.types.append("Event")
        else:
            person = any(
                schema.classes[t].only.get(role) == "Person"
                for subj, role in n.filler_of
                for t in by_id[subj].types
                if t in schema.classes
            )
            n.types.append("Person" if person else "Entity")


def _order(n: _Node, schema: Schema) -> tuple[int, str]:
    # Events first, then participants; alphabetical within each group for stable output.
    return (0 if "Event" in schema.ancestors(n.types) else 1, n.id)
