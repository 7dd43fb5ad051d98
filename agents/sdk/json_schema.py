"""JSON Schemas that users give MODX (workflow inputs, wait signals, capability and tool
schemas, a chat reply's shape), checked so that neither the schema nor a hostile value can
hold the process.

The ``jsonschema`` package matches ``pattern``, ``patternProperties`` (and, through them,
``additionalProperties`` and ``unevaluatedProperties``) with Python's backtracking ``re``:
``^(a+)+$`` against forty ``a`` and a ``!`` runs for minutes, on the event loop. Every check
here goes through ``jsonschema-rs`` with the Rust ``regex`` engine instead, which matches in
time linear in the text and refuses what it cannot do so (backreferences, look-around). A
schema is checked once where it is registered (:func:`check_schema`, the refusal naming the
JSON path at fault), and validators are built from it with the same options, so a pattern
that passed registration runs on that engine. Such a schema also never reaches the network
or the disk: ``$ref`` is resolved inside the schema only.

Formats (``format``) are annotations, as the 2020-12 draft says by default: ``format:
"regex"`` on a value is not compiled.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any, NoReturn

import jsonschema_rs
import orjson

MAX_DEPTH = 64
"""Nesting of a schema, as of any JSON MODX accepts (``services.json_checks``)."""
MAX_BYTES = 512 * 1024
"""A schema's size as JSON; a large tool catalogue's schemas are a few KiB each."""
_MESSAGE_CHARS = 300  # messages quote the value: keep a hostile 1 MiB string out of answers
_CACHE_SIZE = 256
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$\-]*$")


class SchemaRefused(ValueError):
    """A schema MODX will not check values against; ``path`` is where, inside the schema
    (``""`` for the whole, ``.properties.name.pattern``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'schema'}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Mismatch:
    """Something a value breaks: ``path`` inside the value (``""``, ``.items[2].name``)."""

    path: str
    message: str


def check_schema(schema: Any) -> None:
    """Refuse a schema that is not one MODX can check values against safely.

    Raises:
        SchemaRefused: Not an object or boolean, too deep or too large, invalid against its
            draft's meta-schema, a ``pattern`` the linear-time engine cannot run, or a
            ``$ref`` outside the schema.
    """
    _validator(schema)


def mismatches(schema: Any, value: Any, limit: int = 1) -> list[Mismatch]:
    """What ``value`` breaks in ``schema``, at most ``limit`` things, by path.

    Raises:
        SchemaRefused: The schema itself is refused (as :func:`check_schema`).
    """
    validator = _validator(schema)
    found = sorted(
        (_mismatch(error) for error in validator.iter_errors(value)),
        key=lambda m: m.path,
    )
    return found[:limit]


def mismatch(schema: Any, value: Any) -> Mismatch | None:
    """The first thing ``value`` breaks in ``schema`` (by path), or None."""
    found = mismatches(schema, value, limit=1)
    return found[0] if found else None


def json_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """``["a", 0, "b c"]`` -> ``.a[0]["b c"]``: a path inside a document, to append to its
    root (a key that is not a plain name, such as a pattern, is quoted)."""
    return "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" if _NAME.match(p) else f"[{json.dumps(p)}]"
        for p in parts
    )


_cache: OrderedDict[bytes, Any] = OrderedDict()
_lock = Lock()


def _validator(schema: Any) -> Any:
    if not isinstance(schema, dict | bool):
        raise SchemaRefused("", "a JSON Schema is an object or a boolean")
    _check_depth(schema, 0)
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    if len(key) > MAX_BYTES:
        raise SchemaRefused("", f"larger than {MAX_BYTES // 1024} KiB as JSON")
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    try:
        validator = jsonschema_rs.validator_for(
            schema,
            validate_formats=False,
            pattern_options=jsonschema_rs.RegexOptions(),
            retriever=_no_retrieval,
        )
    except jsonschema_rs.ValidationError as exc:
        _refuse(exc)
    except ValueError as exc:  # e.g. an unknown "$schema"
        raise SchemaRefused("", _short(str(exc))) from None
    with _lock:
        _cache[key] = validator
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return validator


def _refuse(exc: Any) -> NoReturn:
    """A schema's meta-validation error as a refusal at its path in the schema."""
    message = exc.message
    if 'is not a "regex"' in message:
        message += " that runs in linear time (no backreferences or look-around)"
    raise SchemaRefused(json_path(list(exc.instance_path)), _short(message)) from None


def _no_retrieval(uri: str) -> NoReturn:
    # A schema from a user must not make the server fetch URLs or read files.
    raise ValueError(f"only references inside the schema are followed, not {uri}")


def _check_depth(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise SchemaRefused("", f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def _mismatch(error: Any) -> Mismatch:
    parts = list(error.instance_path)
    missing = getattr(error.kind, "property", None)
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required) and missing:
        # The error sits on the object; the field at fault is the missing one.
        parts.append(str(missing))
    return Mismatch(json_path(parts), _short(error.message))


def _short(message: str) -> str:
    # Messages start by quoting the value and end with the rule it breaks: keep both ends.
    if len(message) <= _MESSAGE_CHARS:
        return message
    return message[:100] + " … " + message[-(_MESSAGE_CHARS - 103) :]


__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "Mismatch",
    "SchemaRefused",
    "check_schema",
    "json_path",
    "mismatch",
    "mismatches",
]
