"""Run and step states, and the transitions between them as explicit rules.

Every change of state goes through ``allowed``: a transition that is not in the table is
rejected (returned as data, not raised), which is what makes late or duplicate messages
harmless: a result for a step that is already ``succeeded`` asks for ``succeeded -> succeeded``
and is refused.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    """States of a run (DESIGN.md)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


class StepState(StrEnum):
    """States of a step (DESIGN.md); ``retrying`` sits between attempts."""

    PENDING = "pending"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"


TERMINAL_RUN = frozenset(
    {RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT}
)
TERMINAL_STEP = frozenset(
    {
        StepState.SUCCEEDED,
        StepState.FAILED,
        StepState.CANCELLED,
        StepState.TIMED_OUT,
        StepState.SKIPPED,
    }
)
# Steps whose task is out with an agent (or on its way to one).
ACTIVE_STEP = frozenset({StepState.SCHEDULED, StepState.RUNNING})

RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset(
        {RunState.RUNNING, RunState.CANCELLED, RunState.FAILED, RunState.TIMED_OUT}
    ),
    RunState.RUNNING: frozenset(
        {RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT}
    ),
}

STEP_TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    # pending -> running is a for_each parent: it runs while its items do.
    StepState.PENDING: frozenset(
        {
            StepState.SCHEDULED,
            StepState.RUNNING,
            StepState.SKIPPED,
            StepState.CANCELLED,
            StepState.FAILED,
            StepState.SUCCEEDED,
        }
    ),
    StepState.SCHEDULED: frozenset(
        {
            StepState.SCHEDULED,
            StepState.RUNNING,
            StepState.SUCCEEDED,
            StepState.FAILED,
            StepState.RETRYING,
            StepState.CANCELLED,
            StepState.TIMED_OUT,
        }
    ),
    StepState.RUNNING: frozenset(
        {
            StepState.SCHEDULED,
            StepState.SUCCEEDED,
            StepState.FAILED,
            StepState.RETRYING,
            StepState.CANCELLED,
            StepState.TIMED_OUT,
        }
    ),
    # retrying -> running: the next attempt of a step that dispatches nothing (a wait).
    StepState.RETRYING: frozenset(
        {
            StepState.SCHEDULED,
            StepState.RUNNING,
            StepState.CANCELLED,
            StepState.TIMED_OUT,
            StepState.FAILED,
        }
    ),
}


def run_allowed(current: str, target: RunState) -> bool:
    """Whether a run may move from ``current`` to ``target``."""
    return target in RUN_TRANSITIONS.get(RunState(current), frozenset())


def step_allowed(current: str, target: StepState) -> bool:
    """Whether a step may move from ``current`` to ``target``."""
    return target in STEP_TRANSITIONS.get(StepState(current), frozenset())
