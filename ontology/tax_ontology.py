"""Build the tax ontology with owlready2, from the tables in ``tax_vocabulary``.

The ontology is always built into a World the caller passes in (owlready2's default world is
global state, and two builds in one process would otherwise merge). ``tax.owl`` next to this
module is the committed RDF/XML export; ``render_owl`` rebuilds it byte for byte, and a test
checks the two are equal so they cannot drift.

Modelling choices:

* every event class is a subclass of ``Event``, annotated with ``prologName`` (the SARA
  predicate, e.g. ``payment_``); ``Event`` and ``Entity`` are disjoint;
* each role gives an object property (``agent``) and a string data property (``agentText``),
  both annotated with the same ``prologName`` (``agent_``); ``start``/``end`` are ``xsd:date``
  and ``amount`` is ``xsd:integer``;
* roles only people fill are ``only Person`` restrictions on the event class;
* statutory concepts carry ``definedIn`` (e.g. ``§63(c)(2)``) and an ``rdfs:comment`` gloss.
"""

from __future__ import annotations

import datetime
import io
import types
from pathlib import Path
from typing import Any

import owlready2
from owlready2 import (
    AllDisjoint,
    AnnotationProperty,
    DataProperty,
    ObjectProperty,
    Ontology,
    Thing,
    World,
    locstr,
)

from ontology.tax_vocabulary import (
    ARTIFACT_CLASSES,
    ARTIFACT_PROPERTIES,
    EVENT_CLASSES,
    ONTOLOGY_IRI,
    PERSON_ROLES,
    ROLES,
    STATUTORY_CLASSES,
    TEXT_SUFFIX,
    TOP_CLASSES,
    ClassSpec,
)

OWL_PATH = Path(__file__).with_name("tax.owl")
"""The committed export."""

_DATATYPES: dict[str, type] = {"integer": int, "date": datetime.date, "string": str}


def build_ontology(world: World) -> Ontology:
    """Create the tax ontology in ``world``.

    Args:
        world: An owlready2 World that does not yet hold the tax ontology.

    Returns:
        The new ontology, with IRI base ``tax_vocabulary.IRI_BASE``.
    """
    onto = world.get_ontology(ONTOLOGY_IRI + "#")
    with onto:
        onto.metadata.comment = [
            locstr(
                "Case vocabulary of SARA and the concepts of IRC sections 1, 2, 63, 68, 151, "
                "152, 3301, 3306 and 7703 (SARA's simplified excerpts).",
                "en",
            )
        ]
        defined_in: Any = types.new_class("definedIn", (AnnotationProperty,))
        prolog_name: Any = types.new_class("prologName", (AnnotationProperty,))
        classes: dict[str, Any] = {}
        for spec in (*TOP_CLASSES, *EVENT_CLASSES, *STATUTORY_CLASSES, *ARTIFACT_CLASSES):
            classes[spec.name] = _new_class(spec, classes, defined_in, prolog_name)
        AllDisjoint([classes["Event"], classes["Entity"]])
        AllDisjoint(
            [classes["CaseVocabulary"], classes["StatutoryConcept"], classes["ReasoningArtifact"]]
        )
        props = _roles(classes, prolog_name)
        for event, role in PERSON_ROLES:
            classes[event].is_a.append(props[role].only(classes["Person"]))
        _artifact_properties(classes)
    return onto


def _new_class(spec: ClassSpec, classes: dict[str, Any], defined_in: Any, prolog_name: Any) -> Any:
    parent = classes[spec.parent] if spec.parent else Thing
    cls: Any = types.new_class(spec.name, (parent,))
    cls.comment = [locstr(spec.comment, "en")]
    if spec.defined_in:
        setattr(cls, defined_in.name, [spec.defined_in])
    if spec.prolog:
        setattr(cls, prolog_name.name, [spec.prolog])
    return cls


def _roles(classes: dict[str, Any], prolog_name: Any) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for role in ROLES:
        pl = role.name + "_"
        prop: Any
        if role.kind == "object":
            prop = types.new_class(role.name, (ObjectProperty,))
            text: Any = types.new_class(role.name + TEXT_SUFFIX, (DataProperty,))
            text.range = [str]
            text.comment = [locstr(role.comment + " Given as a string.", "en")]
            setattr(text, prolog_name.name, [pl])
            if role.domain:
                text.domain = [classes[role.domain]]
        else:
            prop = types.new_class(role.name, (DataProperty,))
            prop.range = [_DATATYPES[role.kind]]
        prop.comment = [locstr(role.comment, "en")]
        setattr(prop, prolog_name.name, [pl])
        if role.domain:
            prop.domain = [classes[role.domain]]
        props[role.name] = prop
    return props


def _artifact_properties(classes: dict[str, Any]) -> None:
    for spec in ARTIFACT_PROPERTIES:
        prop: Any
        if spec.range in _DATATYPES:
            prop = types.new_class(spec.name, (DataProperty,))
            prop.range = [_DATATYPES[spec.range]]
        else:
            prop = types.new_class(spec.name, (ObjectProperty,))
            prop.range = [classes[spec.range]]
        prop.domain = [classes[spec.domain]]
        prop.comment = [locstr(spec.comment, "en")]


def render_owl() -> bytes:
    """Build the ontology in a fresh World and return its RDF/XML export."""
    world = World()
    try:
        onto = build_ontology(world)
        buf = io.BytesIO()
        onto.save(file=buf, format="rdfxml")
        return buf.getvalue()
    finally:
        world.close()


def regenerate_owl(path: Path | None = None) -> Path:
    """Write the RDF/XML export (by default over the committed ``tax.owl``).

    Args:
        path: Where to write; ``OWL_PATH`` when omitted.

    Returns:
        The path written.
    """
    target = path or OWL_PATH
    target.write_bytes(render_owl())
    return target


def load_ontology(world: World, path: Path | None = None) -> Ontology:
    """Load the committed export (or ``path``) into ``world``.

    Args:
        world: The owlready2 World to load into.
        path: An RDF/XML file; ``OWL_PATH`` when omitted.

    Returns:
        The loaded ontology.
    """
    source = path or OWL_PATH
    with source.open("rb") as fh:
        return world.get_ontology(ONTOLOGY_IRI + "#").load(fileobj=fh)


__all__ = [
    "OWL_PATH",
    "build_ontology",
    "load_ontology",
    "owlready2",
    "regenerate_owl",
    "render_owl",
]
