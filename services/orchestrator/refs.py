"""``$.`` references: how a step's input names the run's input or an earlier step's output.

Grammar: ``$.input``, ``$.steps.<id>.output``, ``$.item`` and ``$.item_index`` (inside a
``for_each`` step), ``$.iteration``, ``$.previous`` and ``$.output`` (inside a loop), each
followed by any number of ``.key`` or ``[n]`` accessors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_\-]*)|\[(\d+)\]")


class RefError(ValueError):
    """A reference that does not parse, or names something that is not there."""


class NoOutput(RefError):
    """A reference to the output of a step that has none: it was skipped (a ``when`` that was
    false, a branch not taken), so whatever reads it is skipped too."""


class _NotYet:
    """The type of :data:`NOT_YET`."""

    def __repr__(self) -> str:
        return "NOT_YET"


NOT_YET = _NotYet()
"""A scope's value for a root that has nothing yet (a loop's ``$.previous`` before its first
iteration): it reads as null, and so does every field of it."""


@dataclass(frozen=True)
class Ref:
    """A parsed reference: its root (``input``, ``item``, ``item_index`` or a step id)."""

    text: str
    root: str
    step: str | None
    path: tuple[str | int, ...]


def is_ref(value: Any) -> bool:
    """True for a string that is a reference."""
    return isinstance(value, str) and value.startswith("$.")


def parse(text: str) -> Ref:
    """Parse one reference; raises RefError with the reason."""
    tokens: list[str | int] = []
    pos = 1
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise RefError(f"cannot parse reference {text!r} at character {pos}")
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if not tokens:
        raise RefError(f"empty reference {text!r}")
    head = tokens[0]
    if head in ("input", "item", "item_index", "iteration", "previous", "output"):
        return Ref(text, str(head), None, tuple(tokens[1:]))
    if head == "steps":
        if len(tokens) < 3 or not isinstance(tokens[1], str) or tokens[2] != "output":
            raise RefError(f"a step reference reads $.steps.<id>.output…, got {text!r}")
        return Ref(text, "steps", tokens[1], tuple(tokens[3:]))
    raise RefError(
        f"a reference starts with $.input, $.steps, $.item or $.item_index "
        f"(in a loop also $.iteration, $.previous, $.output): {text!r}"
    )


def walk(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Yield (json_path, reference) for every reference inside a JSON value."""
    if is_ref(value):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def _follow(value: Any, path: tuple[str | int, ...], text: str) -> Any:
    for token in path:
        if isinstance(token, int) and isinstance(value, list) and 0 <= token < len(value):
            value = value[token]
        elif isinstance(token, str) and isinstance(value, Mapping) and token in value:
            value = value[token]
        else:
            raise RefError(f"{text}: nothing at {token!r}")
    return value


def resolve(value: Any, scope: Mapping[str, Any], null_steps: frozenset[str] = frozenset()) -> Any:
    """Replace every reference in ``value`` with what it names in ``scope``.

    ``scope`` has ``input``, ``steps`` (id -> output) and, in a for_each item, ``item`` and
    ``item_index``. A reference into a step of ``null_steps`` (the run's output mapping: the
    skipped ones) reads as null, whatever its path, so a mapping may name every branch's fields.
    """
    if is_ref(value):
        ref = parse(value)
        if ref.root == "steps" and ref.step in null_steps:
            return None
        if ref.root == "steps":
            steps = scope.get("steps", {})
            if ref.step not in steps:
                raise NoOutput(f"{value}: step {ref.step!r} has no output")
            return _follow(steps[ref.step], ref.path, value)
        if ref.root not in scope:
            raise RefError(f"{value}: {ref.root} is not defined here")
        if scope[ref.root] is NOT_YET:
            return None
        return _follow(scope[ref.root], ref.path, value)
    if isinstance(value, Mapping):
        return {key: resolve(item, scope, null_steps) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, scope, null_steps) for item in value]
    return value
