"""What JSON from outside must satisfy before MODX stores it or passes it on.

PostgreSQL refuses NUL bytes in text, UTF-8 has no lone surrogates, JSON has no ``NaN`` or
``Infinity`` (Python's parser accepts them, and they were stored as ``null``), integers past 64
bits fit no column, and deep nesting exhausts the recursion of every tool downstream. The API's
input guard and the HTTP agents' answers are checked with these, and the first problem found is
reported with its JSON path.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from services.db.ranges import INT64_MAX, INT64_MIN

MAX_DEPTH = 64
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


class _Constant:
    """``NaN``, ``Infinity`` or ``-Infinity`` as parsed, kept to be refused with its path."""

    def __init__(self, text: str) -> None:
        self.text = text


def string_problem(value: str) -> str | None:
    """Why a string is refused, or None."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    return (
        "NUL bytes are not allowed"
        if found.group() == "\x00"
        else "lone surrogates are not allowed"
    )


def value_problem(value: Any, path: str = "$") -> tuple[str, str] | None:
    """The first (JSON path, reason) at fault in a parsed JSON value, or None."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            problem = string_problem(item)
            if problem is not None:
                return where, problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return where, "integers must fit in 64 bits"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return where, "numbers must be finite"
        elif isinstance(item, _Constant):
            return where, f"{item.text} is not a JSON number"
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return where, f"nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, list):
                stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(item))
                continue
            for key, v in item.items():
                problem = string_problem(key)
                if problem is not None:
                    return where, f"a key: {problem}"
                stack.append((v, f"{where}.{key}", depth + 1))
    return None


def parse_json(body: bytes) -> Any:
    """Parse a JSON body as the routes will, keeping ``NaN``/``Infinity`` visible; raises
    ValueError when it is not JSON (the framework then answers 422 itself)."""
    try:
        return json.loads(body, parse_constant=_Constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None
