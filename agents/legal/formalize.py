"""From a case in English to ontology facts (``legal.formalize``), through ``model.chat``.

The model gets the case text and a JSON Schema generated from the ontology
(``ontology.tax_schema.facts_json_schema``): individuals with ontology classes and properties,
and the question: whose tax, which year (a numeric case), or whether a statute clause applies
(a binary case), written as a goal of the clause table that ``sara_clauses.pl`` maps onto the
statutes (``ontology.sara.clauses``; the schema lists its clauses), with the statutory
conclusions the text states as assumptions. Its answer is checked with ``legal.validate_facts``'s
checks (``ontology.validation``); every problem goes back to the model with its JSON path, for
a bounded number of repair rounds. The result records everything a reviewer needs to see where
the text became facts: the prompt, each raw answer, each repair round's problems, the facts
accepted and the tokens used.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

from agents.models.chat import ChatClient, ChatMessage, ChatRequest
from ontology import Facts, GoalQuery, TaxQuery, validate_facts
from ontology.sara.clauses import clause_catalog, known_clause, split_goal, statute_nodes
from ontology.tax_schema import facts_json_schema

SYSTEM = """You translate a tax case written in English into facts of a tax ontology, so that \
a symbolic reasoner can compute the answer. Use only the classes and properties of the JSON \
Schema you are given; their descriptions say what each one means.

- Every person, event and thing is an individual with an id (lower case, digits and _).
- Events (payments, marriages, services, births, ...) are individuals typed with their class; \
their participants are linked with properties (agent, patient, ...) whose values are ids.
- Dates are "YYYY-MM-DD" in start and end; amounts are whole dollars in amount.
- The question is one of two kinds. How much tax someone owes: the person (an id) and the \
year. Whether a section of the statutes applies: "kind": "goal" and the clause as a goal, \
one of the clause heads listed in the schema, with ids, numbers, "YYYY-MM-DD" strings or _ \
(left open) as arguments; a conclusion under a section that the text states as a given \
("Charlie is a qualifying child of Bob under section 152(c) for 2018") goes to assumptions, \
written the same way and ended by a full stop.
Answer with one JSON object matching the schema, nothing else."""


class RepairRound(BaseModel):
    """One round in which the model's facts failed the ontology checks."""

    round: int
    problems: list[dict[str, str]]
    """``{"path", "code", "message"}`` per problem, as sent back to the model."""


class Formalization(BaseModel):
    """The accepted facts and question, and how they came about."""

    facts: Facts
    query: TaxQuery | GoalQuery
    prompt: list[dict[str, str]]
    answers: list[str] = Field(description="The model's raw answers, in order")
    repairs: list[RepairRound] = Field(default_factory=list)
    tokens: dict[str, int] = Field(default_factory=dict)
    rounds: int


class FormalizationFailed(Exception):
    """The model's facts still failed the checks after the last repair round."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def case_json_schema() -> dict[str, Any]:
    """The schema sent to the model: the ontology's facts schema, whose question may also be a
    clause of the statutes (a binary case), the clauses listed from the one clause table."""
    schema = facts_json_schema()
    tax = schema["properties"]["question"]
    heads = "; ".join(f"{c.head} [{c.citation}]" for c in clause_catalog())
    named = {c.name for c in clause_catalog()}
    others = ", ".join(f"{n} [{c}]" for n, c in statute_nodes().items() if n not in named)
    goal = {
        "type": "object",
        "required": ["kind", "text", "assumptions"],
        "additionalProperties": False,
        "properties": {
            "kind": {"const": "goal"},
            "text": {
                "type": "string",
                "description": "the clause asked about, as a goal of one of these clause "
                f"heads (argument names say what goes where, _ is left open): {heads}. "
                "A subsection not listed there is named the same way, its arguments the "
                "individuals in the order the question gives them, then the year, then an "
                f"amount: {others}",
            },
            "assumptions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "conclusions under a section that the text states as given, "
                "each a clause of the same heads ended by a full stop",
            },
        },
    }
    schema["properties"]["question"] = {"anyOf": [tax, goal]}
    return schema


def problems_of(document: Any) -> list[dict[str, str]]:
    """What is wrong with a model's answer: ontology problems of the facts (paths under
    ``$.facts``), and a question that does not name one of the individuals or, for a clause,
    names no clause of the table."""
    if not isinstance(document, dict):
        return [{"path": "$", "code": "not_an_object", "message": "expected a JSON object"}]
    facts = document.get("facts")
    found = [
        {"path": "$.facts" + p.path.removeprefix("$"), "code": p.code, "message": p.message}
        for p in validate_facts(facts if isinstance(facts, dict) else {})
    ]
    question = document.get("question")
    ids = {
        i.get("id")
        for i in (facts or {}).get("individuals", [])
        if isinstance(facts, dict) and isinstance(i, dict)
    }
    if isinstance(question, dict) and question.get("kind") == "goal":
        return found + _clause_problems(question, ids)
    if not isinstance(question, dict) or question.get("person") not in ids:
        found.append(
            {
                "path": "$.question.person",
                "code": "unknown_individual",
                "message": "the person asked about must be the id of one of the individuals",
            }
        )
    return found


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _clause_problems(question: dict[str, Any], ids: set[Any]) -> list[dict[str, str]]:
    """A clause question's problems: a goal of a clause the table does not map, an argument
    that looks like an id but names no individual; the same for each assumption's head."""
    found: list[dict[str, str]] = []
    items = [("$.question.text", question.get("text"))]
    assumptions = question.get("assumptions", [])
    if not isinstance(assumptions, list):
        assumptions = [assumptions]
    items += [(f"$.question.assumptions[{i}]", a) for i, a in enumerate(assumptions)]
    for path, text in items:
        head = text.split(":-", 1)[0] if isinstance(text, str) else None
        split = split_goal(head) if head is not None else None
        if split is None or not known_clause(split[0], len(split[1])):
            found.append(
                {
                    "path": path,
                    "code": "unknown_clause",
                    "message": "not a goal of one of the clause heads the schema lists "
                    "(name and number of arguments), nor of a subsection it names",
                }
            )
            continue
        for arg in split[1]:
            if _ID.match(arg) and arg not in ids:
                found.append(
                    {
                        "path": path,
                        "code": "unknown_individual",
                        "message": f"{arg} is not the id of one of the individuals",
                    }
                )
    return found


def _query(question: dict[str, Any]) -> TaxQuery | GoalQuery:
    if question.get("kind") == "goal":
        text = str(question["text"]).strip().removesuffix(".")
        split = split_goal(text)
        return GoalQuery(
            predicate=split[0] if split else None,
            text=text,
            assumptions=[
                a if a.endswith(".") else a + "."
                for a in (str(x).strip() for x in question.get("assumptions", []))
            ],
        )
    return TaxQuery.model_validate(question)


def _repair_message(problems: list[dict[str, str]]) -> str:
    lines = [f"- at {p['path']}: {p['message']}" for p in problems]
    return (
        "These facts do not fit the ontology:\n"
        + "\n".join(lines)
        + "\nAnswer again with the whole corrected JSON object."
    )


async def formalize_text(
    text: str, client: ChatClient, *, max_repairs: int = 2, model: str | None = None
) -> Formalization:
    """Translate a case text into validated facts and its question (a tax question, or a
    clause whose application is asked).

    Args:
        text: The case in English (its facts and its question).
        client: The chat client (``model.chat``'s) to ask.
        max_repairs: Repair rounds allowed after the first answer.
        model: The model to ask, when not the gateway's default.

    Raises:
        FormalizationFailed: The facts still fail the checks after the last round (its
            ``record`` holds the prompt, answers and problems); ``ModelError`` from the client.
    """
    schema = case_json_schema()
    messages = [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=text)]
    prompt = [m.model_dump(exclude_none=True) for m in messages]
    answers: list[str] = []
    repairs: list[RepairRound] = []
    tokens = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for round_ in range(max_repairs + 1):
        result = await client.complete(
            ChatRequest(
                messages=messages,
                json_schema=schema,
                schema_name="case_facts",
                temperature=0,
                model=model,
            )
        )
        answers.append(result.content)
        for key in tokens:
            tokens[key] += getattr(result.usage, key)
        document = result.parsed if result.parsed is not None else _loads(result.content)
        problems = problems_of(document)
        if not problems:
            return Formalization(
                facts=Facts.model_validate(document["facts"]),
                query=_query(document["question"]),
                prompt=prompt,
                answers=answers,
                repairs=repairs,
                tokens=tokens,
                rounds=round_ + 1,
            )
        repairs.append(RepairRound(round=round_ + 1, problems=problems))
        messages = [
            *messages,
            ChatMessage(role="assistant", content=result.content),
            ChatMessage(role="user", content=_repair_message(problems)),
        ]
    raise FormalizationFailed(
        f"the facts still fail the ontology checks after {max_repairs} repair round(s); "
        f"first: {repairs[-1].problems[0]['path']}: {repairs[-1].problems[0]['message']}",
        {
            "prompt": prompt,
            "answers": answers,
            "repairs": [r.model_dump() for r in repairs],
            "tokens": tokens,
        },
    )


def _loads(content: str) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def case_text_of(source: str) -> str:
    """The English of a SARA case file: its ``% Text`` and ``% Question`` lines only (the
    question without the gold answer that ends it), never its facts."""
    from ontology.sara.sections import split_sections

    sec = split_sections(source, "case")
    question = re.sub(r"\s*(\$\s*-?[\d,]+|Entailment|Contradiction)\s*$", "", sec.question)
    return f"{sec.text}\n\nQuestion: {question}"


__all__ = [
    "Formalization",
    "FormalizationFailed",
    "RepairRound",
    "case_json_schema",
    "case_text_of",
    "formalize_text",
    "problems_of",
]
