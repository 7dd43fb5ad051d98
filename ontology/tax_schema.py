"""A precomputed, read-only view of the tax ontology for fast checks in plain Python.

``Schema.from_ontology`` walks a loaded owlready2 ontology once (classes with their ancestors,
``only`` restrictions and disjointness; properties with kind, domain and Prolog name).
``default_schema()`` does that for the committed ``tax.owl`` and caches the result, so
validation and translation never touch owlready2 or a DL reasoner per call.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import owlready2

from ontology.tax_ontology import load_ontology
from ontology.tax_vocabulary import IRI_BASE

PropertyKind = Literal["object", "text", "integer", "date", "string"]


@dataclass(frozen=True)
class ClassInfo:
    """What the checks need to know about one class."""

    name: str
    ancestors: frozenset[str]
    comment: str = ""
    prolog: str | None = None
    defined_in: str | None = None
    only: Mapping[str, str] = field(default_factory=dict)
    """Role -> class every filler of that role must belong to (inherited ones included)."""


@dataclass(frozen=True)
class PropertyInfo:
    """What the checks need to know about one property."""

    name: str
    kind: PropertyKind
    domain: frozenset[str]
    prolog: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Schema:
    """Classes, properties and disjointness of the ontology, keyed by local name."""

    classes: Mapping[str, ClassInfo]
    properties: Mapping[str, PropertyInfo]
    disjoint_sets: tuple[frozenset[str], ...]
    iri_base: str = IRI_BASE

    @functools.cached_property
    def fact_classes(self) -> frozenset[str]:
        """Classes an individual in case facts may have: the case vocabulary."""
        return frozenset(n for n, c in self.classes.items() if "CaseVocabulary" in c.ancestors)

    @functools.cached_property
    def fact_properties(self) -> frozenset[str]:
        """Properties case facts may use: those that map to a SARA predicate."""
        return frozenset(n for n, p in self.properties.items() if p.prolog)

    @functools.cached_property
    def class_by_prolog(self) -> Mapping[str, str]:
        """SARA unary predicate name (``payment_``) -> class name (``Payment``)."""
        return {c.prolog: n for n, c in self.classes.items() if c.prolog}

    @functools.cached_property
    def roles_by_prolog(self) -> Mapping[str, tuple[PropertyInfo, ...]]:
        """SARA binary predicate name (``agent_``) -> its properties (``agent``, ``agentText``)."""
        out: dict[str, list[PropertyInfo]] = {}
        for prop in self.properties.values():
            if prop.prolog:
                out.setdefault(prop.prolog, []).append(prop)
        return {k: tuple(v) for k, v in out.items()}

    def ancestors(self, types: Iterable[str]) -> frozenset[str]:
        """All classes the given (known) types imply."""
        out: set[str] = set()
        for t in types:
            info = self.classes.get(t)
            if info:
                out |= info.ancestors
        return frozenset(out)

    def disjoint(self, a: Iterable[str], b: Iterable[str]) -> bool:
        """True when something of all types ``a`` cannot also be of all types ``b``."""
        anc_a, anc_b = self.ancestors(a), self.ancestors(b)
        return any(
            (anc_a & s) and (anc_b & s) and (anc_a & s) != (anc_b & s) for s in self.disjoint_sets
        )

    def conflicting(self, types: Iterable[str]) -> tuple[str, str] | None:
        """Two of ``types`` that are disjoint, if any."""
        known = [t for t in types if t in self.classes]
        for i, a in enumerate(known):
            for b in known[i + 1 :]:
                if self.disjoint([a], [b]):
                    return a, b
        return None

    @classmethod
    def from_ontology(cls, onto: owlready2.Ontology) -> Schema:
        """Precompute the schema from a loaded tax ontology."""
        classes: dict[str, ClassInfo] = {}
        for c in onto.classes():
            ancestors = [a for a in c.ancestors() if a is not owlready2.Thing]
            only: dict[str, str] = {}
            for a in reversed(ancestors):  # own restrictions override inherited ones
                for r in getattr(a, "is_a", []):
                    if isinstance(r, owlready2.Restriction) and r.type == owlready2.ONLY:
                        only[r.property.name] = r.value.name
            classes[c.name] = ClassInfo(
                name=c.name,
                ancestors=frozenset(a.name for a in ancestors),
                comment=_first(c.comment),
                prolog=_first(getattr(c, "prologName", [])) or None,
                defined_in=_first(getattr(c, "definedIn", [])) or None,
                only=only,
            )
        properties = {p.name: _property(p) for p in onto.properties()}
        disjoint = tuple(frozenset(e.name for e in d.entities) for d in onto.disjoint_classes())
        return cls(classes=classes, properties=properties, disjoint_sets=disjoint)


def _first(values: Any) -> str:
    return str(values[0]) if values else ""


def _property(p: Any) -> PropertyInfo:
    prolog = _first(getattr(p, "prologName", [])) or None
    kind: PropertyKind
    if isinstance(p, owlready2.ObjectPropertyClass):
        kind = "object"
    elif datetime.date in p.range:
        kind = "date"
    elif int in p.range:
        kind = "integer"
    else:
        kind = "text" if prolog else "string"
    domain = frozenset(d.name for d in p.domain if hasattr(d, "name"))
    return PropertyInfo(
        name=p.name, kind=kind, domain=domain, prolog=prolog, comment=_first(p.comment)
    )


def facts_json_schema(schema: Schema | None = None) -> dict[str, Any]:
    """A JSON Schema, generated from the ontology, for case facts plus a tax question:
    ``{"facts": {"individuals": [...]}, "question": {"person", "year"}}``.

    Classes are the case vocabulary (plus ``Person``, ``Entity`` and ``Event``), properties
    those that map to a SARA predicate, each with the JSON type of its range; every class and
    property carries its ontology comment as ``description``, so the schema is also the
    model's documentation of the vocabulary.
    """
    schema = schema or default_schema()
    names = sorted(schema.fact_classes | ({"Person", "Entity", "Event"} & set(schema.classes)))
    value_types: dict[str, dict[str, Any]] = {
        "object": {"type": "string", "description": "the id of another individual"},
        "text": {"type": "string"},
        "string": {"type": "string"},
        "integer": {"type": "integer"},
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    }
    properties = {
        name: {
            "type": "array",
            "items": value_types[prop.kind],
            "description": prop.comment or name,
        }
        for name, prop in sorted(schema.properties.items())
        if name in schema.fact_properties
    }
    individual = {
        "type": "object",
        "required": ["id", "types"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
            "types": {
                "type": "array",
                "items": {"enum": names},
                "description": "; ".join(
                    f"{n}: {schema.classes[n].comment}" for n in names if schema.classes[n].comment
                ),
            },
            "properties": {
                "type": "object",
                "additionalProperties": False,
                "properties": properties,
            },
        },
    }
    return {
        "type": "object",
        "required": ["facts", "question"],
        "additionalProperties": False,
        "properties": {
            "facts": {
                "type": "object",
                "required": ["individuals"],
                "additionalProperties": False,
                "properties": {"individuals": {"type": "array", "items": individual}},
            },
            "question": {
                "type": "object",
                "required": ["person", "year"],
                "additionalProperties": False,
                "properties": {
                    "person": {"type": "string", "description": "id of the taxpayer asked about"},
                    "year": {"type": "integer", "description": "the taxable year"},
                },
            },
        },
    }


def load_schema(path: Path | None = None) -> Schema:
    """Load an RDF/XML export (the committed ``tax.owl`` by default) and precompute its schema."""
    world = owlready2.World()
    try:
        return Schema.from_ontology(load_ontology(world, path))
    finally:
        world.close()


@functools.lru_cache(maxsize=1)
def default_schema() -> Schema:
    """The schema of the committed ``tax.owl``, computed once per process."""
    return load_schema()
