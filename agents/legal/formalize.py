"""From a case in English to ontology facts (``legal.formalize``), through ``model.chat``.

The model gets the case text and a JSON Schema generated from the ontology
(``ontology.tax_schema.facts_json_schema``): individuals with ontology classes and properties,
and the question (whose tax, which year). Its answer is checked with ``legal.validate_facts``'s
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
from ontology import Facts, TaxQuery, validate_facts
from ontology.tax_schema import facts_json_schema

SYSTEM = """You translate a tax case written in English into facts of a tax ontology, so that \
a symbolic reasoner can compute the answer. Use only the classes and properties of the JSON \
Schema you are given; their descriptions say what each one means.

- Every person, event and thing is an individual with an id (lower case, digits and _).
- Events (payments, marriages, services, births, ...) are individuals typed with their class; \
their participants are linked with properties (agent, patient, ...) whose values are ids.
- Dates are "YYYY-MM-DD" in start and end; amounts are whole dollars in amount.
- The question names the person whose tax is asked (an id) and the year.
Answer with one JSON object matching the schema, nothing else."""


class RepairRound(BaseModel):
    """One round in which the model's facts failed the ontology checks."""

    round: int
    problems: list[dict[str, str]]
    """``{"path", "code", "message"}`` per problem, as sent back to the model."""


class Formalization(BaseModel):
    """The accepted facts and question, and how they came about."""

    facts: Facts
    query: TaxQuery
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


def problems_of(document: Any) -> list[dict[str, str]]:
    """What is wrong with a model's answer: ontology problems of the facts (paths under
    ``$.facts``) and a question that does not name one of the individuals."""
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
    if not isinstance(question, dict) or question.get("person") not in ids:
        found.append(
            {
                "path": "$.question.person",
                "code": "unknown_individual",
                "message": "the person asked about must be the id of one of the individuals",
            }
        )
    return found


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
    """Translate a case text into validated facts and a tax question.

    Args:
        text: The case in English (its facts and its question).
        client: The chat client (``model.chat``'s) to ask.
        max_repairs: Repair rounds allowed after the first answer.
        model: The model to ask, when not the gateway's default.

    Raises:
        FormalizationFailed: The facts still fail the checks after the last round (its
            ``record`` holds the prompt, answers and problems); ``ModelError`` from the client.
    """
    schema = facts_json_schema()
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
                query=TaxQuery.model_validate(document["question"]),
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
    "case_text_of",
    "formalize_text",
    "problems_of",
]
