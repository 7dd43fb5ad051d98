"""docs/workflows.md's JSON examples are what the server accepts: each object in a ``json``
block is a step, or a whole definition, and must pass the same models a submitted definition
does (unknown or misspelt fields are refused there), so the page cannot drift from them; and a
section's steps, taken together, are a workflow that passes the whole check of registration."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from services.orchestrator.definitions import StepDefinition, WorkflowDefinition, parse_definition
from tests.fixtures.stack import REPO

PAGE = REPO / "docs" / "workflows.md"


def examples(page: str) -> list[dict[str, Any]]:
    """Every JSON object of the page's ``json`` blocks (a block may hold several, one after
    the other, with or without commas between them)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for block in re.findall(r"^```json\n(.*?)^```$", page, re.M | re.S):
        at = 0
        while True:
            while at < len(block) and block[at] in " \n,":
                at += 1
            if at == len(block):
                break
            value, at = decoder.raw_decode(block, at)
            found.append(value)
    return found


def check(example: dict[str, Any]) -> None:
    if "name" in example and "steps" in example:
        WorkflowDefinition.model_validate(example)
    else:
        StepDefinition.model_validate(example)


def test_the_page_has_an_example_of_every_step_kind() -> None:
    found = examples(PAGE.read_text())
    kinds = {
        kind for e in found for kind in ("wait", "sleep", "switch", "workflow", "loop") if kind in e
    }
    assert kinds == {"wait", "sleep", "switch", "workflow", "loop"}
    assert any("for_each" in step for e in found for step in e.get("steps", [e]))


@pytest.mark.parametrize(
    "example", examples(PAGE.read_text()), ids=lambda e: str(e.get("id") or e.get("name"))
)
def test_each_example_is_accepted(example: dict[str, Any]) -> None:
    check(example)


def test_a_misspelt_field_would_be_caught() -> None:
    """The check is not vacuous: the loop example with ``max_iteration`` is refused."""
    page = PAGE.read_text().replace('"max_iterations": 10', '"max_iteration": 10')
    loop = next(e for e in examples(page) if "loop" in e)
    with pytest.raises(ValidationError, match="max_iteration"):
        check(loop)


def sections(page: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each section's (``##`` or ``###``) JSON examples, in order."""
    parts = re.split(r"^(#{2,3} .*)$", page, flags=re.M)
    return [(title, examples(body)) for title, body in zip(parts[1::2], parts[2::2], strict=True)]


@pytest.mark.parametrize(
    ("title", "found"),
    [(t, f) for t, f in sections(PAGE.read_text()) if f],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_sections_steps_make_a_workflow_the_server_accepts(
    title: str, found: list[dict[str, Any]]
) -> None:
    """Copied together, a section's steps are a workflow that passes the server's whole
    check (references, branches, cycles), not each field alone: a step that reads a step the
    page never shows (the switch reading ``total``) is refused when registered."""
    steps = [e for e in found if "steps" not in e]
    for definition in [e for e in found if "steps" in e]:
        parse_definition(definition)
    if steps:
        parse_definition({"name": "example", "steps": steps})
