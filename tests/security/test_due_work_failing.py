"""Runs whose due work always fails cannot starve the other runs' timers, in both modes.

The sweep handles the earliest due runs, a bounded number (``runs.DUE_LIMIT``, 500). A run whose
due change could not be written kept its place at the head of that list and was tried again at
each sweep: enough of them, and no other run's sleep, retry or timeout was handled again. Now
each failure sets the run aside for a while (doubling), and after ``max_failures`` tries the run
is failed with ``due_failed``. A failure of the database itself is not counted against a run:
``tests/orchestrator/test_lease_outage.py`` and ``tests/chaos`` show runs resume after one.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.orchestrator import runs
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.records import Step
from services.orchestrator.steps.sleep import Sleep
from tests.fixtures.stack import Stack

LIMIT = 3  # the sweep's limit, lowered: more runs that fail than it reads at once
BAD = 2 * LIMIT


def unwritable(row: Step) -> None:
    """A value neither database takes: an integer past 64 bits (PostgreSQL refuses it for an
    ``integer`` column; sqlite3 cannot bind it)."""
    row.attempt = 2**70


def raises(row: Step) -> None:
    """A bug in a step kind's timer."""
    raise RuntimeError(f"a bug in the timer of step {row.step_id}")


@pytest.mark.parametrize("fault", [unwritable, raises], ids=["unwritable", "raises"])
async def test_runs_whose_due_work_fails_do_not_starve_another_runs_sleep(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, fault: Any
) -> None:
    monkeypatch.setattr(runs, "DUE_LIMIT", LIMIT)
    aside = stack.runtime.orchestrator.aside
    monkeypatch.setattr(aside, "first_backoff_s", 0.2)  # five tries in ~3 s, not ~15 s
    on_timer = Sleep.on_timer

    async def faulty(self: Sleep, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        if row.step_id == "bad":
            fault(row)
        await on_timer(self, ctx, step, row)

    monkeypatch.setattr(Sleep, "on_timer", faulty)
    bad = {"name": "bad", "steps": [{"id": "bad", "sleep": {"seconds": 0.05}}]}
    bad_ids = [await stack.submit(bad) for _ in range(BAD)]
    good = {"name": "good", "steps": [{"id": "nap", "sleep": {"seconds": 0.5}}]}
    good_id = await stack.submit(good)

    # Without the set-aside, the bad runs' timers (earlier) filled every sweep: this one never
    # woke up, and stayed ``running`` for as long as the bad runs were due.
    run = await stack.wait(good_id)
    assert run["status"] == "succeeded", run

    for run_id in bad_ids:
        run = await stack.wait(run_id)
        assert run["status"] == "failed", run
        assert run["error"]["code"] == "due_failed", run["error"]
        assert f"{aside.max_failures} times" in run["error"]["message"], run["error"]
        events = await stack.events(run_id)
        failed = [e for e in events if e["type"] == "run.failed"]
        assert len(failed) == 1 and failed[0]["data"]["error"]["code"] == "due_failed", failed
        # The step ended with its run: nothing of it is due any more.
        assert [s["status"] for s in run["steps"]] == ["cancelled"], run["steps"]
    assert len(aside) == 0
