"""Control flow written as a user would, odd cases included: loops whose input names nothing,
and the like. Driven through the real writer on SQLite (the helpers of ``test_engine``)."""

from __future__ import annotations

from typing import Any

from services.orchestrator import runs
from services.orchestrator.definitions import parse_definition
from services.runtime import Runtime
from tests.orchestrator.test_engine import runtime

__all__ = ["runtime"]

NOW = {"sleep": {"seconds": 0}}


def looping(input_: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "w",
        "steps": [
            {"id": "maybe", "when": "$.input.go", **NOW},
            {
                "id": "l",
                "loop": {
                    "steps": [{"id": "n", **NOW}],
                    "input": input_,
                    "until": {"ref": "$.iteration", "op": "gte", "value": 1},
                    "max_iterations": 2,
                },
                **extra,
            },
        ],
    }


async def _rows(rt: Runtime, definition: dict[str, Any], input_: Any) -> dict[str, Any]:
    run = await rt.orchestrator.create_run(parse_definition(definition), input_)
    assert run is not None
    async with rt.readers() as session:
        rows = {row.step_id: row for row in await runs.steps_of(session, run.id)}
    return {"run": run, **rows}


async def test_a_loop_whose_input_reads_a_skipped_step_is_skipped(runtime: Runtime) -> None:
    """As any step that reads a skipped step's output (docs/workflows.md, "References that
    name nothing"); the loop used to fail with ``bad_input`` instead."""
    found = await _rows(runtime, looping({"v": "$.steps.maybe.output"}), {"go": False})
    assert found["l"].status == "skipped", found["l"].error
    assert found["run"].status == "succeeded"


async def test_a_loop_whose_input_names_nothing_fails_with_bad_reference(
    runtime: Runtime,
) -> None:
    """A misspelt field fails the step with ``bad_reference``, not retried, as the doc says
    for every step (it was ``bad_input``, a code the doc never names)."""
    definition = looping({"v": "$.input.lnes"}, retry={"max_attempts": 3})
    found = await _rows(runtime, definition, {"go": True, "lines": 1})
    step = found["l"]
    assert step.status == "failed" and step.attempt == 1
    assert step.error["code"] == "bad_reference" and "$.input.lnes" in step.error["message"]
    assert found["run"].status == "failed"


async def test_the_output_may_read_fields_of_a_branch_not_taken(runtime: Runtime) -> None:
    """A skipped step reads as null in the output mapping, and so do its fields: a mapping
    that names each branch's field used to fail the finished run with ``bad_output``."""
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "s",
                "switch": {"cases": [{"when": "$.input.go", "then": ["a"]}], "default": ["b"]},
            },
            {"id": "a", **NOW},
            {"id": "b", **NOW},
        ],
        "output": {"a": "$.steps.a.output.until", "b": "$.steps.b.output.until"},
    }
    found = await _rows(runtime, definition, {"go": False})
    run = found["run"]
    assert run.status == "succeeded", run.error
    assert run.output["a"] is None and isinstance(run.output["b"], str)
    # A field a step that ran does not have still fails the run.
    definition["output"] = {"b": "$.steps.b.output.nope"}
    found = await _rows(runtime, definition, {"go": False})
    assert found["run"].status == "failed" and found["run"].error["code"] == "bad_output"


async def test_a_field_of_previous_reads_null_in_the_first_iteration(runtime: Runtime) -> None:
    """``$.previous`` is null before the first iteration, and so is every field of it: a
    counter written ``{"n": "$.previous.n"}`` failed its loop at once with ``bad_reference``
    (``$.previous.n: nothing at 'n'``), before any iteration ran."""
    found = await _rows(runtime, looping({"n": "$.previous.n"}), {"go": True})
    assert found["l"].error is None and found["l"].status != "failed", found["l"].error
    assert found["l"].meta["children"], found["l"].meta
