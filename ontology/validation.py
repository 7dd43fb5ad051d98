"""Check case facts against the tax ontology, in plain Python over a precomputed schema.

``validate_facts`` accepts a ``Facts`` model or raw JSON-like data (so an LLM's output can be
checked before it is parsed) and returns every problem found, each with a JSONPath into the
input, e.g. ``$.individuals[3].properties.amount[0]``. An empty list means the facts are fit to
send to the reasoner. No DL reasoner runs: the schema (ancestors, disjointness, domains,
``only`` restrictions) is computed once from ``tax.owl``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ontology.tax_facts import Facts
from ontology.tax_schema import Schema, default_schema
from ontology.tax_vocabulary import ONCE_IN_A_LIFE

ProblemCode = Literal[
    "malformed",
    "duplicate_id",
    "missing_type",
    "unknown_class",
    "not_a_fact_class",
    "unknown_property",
    "domain_violation",
    "range_violation",
    "datatype_violation",
    "dangling_reference",
    "contradiction",
]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INDIVIDUAL_KEYS = frozenset({"id", "types", "properties", "literal"})


class Problem(BaseModel):
    """One thing wrong with a fact set."""

    path: str
    code: ProblemCode
    message: str


@dataclass
class _Ind:
    index: int
    id: str
    types: list[str]
    properties: dict[str, list[Any]]
    path: str


def _prop_path(base: str, name: str) -> str:
    key = f".{name}" if _IDENT.match(name) else f"[{name!r}]"
    return f"{base}.properties{key}"


def validate_facts(
    facts: Facts | Mapping[str, Any],
    schema: Schema | None = None,
) -> list[Problem]:
    """Return every problem of ``facts`` (empty when they are valid).

    Args:
        facts: A ``Facts`` model or its JSON form.
        schema: The ontology schema; the committed ontology's by default.

    Returns:
        Problems in input order, each with ``path``, ``code`` and ``message``.
    """
    schema = schema or default_schema()
    data = facts.model_dump() if isinstance(facts, Facts) else facts
    problems: list[Problem] = []
    individuals = list(_structure(data, problems))
    by_id: dict[str, _Ind] = {}
    for ind in individuals:
        if ind.id in by_id:
            problems.append(
                Problem(
                    path=f"{ind.path}.id",
                    code="duplicate_id",
                    message=f"id {ind.id!r} is already used by "
                    f"$.individuals[{by_id[ind.id].index}]",
                )
            )
        else:
            by_id[ind.id] = ind
    for ind in individuals:
        problems += _check_types(ind, schema)
        problems += _check_properties(ind, by_id, schema)
    problems += _check_life_events(individuals, by_id, schema)
    return problems


def _structure(data: Any, problems: list[Problem]) -> Iterator[_Ind]:
    """Yield well-formed individuals; report the malformed parts."""

    def bad(path: str, message: str) -> None:
        problems.append(Problem(path=path, code="malformed", message=message))

    if not isinstance(data, Mapping) or not isinstance(data.get("individuals"), list):
        bad("$", 'expected an object with an "individuals" list')
        return
    for key in data:
        if key != "individuals":
            bad(f"$.{key}", f"unexpected key {key!r}")
    for i, raw in enumerate(data["individuals"]):
        path = f"$.individuals[{i}]"
        if not isinstance(raw, Mapping):
            bad(path, "an individual must be an object")
            continue
        for key in raw:
            if key not in _INDIVIDUAL_KEYS:
                bad(f"{path}.{key}", f"unexpected key {key!r}")
        ident, types, props = raw.get("id"), raw.get("types", []), raw.get("properties", {})
        if not isinstance(ident, str) or not ident:
            bad(f"{path}.id", "id must be a non-empty string")
            continue
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            bad(f"{path}.types", "types must be a list of class names")
            types = []
        if not isinstance(props, Mapping):
            bad(f"{path}.properties", "properties must be an object of lists")
            props = {}
        if not isinstance(raw.get("literal", False), bool):
            bad(f"{path}.literal", "literal must be true or false")
        clean: dict[str, list[Any]] = {}
        for name, values in props.items():
            if isinstance(values, list):
                clean[str(name)] = values
            else:
                bad(_prop_path(path, str(name)), "property values must be a list")
        yield _Ind(i, ident, list(types), clean, path)


def _check_types(ind: _Ind, schema: Schema) -> Iterator[Problem]:
    if not ind.types:
        yield Problem(
            path=f"{ind.path}.types",
            code="missing_type",
            message=f"{ind.id!r} has no class (use Event, Entity or a subclass)",
        )
    for j, t in enumerate(ind.types):
        path = f"{ind.path}.types[{j}]"
        if t not in schema.classes:
            yield Problem(path=path, code="unknown_class", message=f"unknown class {t!r}")
        elif t not in schema.fact_classes:
            yield Problem(
                path=path,
                code="not_a_fact_class",
                message=f"{t!r} is a statutory or pipeline concept; facts use the case "
                "vocabulary (subclasses of Event and Entity)",
            )
    clash = schema.conflicting(ind.types)
    if clash:
        yield Problem(
            path=f"{ind.path}.types",
            code="contradiction",
            message=f"{ind.id!r} cannot be both {clash[0]} and {clash[1]} (disjoint)",
        )


def _check_properties(ind: _Ind, by_id: Mapping[str, _Ind], schema: Schema) -> Iterator[Problem]:
    known_types = [t for t in ind.types if t in schema.classes]
    for name, values in ind.properties.items():
        base = _prop_path(ind.path, name)
        prop = schema.properties.get(name)
        if prop is None or name not in schema.fact_properties:
            yield Problem(
                path=base,
                code="unknown_property",
                message=f"unknown property {name!r}"
                if prop is None
                else f"{name!r} is not a case-fact property",
            )
            continue
        if prop.domain and known_types and schema.disjoint(known_types, prop.domain):
            yield Problem(
                path=base,
                code="domain_violation",
                message=f"{name!r} applies to {sorted(prop.domain)}, not to "
                f"{ind.id!r} ({', '.join(known_types)})",
            )
        for k, value in enumerate(values):
            path = f"{base}[{k}]"
            if prop.kind == "object":
                yield from _check_reference(ind, name, value, path, by_id, schema)
            else:
                message = _datatype_error(prop.kind, value)
                if message:
                    yield Problem(
                        path=path, code="datatype_violation", message=f"{name}: {message}"
                    )


def _datatype_error(kind: str, value: Any) -> str | None:
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{value!r} is not an integer"
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    if kind == "date":
        if not _DATE.match(value):
            return f"{value!r} is not a date in YYYY-MM-DD form"
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a calendar date"
    return None


def _check_reference(
    ind: _Ind, role: str, value: Any, path: str, by_id: Mapping[str, _Ind], schema: Schema
) -> Iterator[Problem]:
    if not isinstance(value, str):
        yield Problem(
            path=path,
            code="datatype_violation",
            message=f"{role}: {value!r} must be the id of an individual (use "
            f"{role}Text for strings)",
        )
        return
    target = by_id.get(value)
    if target is None:
        yield Problem(
            path=path, code="dangling_reference", message=f"{role}: no individual has id {value!r}"
        )
        return
    for t in ind.types:
        required = schema.classes[t].only.get(role) if t in schema.classes else None
        if required and schema.disjoint(target.types, [required]):
            yield Problem(
                path=path,
                code="range_violation",
                message=f"the {role} of a {t} must be a {required}; {value!r} is "
                f"{', '.join(target.types)}",
            )


def _check_life_events(
    individuals: list[_Ind], by_id: Mapping[str, _Ind], schema: Schema
) -> Iterator[Problem]:
    """Once-in-a-life events (birth, death) have one date per person; ends follow starts."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}  # (person, event class) -> (date, path)
    dates: dict[tuple[str, str], str] = {}
    for ind in individuals:
        starts = [v for v in ind.properties.get("start", []) if isinstance(v, str)]
        ends = [v for v in ind.properties.get("end", []) if isinstance(v, str)]
        if (
            len(starts) == 1
            and len(ends) == 1
            and _DATE.match(starts[0])
            and _DATE.match(ends[0])
            and ends[0] < starts[0]
        ):
            yield Problem(
                path=f"{_prop_path(ind.path, 'end')}[0]",
                code="contradiction",
                message=f"{ind.id!r} ends ({ends[0]}) before it starts ({starts[0]})",
            )
        kinds = [k for k in ONCE_IN_A_LIFE if k in schema.ancestors(ind.types)]
        for kind in kinds:
            for agent in ind.properties.get("agent", []):
                if not isinstance(agent, str) or agent not in by_id:
                    continue
                for k, day in enumerate(starts):
                    path = f"{_prop_path(ind.path, 'start')}[{k}]"
                    first = seen.setdefault((agent, kind), (day, path))
                    if first[0] != day:
                        yield Problem(
                            path=path,
                            code="contradiction",
                            message=f"{agent!r} has two {kind} dates: {first[0]} "
                            f"({first[1]}) and {day}",
                        )
                    dates.setdefault((agent, kind), day)
    for (agent, kind), day in dates.items():
        born = dates.get((agent, "Birth"))
        if kind == "Death" and born and day < born:
            yield Problem(
                path=f"{by_id[agent].path}",
                code="contradiction",
                message=f"{agent!r} dies ({day}) before being born ({born})",
            )
