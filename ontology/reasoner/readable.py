"""Proofs a person can check: the one renderer behind the CLI, the API and the dashboard.

A proof tree from ``prove/2`` (``ontology/statutes/proof.pl``) becomes:

* the answer on the top line (``Answer: $1,234`` or ``Answer: Entailment``);
* the provisions applied, as an indented tree: each step names its subsection and what it
  computes, amounts in dollars (``$35,928.50``), dates as dates, and, at each node that combines
  the amounts of the steps beneath it, the arithmetic (``$119,517 = $133,200 \u2212 $11,683 \u2212
  $2,000``); the case facts a step used are listed under it; conclusions the case states are
  marked as assumptions;
* the provisions checked and found not applicable, each with where it was checked and why
  (the failed condition, when the proof carries the trace).

Plumbing of the formalization is hidden: aggregate and item nodes read as "sum of the amounts
below", predicate names become words, and the value argument is shown once, as the amount.
Every field of ``ProofNode`` stays available to callers that need the raw tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from ontology.reasoner.models import ProofNode

FACT = "fact"
MINUS = "\u2212"

# Nodes whose value is not an amount of money (set on the Prolog side by ``value_unit/2``;
# the aggregate kinds here).
_COUNT_COMBINES = {"count"}


@dataclass
class Step:
    """One applied step of the proof, as shown."""

    depth: int
    text: str
    citation: str | None
    amount: Fraction | None = None
    combine: str | None = None
    operands: list[Fraction] = field(default_factory=list)
    """The amounts of the steps beneath that this one combines (in order)."""
    assumption: bool = False


@dataclass
class NotApplicable:
    """A provision checked and found not to apply."""

    citation: str | None
    text: str
    under: str
    why: list[str] = field(default_factory=list)


@dataclass
class ReadableProof:
    """An answer with the steps behind it, split into applied and not applicable."""

    answer: str
    applied: list[Step]
    not_applicable: list[NotApplicable]

    def text(self, indent: str = "  ") -> str:
        """The explanation as plain text (the top line is the answer)."""
        out = [f"Answer: {self.answer}", "", "Provisions applied:"]
        out += [f"{indent * (s.depth + 1)}{s.text}" for s in self.applied] or [f"{indent}none"]
        if self.not_applicable:
            out += ["", "Checked, not applicable:"]
            for na in self.not_applicable:
                where = f" (checked for {na.under})" if na.under else ""
                out.append(f"{indent}{na.text}{where}")
                out += [f"{indent * 2}{reason}" for reason in na.why]
        return "\n".join(out)

    def lines(self) -> list[dict[str, object]]:
        """The applied steps as ``{depth, text, citation}`` records."""
        return [{"depth": s.depth, "text": s.text, "citation": s.citation} for s in self.applied]


def dollars(amount: Fraction | int | float) -> str:
    """``$1,234`` for whole dollars, ``$1,234.50`` otherwise (cents rounded half up)."""
    value = Fraction(amount)
    sign = "-" if value < 0 else ""
    value = abs(value)
    cents = int(value * 100 + Fraction(1, 2))
    whole, part = divmod(cents, 100)
    return f"{sign}${whole:,}" + (f".{part:02d}" if part else "")


def node_amount(node: ProofNode) -> Fraction | None:
    """The node's value, exact when the proof gives the rational (``"819953r25"``)."""
    if node.exact:
        num, _, den = node.exact.partition("r")
        try:
            return Fraction(int(num), int(den or 1))
        except ValueError:
            pass
    if node.value is None:
        return None
    return (
        Fraction(node.value).limit_denominator(10**6)
        if isinstance(node.value, float)
        else (Fraction(node.value))
    )


def _split_args(text: str) -> tuple[str, list[str]]:
    """``'s63_b(alice,2019,-5480)'`` -> ``('s63_b', ['alice', '2019', '-5480'])``."""
    match = re.match(r"^([a-z][A-Za-z0-9_]*)\((.*)\)$", text, re.S)
    if not match:
        return text, []
    name, inner = match.group(1), match.group(2)
    args, depth, current, quote = [], 0, "", ""
    for ch in inner:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            args.append(current)
            current = ""
        else:
            current += ch
    args.append(current)
    return name, [a.strip() for a in args]


_LABEL = re.compile(r"^(\s*)\(([A-Za-z0-9]+)\)\s*(.*)$")
_TITLE = re.compile(r"^§(\d+)\.\s*(.+)$")


@lru_cache(maxsize=1)
def statute_headings() -> dict[str, str]:
    """Citation -> the statute's own words for it: the heading of a subsection (``§63(c)``:
    "Standard deduction"), or the opening words of an item (``§63(b)(1)``: "the standard
    deduction"). Read from the SARA statute texts; empty when they are not available."""
    from ontology.sara.case import sara_dir

    headings: dict[str, str] = {}
    for path in sorted((sara_dir() / "statutes").glob("section*.txt")):
        section = path.stem.removeprefix("section")
        stack: list[tuple[int, str]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if title := _TITLE.match(line.strip()):
                headings[f"§{title.group(1)}"] = title.group(2).strip()
                continue
            match = _LABEL.match(line)
            if match is None:
                continue
            indent = len(match.group(1).expandtabs(4))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, match.group(2)))
            words = re.sub(r"(,?\s*(and|or)|[,;:.\-—])+\s*$", "", match.group(3)).strip()
            if words and len(words) <= 70:
                headings[f"§{section}" + "".join(f"({lab})" for _, lab in stack)] = words
    return headings


def _words(name: str) -> str:
    """A predicate name as words: ``adjusted_gross_income`` -> ``adjusted gross income``."""
    name = re.sub(r"^s\d+(_[A-Za-z0-9]+)*?__", "", name)  # s63_b__itemizes -> itemizes
    return name.replace("_", " ").strip()


def _describe(node: ProofNode, amount: Fraction | None) -> str:
    goal = node.goal
    if goal.startswith("\\+"):
        goal = goal[2:].lstrip()
    name, args = _split_args(goal)
    if name in ("sum_of", "set_of", "count_of") or goal == "item":
        return {"sum_of": "sum of the amounts below", "item": "one amount of the sum"}.get(
            name if name != goal else "item", "the items below"
        )
    if args and amount is not None and _same_number(args[-1], amount):
        args = args[:-1]  # the value is shown as the amount
    citation = node.citation if node.citation and node.citation != FACT else None
    if citation:
        label = _words(name) if "__" in name else statute_headings().get(citation)
        head = f"{citation} {label}" if label else citation
    else:
        head = _words(name)
    return f"{head} ({', '.join(args)})" if args else head


def _same_number(text: str, amount: Fraction) -> bool:
    try:
        return Fraction(text.replace("r", "/")) == amount
    except (ValueError, ZeroDivisionError):
        return False


def _shown(amount: Fraction, unit: str) -> str:
    if unit == "percent":
        return f"{float(amount):g}%"
    if unit in ("count", "weeks", "days"):
        return f"{float(amount):g}"
    return dollars(amount)


def _arithmetic(combine: str, operands: list[Fraction], unit: str) -> str:
    shown = [_shown(o, unit) for o in operands]
    if combine == "sum":
        return " + ".join(shown) if shown else "nothing to add: 0"
    if combine == "difference" and shown:
        return f" {MINUS} ".join(shown)
    if combine == "round" and shown:
        return f"{shown[0]} rounded to the dollar"
    if combine in ("same", "last") and shown:
        return shown[-1]
    return ""


def readable_proof(proof: ProofNode, answer: object = None) -> ReadableProof:
    """Render a proof tree (see the module docstring).

    Args:
        proof: The proof's root.
        answer: The answer to put on the top line (the root's value when omitted).
    """
    applied: list[Step] = []
    not_applicable: list[NotApplicable] = []

    def unit_of(node: ProofNode) -> str:
        if node.combine in _COUNT_COMBINES:
            return "count"
        return node.unit or "dollars"

    def walk(node: ProofNode, depth: int, parent_text: str) -> None:
        if _negated(node):
            not_applicable.append(
                NotApplicable(
                    node.citation,
                    _describe(node, None),
                    parent_text,
                    _trace(node.children),
                )
            )
            return
        if node.citation == FACT:
            applied.append(Step(depth, f"fact: {node.goal}", None))
            return
        amount = node_amount(node)
        unit = unit_of(node)
        text = _describe(node, amount)
        operands = [
            a for c in node.children if not c.negation and (a := node_amount(c)) is not None
        ]
        step = Step(depth, text, node.citation, amount, node.combine, operands, node.assumption)
        if amount is not None:
            step.text += f": {_shown(amount, unit)}"
            if node.combine and (arith := _arithmetic(node.combine, operands, unit)):
                step.text += f" = {arith}"
        if node.assumption:
            step.text += "  [stated in the case: an assumption of this proof]"
        if node.repeat:
            step.text += "  (as shown above)"
        applied.append(step)
        shown_facts = {c.goal for c in node.children}
        for fact in node.facts:
            if fact not in shown_facts:
                applied.append(Step(depth + 1, f"fact: {fact}", None))
        for child in node.children:
            walk(child, depth + 1, text)

    if proof.goal.startswith("sara_entail(") and proof.children:
        # A binary question: show the clause's proof, or why it fails, not the wrapper.
        _, args = _split_args(proof.goal)
        clause = args[0].strip("'\"") if args else proof.goal
        question = proof.children[0]
        if _negated(question):
            not_applicable.append(
                NotApplicable(
                    None,
                    f"the clause asked about: {_unvar(clause)}",
                    "",
                    _trace(question.children),
                )
            )
        else:
            for child in question.children:
                walk(child, 0, "")
    else:
        walk(proof, 0, "")
    if answer is None:
        root = node_amount(proof)
        answer = root if root is not None else proof.goal
    top = dollars(answer) if isinstance(answer, (int, Fraction)) else str(answer)
    if isinstance(answer, float):
        top = dollars(Fraction(answer).limit_denominator(100))
    return ReadableProof(top, applied, not_applicable)


def _negated(node: ProofNode) -> bool:
    """A ``\\+ G`` node: G was checked and does not hold."""
    return node.negation or node.goal.startswith("\\+")


def _trace(nodes: list[ProofNode], depth: int = 0) -> list[str]:
    """A failed proof's trace, to its full depth: what holds, what fails and, beneath each
    failure, why; alternatives (the rules of a provision, the solutions of a condition) each
    with their own reasons."""
    out: list[str] = []
    branches = sum(1 for n in nodes if n.branch)
    k = 0
    for node in nodes:
        pad = "  " * depth
        if node.truncated:
            out.append(
                f"{pad}not explained further (the trace's size limit): {_describe(node, None)}"
            )
        elif node.branch:
            k += 1
            label = f" ({_describe(node, None)})" if node.goal else ""
            out.append(f"{pad}alternative {k} of {branches}{label}: fails")
            out += _trace(node.children, depth + 1)
        elif node.failed:
            inner = node.goal[2:].lstrip() if node.goal.startswith("\\+") else node.goal
            if inner.startswith("\\+"):  # a condition "not X" that failed: X holds
                positive = node.model_copy(update={"goal": inner[2:].lstrip()})
                out.append(
                    f"{pad}fails: it must not hold, and it does: {_describe(positive, None)}"
                )
            elif _is_fact(inner):
                out.append(f"{pad}fails: not stated in the case: {_unvar(inner)}")
            else:
                line = f"{pad}fails: {_describe(node, None)}"
                if node.evaluated:
                    line += f" ({node.evaluated} is false)"
                if node.repeat:
                    line += " (explained above)"
                out.append(line)
            out += _trace(node.children, depth + 1)
        elif _negated(node):  # "not X", checked: X does not apply, as required
            out.append(f"{pad}holds: not {_describe(node, None)}")
        elif node.citation == FACT:
            out.append(f"{pad}holds: fact {node.goal}")
        else:
            amount = node_amount(node)
            unit = "count" if node.combine in _COUNT_COMBINES else node.unit or "dollars"
            shown = f": {_shown(amount, unit)}" if amount is not None else ""
            out.append(f"{pad}holds: {_describe(node, amount)}{shown}")
    return out


def _is_fact(goal: str) -> bool:
    """A goal of the case vocabulary (``agent_(e, bob)``): its name ends in ``_``."""
    name, _ = _split_args(goal)
    return name.endswith("_")


def _unvar(text: str) -> str:
    """Prolog's variable names (``_5808``, ``_G12``) as ``_``."""
    return re.sub(r"\b_[A-Z]?\d+\b", "_", text)


__all__ = ["NotApplicable", "ReadableProof", "Step", "dollars", "node_amount", "readable_proof"]
