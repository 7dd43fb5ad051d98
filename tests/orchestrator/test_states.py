"""Every pair of states, for runs and for steps, checked against the transition tables.

The tables below are the specification, written out here on purpose rather than read from
``states.py``: adding or removing a transition in the product without changing this page fails
a test, and each pair is its own test case so the failure names the pair.
"""

from __future__ import annotations

from itertools import product
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.orchestrator.context import RunContext
from services.orchestrator.definitions import parse_definition
from services.orchestrator.records import Step
from services.orchestrator.runs import new_run
from services.orchestrator.states import (
    ACTIVE_STEP,
    TERMINAL_RUN,
    TERMINAL_STEP,
    RunState,
    StepState,
    run_allowed,
    step_allowed,
)

RUN_SPEC = {
    "pending": {"running", "cancelled", "failed", "timed_out"},
    "running": {"succeeded", "failed", "cancelled", "timed_out"},
}
STEP_SPEC = {
    # pending -> running: a for_each parent runs while its items do; -> succeeded: an empty
    # fan-out; -> failed: a bad for_each or a reference that fails at fan-out.
    "pending": {"scheduled", "running", "skipped", "cancelled", "failed", "succeeded"},
    # scheduled -> scheduled: dispatched again (the agent's lease expired).
    "scheduled": {
        "scheduled",
        "running",
        "succeeded",
        "failed",
        "retrying",
        "cancelled",
        "timed_out",
    },
    "running": {"scheduled", "succeeded", "failed", "retrying", "cancelled", "timed_out"},
    # retrying -> cancelled: the run is cancelled (or times out) during the retry's backoff;
    # -> running: a wait's next attempt (nothing is dispatched).
    "retrying": {"scheduled", "running", "cancelled", "timed_out", "failed"},
}
RUN_PAIRS = list(product([s.value for s in RunState], repeat=2))
STEP_PAIRS = list(product([s.value for s in StepState], repeat=2))


def test_the_specification_covers_every_state() -> None:
    assert len(RUN_PAIRS) == 6 * 6 and len(STEP_PAIRS) == 9 * 9
    assert {s.value for s in TERMINAL_RUN} == set(RunState) - set(RUN_SPEC)
    assert {s.value for s in TERMINAL_STEP} == set(StepState) - set(STEP_SPEC)
    assert {s.value for s in ACTIVE_STEP} == {"scheduled", "running"}


@pytest.mark.parametrize(("current", "target"), RUN_PAIRS)
def test_run_transition(current: str, target: str) -> None:
    expected = target in RUN_SPEC.get(current, set())
    assert run_allowed(current, RunState(target)) is expected


@pytest.mark.parametrize(("current", "target"), STEP_PAIRS)
def test_step_transition(current: str, target: str) -> None:
    expected = target in STEP_SPEC.get(current, set())
    assert step_allowed(current, StepState(target)) is expected


def _context() -> RunContext:
    definition = parse_definition({"name": "w", "steps": [{"id": "s", "capability": "t.x"}]})
    run, _ = new_run(definition, {})
    # The rules never touch the session: moving states is pure bookkeeping.
    return RunContext(session=cast(AsyncSession, None), run=run, steps={})


@pytest.mark.parametrize(("current", "target"), RUN_PAIRS)
def test_a_run_moves_only_along_the_table(current: str, target: str) -> None:
    ctx = _context()
    ctx.run.status = current
    moved = ctx.move_run(RunState(target))
    assert moved is (target in RUN_SPEC.get(current, set()))
    assert ctx.run.status == (target if moved else current)
    recorded = [(e["from_state"], e["to_state"]) for e in ctx.events]
    assert recorded == ([(current, target)] if moved else [])
    if moved and target != "running":
        assert ctx.run.finished_at == ctx.now
    if moved and target == "running":
        assert ctx.run.started_at == ctx.now and ctx.run.finished_at is None


@pytest.mark.parametrize(("current", "target"), STEP_PAIRS)
def test_a_step_moves_only_along_the_table(current: str, target: str) -> None:
    ctx = _context()
    step = Step(
        run_id=ctx.run.id,
        step_id="s",
        definition_id="s",
        capability="t.x",
        status=current,
        attempt=1,
        max_attempts=1,
        due_at=ctx.now,
        duplicates=0,
        meta={},
    )
    moved = ctx.move_step(step, StepState(target))
    assert moved is (target in STEP_SPEC.get(current, set()))
    assert step.status == (target if moved else current)
    recorded = [(e["step_id"], e["from_state"], e["to_state"]) for e in ctx.events]
    assert recorded == ([("s", current, target)] if moved else [])
    if moved and target in TERMINAL_STEP:
        # A finished step has no timer left: no sweep picks it up again.
        assert step.finished_at == ctx.now and step.due_at is None
    else:
        assert step.finished_at is None and step.due_at == ctx.now
    if moved and target == "running":
        assert step.started_at == ctx.now
