"""Case facts as typed individuals with property assertions, and their Prolog form.

JSON shape (class and property names are local names under ``tax_vocabulary.IRI_BASE``)::

    {"individuals": [
      {"id": "alice_is_paid", "types": ["Payment"],
       "properties": {"agent": ["jail"], "patient": ["alice"], "amount": [1200],
                      "start": ["2019-05-05"], "purposeText": ["agricultural labor"]}},
      {"id": "alice", "types": ["Person"]},
      {"id": "caracas, venezuela", "types": ["Entity"], "literal": true,
       "properties": {"countryText": ["venezuela"]}}]}

* ``id`` is the Prolog atom naming the individual. ``literal: true`` marks the rare individual
  that SARA names with a string instead (``country_("caracas, venezuela", "venezuela")``).
* A value of an object property (``agent``) is the ``id`` of another individual; a value of a
  ``...Text`` property is a string kept as a Prolog string; ``start``/``end`` are
  ``"YYYY-MM-DD"`` strings; ``amount`` is an integer.
* Types with a SARA predicate become unary facts (``payment_(alice_is_paid)``); ``Event``,
  ``Entity`` and ``Person`` have none and are only used for checking.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from ontology.errors import FactsError
from ontology.reasoner import terms
from ontology.tax_schema import Schema, default_schema

FactValue = StrictInt | StrictFloat | StrictStr


class Individual(BaseModel):
    """One individual: its id, classes and property values."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    types: list[str] = Field(default_factory=list)
    properties: dict[str, list[FactValue]] = Field(default_factory=dict)
    literal: bool = False


class Facts(BaseModel):
    """A set of case facts."""

    model_config = ConfigDict(extra="forbid")

    individuals: list[Individual] = Field(default_factory=list)

    def get(self, individual_id: str) -> Individual | None:
        """The individual with this id, if any."""
        return next((i for i in self.individuals if i.id == individual_id), None)


def facts_to_prolog(facts: Facts, schema: Schema | None = None) -> list[str]:
    """Turn facts into Prolog fact terms (without the final period), types first.

    Values are quoted by ``reasoner.terms``, so ids and strings stay data whatever they contain.
    Run ``validate_facts`` first: this function only refuses what it cannot write.

    Args:
        facts: The facts to convert.
        schema: The ontology schema; the committed ontology's by default.

    Returns:
        Terms such as ``payment_(alice_is_paid)`` and ``amount_(alice_is_paid, 1200)``.

    Raises:
        FactsError: A class or property is unknown, or a value has the wrong type.
    """
    schema = schema or default_schema()
    literal_ids = {i.id for i in facts.individuals if i.literal}

    def subject(ind: Individual) -> str:
        return terms.string(ind.id) if ind.literal else terms.atom(ind.id)

    unary: list[str] = []
    binary: list[str] = []
    for ind in facts.individuals:
        for t in ind.types:
            info = schema.classes.get(t)
            if info is None:
                raise FactsError(f"unknown class {t!r} on {ind.id!r}")
            if info.prolog:
                unary.append(f"{terms.atom(info.prolog)}({subject(ind)})")
        for name, values in ind.properties.items():
            prop = schema.properties.get(name)
            if prop is None or prop.prolog is None:
                raise FactsError(f"unknown property {name!r} on {ind.id!r}")
            for value in values:
                rendered = _value(prop.kind, value, literal_ids, f"{ind.id}.{name}")
                binary.append(f"{terms.atom(prop.prolog)}({subject(ind)}, {rendered})")
    return unary + binary


def _value(kind: str, value: object, literal_ids: set[str], where: str) -> str:
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return terms.number(value)
    if kind in ("date", "text", "string") and isinstance(value, str):
        return terms.string(value)
    if kind == "object" and isinstance(value, str):
        return terms.string(value) if value in literal_ids else terms.atom(value)
    raise FactsError(f"{where}: {value!r} is not a valid {kind} value")


def facts_to_program(facts: Facts, schema: Schema | None = None) -> str:
    """The facts as a Prolog program text, one clause per line (for display and debugging)."""
    return "".join(t + ".\n" for t in facts_to_prolog(facts, schema))
