"""Parse SARA case files into ``Case``: text, question, gold answer, ontology facts and query.

The ``:- [statutes/prolog/init].`` line is ignored (it loads the dataset authors' program, which
we neither have nor use). Helper rules in the Facts section are expanded by SWI-Prolog in a
sandbox (``CaseExpander``); clauses of other predicates (helpers, or statute predicates that
binary cases assert as given, like ``s151_c(alice,_,2000,2015)``) are kept as text in
``Case.rules``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ontology.errors import CaseFormatError
from ontology.reasoner import terms
from ontology.sara.expander import CaseExpander
from ontology.sara.sections import split_sections
from ontology.sara.translate import translate_rows
from ontology.tax_facts import Facts
from ontology.tax_schema import Schema, default_schema

DEFAULT_SARA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "sara"


class TaxQuery(BaseModel):
    """A numeric case's question: the tax ``person`` owes for ``year``."""

    kind: Literal["tax"] = "tax"
    person: str
    year: int

    def goal(self, amount_var: str = "Amount") -> str:
        """The Prolog goal ``tax(Person, Year, Amount)`` with the amount left open."""
        return terms.goal("tax", self.person, self.year, terms.Var(amount_var))


# A clause of the statutes as the dataset names it (s151_c, s2_b, ...; gross_income/3 too).
_STATUTE_CLAUSE = re.compile(r"^s\d")


class GoalQuery(BaseModel):
    """A binary case's question: whether the clause its test goal names applies.

    ``text`` is the test goal in the dataset's own clause names (without a leading ``\\+``,
    which is how the dataset writes the expected answer and is never read); ``assumptions`` are
    the case's clauses that state a statutory conclusion, as text. Both are mapped onto our nodes
    by ``ontology/statutes/sara_clauses.pl``.
    """

    kind: Literal["goal"] = "goal"
    predicate: str | None
    text: str
    negated: bool = False
    assumptions: list[str] = Field(default_factory=list)

    def goal(self, answer_var: str = "Answer") -> str:
        """The Prolog goal ``sara_entail(Question, Assumptions, Answer)``."""
        return terms.goal(
            "sara_entail", self.text, "\n".join(self.assumptions), terms.Var(answer_var)
        )


class CaseClause(BaseModel):
    """A non-vocabulary clause of the Facts section, as written in the file."""

    name: str
    arity: int
    line: int
    text: str


class CaseWarning(BaseModel):
    """Something the parser tolerated; ``line`` is the file line when known."""

    code: str
    message: str
    line: int | None = None


class Case(BaseModel):
    """One parsed SARA case."""

    case_id: str
    text: str
    question: str
    gold: int | Literal["Entailment", "Contradiction"] | None
    facts: Facts
    query: Annotated[TaxQuery | GoalQuery, Field(discriminator="kind")]
    rules: list[CaseClause] = Field(default_factory=list)
    unmapped: list[str] = Field(default_factory=list)
    warnings: list[CaseWarning] = Field(default_factory=list)


def sara_dir() -> Path:
    """The SARA data: ``$MODX_SARA_DIR``, else ``shared/data/sara`` beside the repository."""
    env = os.environ.get("MODX_SARA_DIR")
    return Path(env) if env else DEFAULT_SARA_DIR


def case_paths(directory: Path | None = None) -> list[Path]:
    """The case files of the training split (``train.txt`` order when present)."""
    root = directory or sara_dir()
    listing = root / "train.txt"
    if listing.exists():
        ids = [ln.strip() for ln in listing.read_text().splitlines() if ln.strip()]
        return [root / "cases" / (i if i.endswith(".pl") else i + ".pl") for i in ids]
    return sorted((root / "cases").glob("*.pl"))


def parse_case_text(
    source: str, case_id: str, *, expander: CaseExpander | None = None, schema: Schema | None = None
) -> Case:
    """Parse the text of one case file.

    Args:
        source: The file's content.
        case_id: The case name (the file stem).
        expander: A running expander to reuse; a temporary one is used when omitted.
        schema: The ontology schema; the committed ontology's by default.

    Returns:
        The parsed case.

    Raises:
        CaseFormatError: With ``code`` and, where known, ``line``.
    """
    if expander is None:
        with CaseExpander() as own:
            return parse_case_text(source, case_id, expander=own, schema=schema)
    schema = schema or default_schema()
    sec = split_sections(source, case_id)
    warnings: list[CaseWarning] = []
    try:
        raw = expander.expand(case_id, sec.facts_text, sec.test_text)
    except CaseFormatError as exc:
        if exc.code != "syntax" or "end_of_file" not in exc.detail:
            raise
        # The last clause lacks its period (two training files do this); close it and say so.
        try:
            raw = expander.expand(case_id, sec.facts_text + ".\n", sec.test_text)
        except CaseFormatError:
            # Not just a missing period: the input ended inside a clause, so point at its end.
            raise CaseFormatError(
                f"{exc.detail} (unterminated clause)",
                code="syntax",
                line=sec.facts_last_line,
                case_id=case_id,
            ) from exc
        warnings.append(
            CaseWarning(
                code="missing_period",
                line=sec.facts_last_line,
                message="the last clause of % Facts has no final '.'",
            )
        )
    tr = translate_rows(raw["types"], raw["roles"], schema, case_id)
    warnings += [CaseWarning(code="unmapped_fact", message=m) for m in tr.notes]
    warnings += [
        CaseWarning(code="non_ground_fact", message=f"not ground, not expanded: {t}")
        for t in raw["non_ground"]
    ]
    vocabulary = {(n, 1) for n in schema.class_by_prolog} | {(n, 2) for n in schema.roles_by_prolog}
    warnings += [
        CaseWarning(
            code="looks_like_vocabulary",
            line=o["line"],
            message=f"{o['name']}/{o['arity']} is not vocabulary; "
            f"{o['name']}_/{o['arity']} was probably meant",
        )
        for o in raw["other"]
        if (o["name"] + "_", o["arity"]) in vocabulary
    ]
    query = _query(raw["tests"], case_id, sec.gold, warnings)
    if isinstance(query, GoalQuery):
        query.assumptions = [
            o["text"] + "."
            for o in raw["other"]
            if _STATUTE_CLAUSE.match(o["name"]) or (o["name"], o["arity"]) == ("gross_income", 3)
        ]
    return Case(
        case_id=case_id,
        text=sec.text,
        question=sec.question,
        gold=sec.gold,
        facts=tr.facts,
        query=query,
        rules=[CaseClause(**o) for o in raw["other"]],
        unmapped=tr.unmapped,
        warnings=warnings,
    )


def _query(
    tests: list[dict[str, Any]], case_id: str, gold: object, warnings: list[CaseWarning]
) -> TaxQuery | GoalQuery:
    if not tests:
        raise CaseFormatError(
            "the % Test section has no goal", code="no_test_goal", case_id=case_id
        )
    first = tests[0]
    if len(tests) > 1:
        warnings.append(
            CaseWarning(
                code="extra_test_goals",
                line=tests[1]["line"],
                message="only the first test goal is used",
            )
        )
    args = first["args"]
    if first["name"] == "tax" and len(args) == 3 and not first["negated"]:
        person, year, amount = args
        if not (isinstance(person, dict) and "a" in person and isinstance(year, int)):
            raise CaseFormatError(
                "tax/3 test goal needs an atom person and an integer year",
                code="bad_test",
                line=first["line"],
                case_id=case_id,
            )
        if isinstance(amount, int) and isinstance(gold, int) and amount != gold:
            warnings.append(
                CaseWarning(
                    code="gold_mismatch",
                    line=first["line"],
                    message=f"test says {amount}, question says {gold}",
                )
            )
        return TaxQuery(person=person["a"], year=year)
    return GoalQuery(predicate=first["name"], text=first["text"], negated=first["negated"])


def parse_case(
    path: str | Path, *, expander: CaseExpander | None = None, schema: Schema | None = None
) -> Case:
    """Parse one case file (see ``parse_case_text``).

    Raises:
        CaseFormatError: The file cannot be read (``code="io"``) or parsed.
    """
    p = Path(path)
    try:
        source = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFormatError(f"cannot read {p}: {exc}", code="io", case_id=p.stem) from exc
    return parse_case_text(source, p.stem, expander=expander, schema=schema)


def iter_cases(
    paths: Iterable[str | Path],
    *,
    expander: CaseExpander | None = None,
    schema: Schema | None = None,
) -> Iterator[Case]:
    """Parse many files with one SWI-Prolog process (stops at the first error)."""
    if expander is None:
        with CaseExpander() as own:
            yield from iter_cases(paths, expander=own, schema=schema)
        return
    for p in paths:
        yield parse_case(p, expander=expander, schema=schema)


def parse_cases(
    paths: Iterable[str | Path] | None = None, *, schema: Schema | None = None
) -> list[Case]:
    """Parse many files (the whole training split by default) with one SWI-Prolog process."""
    return list(iter_cases(case_paths() if paths is None else paths, schema=schema))
