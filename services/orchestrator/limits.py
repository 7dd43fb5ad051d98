"""How much work one request may ask for: items per for_each and per run, steps, input size.

Each limit has a setting to raise it (named in every refusal). What can be known when a run is
submitted (the definition's steps, the input's size, a ``for_each`` over the input itself) is
refused then, with a 422 naming the field; a ``for_each`` over an earlier step's output is
checked when it fans out, and fails that step (``too_many_items``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from services.orchestrator import refs
from services.orchestrator.definitions import Problem, WorkflowDefinition


@dataclass(frozen=True)
class Limits:
    """The limits of one process (``services.config.Settings`` has the defaults)."""

    max_for_each_items: int = 100_000
    max_run_items: int = 200_000
    max_workflow_steps: int = 1_000
    max_input_bytes: int = 1024 * 1024
    for_each_window: int = 1_000
    """How many items of one fan-out are out at once (a step's ``max_parallel`` can lower it)."""
    max_run_depth: int = 10
    """How deep runs may nest (sub-workflows and loops): a chain of workflows that calls
    itself through others would otherwise start runs without end."""
    max_tree_runs: int = 10_000
    """How many runs one submitted run may make in all (its children, theirs, ...): depth
    alone bounds nothing, as a definition of 1,000 sub-workflow steps, nested 10 deep, asks
    for 1,000^10 runs from one request."""

    max_answer_bytes: int = 4 * 1024 * 1024
    """How large an agent's answer (output or error, as JSON) may be, whatever its transport:
    it is stored in the step, the run's output and the ledger, and read back on every look."""

    def answer_problem(self, size: int) -> str | None:
        """Why an agent's message of ``size`` bytes (as sent) is refused, or None."""
        if size <= self.max_answer_bytes:
            return None
        return (
            f"the agent's message is {size} bytes; MODX_MAX_ANSWER_BYTES allows "
            f"{self.max_answer_bytes}"
        )

    def items_problem(self, count: int, already: int) -> str | None:
        """Why a fan-out of ``count`` items, in a run with ``already`` items, is refused."""
        if count > self.max_for_each_items:
            return (
                f"{count} items in one for_each; MODX_MAX_FOR_EACH_ITEMS allows "
                f"{self.max_for_each_items}"
            )
        if already + count > self.max_run_items:
            return (
                f"{already + count} for_each items in one run; MODX_MAX_RUN_ITEMS allows "
                f"{self.max_run_items}"
            )
        return None

    def steps_problem(self, data: Any, base: str = "$") -> Problem | None:
        """A definition (as submitted) with more steps than allowed."""
        steps = data.get("steps") if isinstance(data, dict) else None
        if isinstance(steps, list) and len(steps) > self.max_workflow_steps:
            return Problem(
                path=f"{base}.steps",
                message=f"{len(steps)} steps; MODX_MAX_WORKFLOW_STEPS allows "
                f"{self.max_workflow_steps}",
            )
        return None

    def run_problems(self, definition: WorkflowDefinition, run_input: Any) -> list[Problem]:
        """What a new run asks beyond the limits that its definition and input already show."""
        size = len(orjson.dumps(run_input))
        if size > self.max_input_bytes:
            message = f"{size} bytes; MODX_MAX_INPUT_BYTES allows {self.max_input_bytes}"
            return [Problem(path="$.input", message=message)]
        problems: list[Problem] = []
        total = 0
        for step in definition.steps:
            if step.for_each is None or not step.for_each.startswith("$.input"):
                continue
            try:
                items = refs.resolve(step.for_each, {"input": run_input})
            except refs.RefError:
                continue  # the engine skips the step, as for any missing reference
            if not isinstance(items, list):
                continue
            problem = self.items_problem(len(items), total)
            total += len(items)
            if problem is not None:
                problems.append(Problem(path=step.for_each, message=problem))
        return problems
