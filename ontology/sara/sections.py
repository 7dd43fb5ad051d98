"""Split a SARA case file into its four sections (pure text handling, no Prolog).

A file is ``% Text``, ``% Question``, ``% Facts`` and ``% Test``, each opened by that comment
line. The Facts and Test parts are handed to Prolog with every other line blanked, so the line
numbers Prolog reports are the file's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ontology.errors import CaseFormatError

SECTIONS = ("Text", "Question", "Facts", "Test")
_HEADER = re.compile(r"^%\s*(Text|Question|Facts|Test)\s*$", re.IGNORECASE)
_GOLD = re.compile(
    r"^(?P<question>.*?)\s*(?:\$(?P<amount>-?[\d,]+)|(?P<label>Entailment|Contradiction))\s*$",
    re.DOTALL,
)

Gold = int | str | None


@dataclass(frozen=True)
class CaseSections:
    """The parts of one case file."""

    text: str
    question: str
    gold: Gold
    facts_text: str
    test_text: str
    facts_first_line: int
    facts_last_line: int


def split_sections(source: str, case_id: str) -> CaseSections:
    """Split ``source`` into its sections.

    Args:
        source: The whole case file.
        case_id: Used in error messages.

    Returns:
        The sections; ``facts_text``/``test_text`` keep the file's line numbering.

    Raises:
        CaseFormatError: A section header is missing, repeated or out of order.
    """
    lines = source.splitlines()
    owner: list[str | None] = []
    seen: list[str] = []
    current: str | None = None
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match:
            name = match.group(1).capitalize()
            if name in seen:
                raise CaseFormatError(
                    f"section '% {name}' appears twice",
                    code="bad_sections",
                    line=number,
                    case_id=case_id,
                )
            seen.append(name)
            current = name
            owner.append(None)
            continue
        if current is None and line.strip() and not line.lstrip().startswith("%"):
            raise CaseFormatError(
                "content before the first section header",
                code="bad_sections",
                line=number,
                case_id=case_id,
            )
        owner.append(current)
    missing = [s for s in SECTIONS if s not in seen]
    if missing:
        raise CaseFormatError(
            f"missing section(s): {', '.join('% ' + m for m in missing)}",
            code="missing_section",
            case_id=case_id,
        )
    if seen != list(SECTIONS):
        raise CaseFormatError(
            f"sections out of order: {seen}", code="bad_sections", case_id=case_id
        )

    def keep(section: str) -> str:
        return "\n".join(ln if who == section else "" for ln, who in zip(lines, owner, strict=True))

    def comments(section: str) -> str:
        parts = [
            re.sub(r"^%\s?", "", ln).rstrip()
            for ln, who in zip(lines, owner, strict=True)
            if who == section
        ]
        return "\n".join(parts).strip()

    facts_lines = [n for n, who in enumerate(owner, start=1) if who == "Facts"]
    question, gold = _split_gold(comments("Question"))
    return CaseSections(
        text=comments("Text"),
        question=question,
        gold=gold,
        facts_text=keep("Facts") + "\n",
        test_text=keep("Test") + "\n",
        facts_first_line=facts_lines[0] if facts_lines else 0,
        facts_last_line=max((n for n in facts_lines if lines[n - 1].strip()), default=0),
    )


def _split_gold(question: str) -> tuple[str, Gold]:
    match = _GOLD.match(question)
    if not match:
        return question, None
    if match.group("amount") is not None:
        return match.group("question"), int(match.group("amount").replace(",", ""))
    return match.group("question"), match.group("label")
