"""Write Python values as Prolog terms that can only be read back as data.

Every atom that is not a plain lower-case identifier is single-quoted, and every quote, backslash
and control character inside quotes is escaped, so no input text can close a term early and start
a directive (``alice). :- shell(rm).`` becomes the single atom ``'alice). :- shell(rm).'``). The
worker re-reads each fact and checks its shape, so this is one of two independent guards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

_PLAIN_ATOM = re.compile(r"[a-z][A-Za-z0-9_]*\Z")
_VAR_NAME = re.compile(r"[A-Z_][A-Za-z0-9_]*\Z")
# Alphanumeric atoms that are also operators; quoting them keeps them plain arguments.
_OPERATOR_WORDS = frozenset(
    {
        "is",
        "mod",
        "rem",
        "xor",
        "div",
        "rdiv",
        "as",
        "dynamic",
        "discontiguous",
        "initialization",
        "meta_predicate",
        "module_transparent",
        "multifile",
        "public",
        "thread_local",
        "table",
    }
)


@dataclass(frozen=True)
class Var:
    """A Prolog variable in a goal, e.g. ``Var("Amount")``."""

    name: str

    def __post_init__(self) -> None:
        if not _VAR_NAME.match(self.name):
            raise ValueError(f"not a Prolog variable name: {self.name!r}")


@dataclass(frozen=True)
class Str:
    """A Prolog string (double-quoted), as opposed to a plain ``str``, which is an atom."""

    text: str


Term = Var | Str | str | int | float


def _escape(text: str, quote: str) -> str:
    out = []
    for ch in text:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):x}\\")
        else:
            out.append(ch)
    return "".join(out)


def atom(text: str) -> str:
    """Return ``text`` as a Prolog atom, quoted unless it is a plain identifier."""
    if _PLAIN_ATOM.match(text) and text not in _OPERATOR_WORDS:
        return text
    return "'" + _escape(text, "'") + "'"


def string(text: str) -> str:
    """Return ``text`` as a double-quoted Prolog string."""
    return '"' + _escape(text, '"') + '"'


def number(value: int | float) -> str:
    """Return a finite number as Prolog syntax; ``bool`` and NaN/infinity are refused."""
    if isinstance(value, bool):
        raise ValueError("booleans are not Prolog numbers")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = format(value, ".17g")
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # ISO floats need a fraction: 1e+20 -> 1.0e+20
    return mantissa + ("e" + exponent if exponent else "")


def term(value: Term) -> str:
    """Render one argument: ``Var``, ``Str``, atom (``str``), ``int`` or ``float``."""
    if isinstance(value, Var):
        return value.name
    if isinstance(value, Str):
        return string(value.text)
    if isinstance(value, str):
        return atom(value)
    if isinstance(value, int | float):
        return number(value)
    raise TypeError(f"cannot write {type(value).__name__} as a Prolog term")


def compound(name: str, args: Iterable[Term]) -> str:
    """Return ``name(arg, ...)``; with no arguments, the bare atom."""
    rendered = [term(a) for a in args]
    head = atom(name)
    return f"{head}({', '.join(rendered)})" if rendered else head


def goal(name: str, *args: Term) -> str:
    """Build a query goal, e.g. ``goal("tax", "alice", 2019, Var("Amount"))``."""
    return compound(name, args)
