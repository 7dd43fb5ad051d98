"""The statute clauses a SARA binary question may name, as ``sara_clauses.pl`` maps them.

A binary case asks whether one clause applies; its goal uses the dataset's clause names and
argument orders (``s2_b_1_A(bob, _, _, 2018)``). The one table that maps them onto our nodes is
``sara_clause/3`` in ``ontology/statutes/sara_clauses.pl``; this module reads the heads of that
table (name, arity, argument names) so that Python can describe the clauses to a model that
writes such a question from English (``legal.formalize``) and check what it wrote, without a
second list to keep in step.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "statutes" / "sara_clauses.pl"

_ROW = re.compile(r"^sara_clause\(([a-z][A-Za-z0-9_]*)\(([^()]*)\)", re.M)
_CLAUSE_NAME = re.compile(r"^s(\d+)((?:_[A-Za-z0-9]+)*)$")

# What the table's argument names stand for (its own naming, read in its comments).
_ROLES = {
    "T": "taxpayer",
    "Y": "year",
    "X": "individual",
    "Q": "qualifying_individual",
    "P": "person",
    "D": "dependent",
    "A": "amount",
    "B": "amount",
    "SD": "amount",
    "TI": "taxable_income",
    "Tax": "tax",
    "GI": "gross_income",
    "Pct": "percent",
    "Itemized": "itemized_deductions",
    "Applicable": "applicable_amount",
    "Amounts": "list_of_amounts",
    "E": "employer",
    "Emp": "employee",
    "Pay": "payment",
    "Place": "place",
    "School": "school_name",
    "Day": "date",
    "Start": "start_date",
    "End": "end_date",
    "Marriage": "marriage",
}


@dataclass(frozen=True)
class ClauseSignature:
    """One dataset clause: its name, arity and what each argument is."""

    name: str
    arity: int
    args: tuple[str, ...]

    @property
    def head(self) -> str:
        """``s2_b_1_A(taxpayer, _, qualifying_individual, year)``."""
        return f"{self.name}({', '.join(self.args)})"

    @property
    def citation(self) -> str:
        """``s2_b_1_A`` -> ``§2(b)(1)(A)``; the name itself when it is no subsection."""
        match = _CLAUSE_NAME.match(self.name)
        if match is None:
            return self.name
        labels = [x for x in match.group(2).split("_") if x]
        return f"§{match.group(1)}" + "".join(f"({x})" for x in labels)


def _role(var: str, clause: str) -> str:
    if var.startswith("_"):
        return "_"
    if var == "S":  # §3306 names services S; elsewhere S is the spouse
        return "service" if clause.startswith("s3306") else "spouse"
    return _ROLES.get(var, var.lower())


@functools.lru_cache(maxsize=1)
def clause_catalog() -> tuple[ClauseSignature, ...]:
    """The dataset clauses of the table, one per name/arity, in the table's order."""
    seen: dict[tuple[str, int], ClauseSignature] = {}
    for match in _ROW.finditer(TABLE.read_text(encoding="utf-8")):
        name = match.group(1)
        args = tuple(a.strip() for a in match.group(2).split(",")) if match.group(2) else ()
        key = (name, len(args))
        roles = tuple(_role(a, name) for a in args)
        if key in seen:  # two readings of one name/arity (s151_b: an amount or an individual)
            roles = tuple(
                new if old == "_" else old if new in ("_", old) else f"{old}_or_{new}"
                for old, new in zip(seen[key].args, roles, strict=True)
            )
        seen[key] = ClauseSignature(name, len(args), roles)
    return tuple(seen.values())


_CITES = re.compile(r"^cites\(([a-z][A-Za-z0-9_]*)/\d+,\s*'([^']+)'", re.M)


@functools.lru_cache(maxsize=1)
def statute_nodes() -> dict[str, str]:
    """Our statute nodes' names and citations (``s152_d_2_C`` -> ``§152(d)(2)(C)``), read from
    their ``cites/3`` declarations: a clause the table does not name is answered through the
    node of the same name, its arguments placed by kind (``generic_clause_node/3``)."""
    nodes: dict[str, str] = {}
    for path in sorted(TABLE.parent.glob("s*.pl")):
        for match in _CITES.finditer(path.read_text(encoding="utf-8")):
            nodes.setdefault(match.group(1), match.group(2))
    return nodes


def known_clause(name: str, arity: int) -> bool:
    """The table maps ``name/arity``, or one of our nodes has that name (the clause is then
    placed by the kinds of its arguments)."""
    return name in statute_nodes() or any(
        c.name == name and c.arity == arity for c in clause_catalog()
    )


def split_goal(text: str) -> tuple[str, list[str]] | None:
    """``"s2_b(bob,_,_,2018)."`` -> ``("s2_b", ["bob", "_", "_", "2018"])``; None when the
    text is not one call (arguments split at top-level commas, quotes and brackets kept)."""
    match = re.match(r"^\s*([a-z][A-Za-z0-9_]*)\((.*)\)\s*\.?\s*$", text, re.S)
    if match is None:
        return None
    args: list[str] = []
    depth, current, quote = 0, "", ""
    for ch in match.group(2):
        if quote:
            current += ch
            quote = "" if ch == quote else quote
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                return None
        if ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    if quote or depth:
        return None
    args.append(current.strip())
    return match.group(1), args


__all__ = ["ClauseSignature", "clause_catalog", "known_clause", "split_goal", "statute_nodes"]
