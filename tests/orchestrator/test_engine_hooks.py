"""The engine's entry points that the service calls from outside a message or a sweep: a
child run that ended (``child_finished``) and a freed place of a capability (``wake``). Driven
in-process like ``test_engine.py`` (the real writer on SQLite, no loops, the transaction's clock
moved by the test), so that the mutation profile ``engine`` can use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bus.envelope import Kind
from services.config import Settings
from services.db.models import RunRow
from services.orchestrator import workflows
from services.orchestrator.context import QUEUED, RunContext
from services.orchestrator.definitions import parse_definition
from services.orchestrator.records import Run
from services.orchestrator.steps import ChildOutcome
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.fixtures.services import wait_until
from tests.orchestrator.test_engine import at, events, ledger_of
from tests.orchestrator.test_engine_paths import answer, rows

NOW = {"sleep": {"seconds": 0}}  # a step that ends as soon as it starts


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """Embedded MODX without its loops; one bus agent serving ``t.work`` and ``t.one``, of
    which one task at most is in flight (``concurrency: 1``)."""
    rt = await Runtime.open(Settings(data_dir=tmp_path), orchestrate=False)
    assert rt.orchestrator.engine.capacity is not None  # embedded: places held in memory
    card = AgentCard(
        name="worker", capabilities=[{"name": "t.work"}, {"name": "t.one", "concurrency": 1}]
    )
    async with rt.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    try:
        yield rt
    finally:
        await rt.close()


async def _start(rt: Runtime, definition: dict[str, Any]) -> Run:
    run = await rt.orchestrator.create_run(parse_definition(definition), {})
    assert run is not None and run.status == "running"
    return run


async def _states(rt: Runtime, run: Run) -> dict[str, tuple[str, int, bool]]:
    """Each step's status, attempt and whether it waits for a place."""
    return {
        step_id: (row.status, row.attempt, QUEUED in (row.meta or {}))
        for step_id, row in (await rows(rt, run)).items()
    }


# -- wake: a freed place goes to the step that waits for it -----------------------------------


async def test_a_freed_place_wakes_the_queued_step_which_sends_its_task(
    runtime: Runtime,
) -> None:
    run = await _start(
        runtime,
        {
            "name": "w",
            "steps": [{"id": "a", "capability": "t.one"}, {"id": "b", "capability": "t.one"}],
        },
    )
    assert await _states(runtime, run) == {
        "a": ("scheduled", 1, False),
        "b": ("pending", 0, True),  # one place, held by a
    }
    # The place is still held: waking b changes nothing.
    woken = await at(runtime, run, 1, lambda ctx: runtime.orchestrator.engine.wake(ctx, "b"))
    assert woken.steps["b"].status == "pending" and QUEUED in woken.steps["b"].meta
    # a's answer frees the place; the service wakes b, which sends its first attempt.
    await at(runtime, run, 2, answer(runtime, run, "a", Kind.RESULT, {"output": 1}, "t.one"))

    async def b_sent() -> bool:
        return (await _states(runtime, run))["b"] == ("scheduled", 1, False)

    await wait_until(b_sent, timeout=30)


async def _retry_queued_behind_b(rt: Runtime) -> Run:
    """a fails and waits to retry; b takes the place; a's retry comes due while b holds it, so
    a queues while retrying (still at attempt 1)."""
    step: dict[str, Any] = {"capability": "t.one", "retry": {"max_attempts": 3}}
    run = await _start(rt, {"name": "w", "steps": [{"id": "a", **step}, {"id": "b", **step}]})
    error = {"error": {"code": "busy", "message": "busy", "retryable": True}}
    await at(rt, run, 1, answer(rt, run, "a", Kind.ERROR, error, "t.one"))

    async def b_sent() -> bool:
        return (await _states(rt, run))["b"] == ("scheduled", 1, False)

    await wait_until(b_sent, timeout=30)
    ctx = await at(rt, run, 120, rt.orchestrator.engine.on_due)  # a's backoff is over
    assert (ctx.steps["a"].status, ctx.steps["a"].attempt) == ("retrying", 1)
    assert QUEUED in ctx.steps["a"].meta
    return run


async def test_a_step_queued_for_its_retry_is_woken_into_its_next_attempt(
    runtime: Runtime,
) -> None:
    run = await _retry_queued_behind_b(runtime)
    await at(runtime, run, 121, answer(runtime, run, "b", Kind.RESULT, {"output": 2}, "t.one"))

    async def a_sent_again() -> bool:
        return (await _states(runtime, run))["a"] == ("scheduled", 2, False)

    await wait_until(a_sent_again, timeout=30)


async def test_a_step_queued_for_its_retry_asks_again_when_due_for_its_next_attempt(
    runtime: Runtime,
) -> None:
    """No wake-up comes (b never answers): when a is due again, after b's place lapsed at b's
    task deadline (the default timeout, 300 s), the sweep sends a's attempt 2."""
    run = await _retry_queued_behind_b(runtime)
    ctx = await at(runtime, run, 400, runtime.orchestrator.engine.on_due)
    assert (ctx.steps["a"].status, ctx.steps["a"].attempt) == ("scheduled", 2)
    assert QUEUED not in ctx.steps["a"].meta
    assert ctx.steps["b"].status == "retrying"  # its own attempt timed out meanwhile


async def test_a_queued_step_asks_again_when_due_and_takes_a_lapsed_place(
    runtime: Runtime,
) -> None:
    """b waits for a's place and asks again every ``recheck_s`` (5 s); a's place lapses at its
    task deadline (10 s) though a never answers, and the next ask takes it: attempt 1."""
    run = await _start(
        runtime,
        {
            "name": "w",
            "steps": [
                {"id": "a", "capability": "t.one", "timeout_s": 10, "on_error": "continue"},
                {"id": "b", "capability": "t.one"},
                # Due in the same sweep, after b: b's turn does not end the sweep.
                {"id": "c", "capability": "t.work", "timeout_s": 11, "on_error": "continue"},
            ],
        },
    )
    engine = runtime.orchestrator.engine
    early = await at(runtime, run, 6, engine.on_due)
    assert early.steps["b"].status == "pending" and QUEUED in early.steps["b"].meta
    assert early.steps["b"].due_at == early.now + timedelta(seconds=5)  # asked, and waits on
    ctx = await at(runtime, run, 11.5, engine.on_due)
    assert ctx.steps["a"].status == "succeeded"  # its timeout, continued
    assert (ctx.steps["b"].status, ctx.steps["b"].attempt) == ("scheduled", 1)
    assert QUEUED not in ctx.steps["b"].meta
    assert ctx.steps["c"].status == "succeeded"  # its timeout, continued


async def test_a_queued_fan_out_item_asks_again_when_due(runtime: Runtime) -> None:
    """A fan-out's item is not a step of the definition: ``advance`` never sends it, so the
    sweep must make a queued item ask for its place itself, every ``recheck_s`` (5 s)."""
    definition = {
        "name": "w",
        "steps": [{"id": "f", "capability": "t.one", "for_each": "$.input.xs", "input": "$.item"}],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"xs": [1, 2]})
    assert run is not None
    assert await _states(runtime, run) == {
        "f": ("running", 0, False),
        "f[0]": ("scheduled", 1, False),
        "f[1]": ("pending", 0, True),  # one place, held by f[0]
    }
    engine = runtime.orchestrator.engine
    for seconds in (6, 12):
        ctx = await at(runtime, run, seconds, engine.on_due)
        item = ctx.steps["f[1]"]
        assert (item.status, QUEUED in item.meta) == ("pending", True)
        assert item.due_at == ctx.now + timedelta(seconds=5)  # asked, and waits on


async def test_waking_a_step_that_waits_for_no_place_does_nothing(runtime: Runtime) -> None:
    """An unknown step, a step waiting for its dependencies, a step of an ended run: no task."""
    run = await _start(
        runtime,
        {
            "name": "w",
            "steps": [
                {"id": "a", "capability": "t.work"},
                {"id": "later", "capability": "t.work", "after": ["a"]},
            ],
        },
    )
    engine = runtime.orchestrator.engine
    for step_id in ("nothing", "later"):
        ctx = await at(runtime, run, 1, partial(engine.wake, step_id=step_id))
        later = ctx.steps["later"]
        assert (later.status, later.attempt, later.task_id) == ("pending", 0, None)
    await at(runtime, run, 2, lambda c: _cancel(runtime, c))
    ctx = await at(runtime, run, 3, lambda c: engine.wake(c, "later"))
    assert (ctx.steps["later"].status, ctx.steps["later"].task_id) == ("cancelled", None)


async def _cancel(rt: Runtime, ctx: RunContext) -> bool:
    return rt.orchestrator.engine.cancel(ctx)


# -- child_finished: a child run's end goes to the step that started it -----------------------


async def _parent_with_a_child(rt: Runtime) -> tuple[Run, RunRow]:
    """A parent whose first step runs the workflow ``kid`` (which waits for a signal that never
    comes), then ``after``; ``other`` waits too, so the parent has a second running step."""
    kid = parse_definition({"name": "kid", "steps": [{"id": "k", "wait": {"signal": "never"}}]})
    async with rt.sessions() as session, session.begin():
        await workflows.register(session, kid)
    run = await _start(
        rt,
        {
            "name": "w",
            "steps": [
                {"id": "sub", "workflow": "kid"},
                {"id": "other", "wait": {"signal": "never"}},  # running, after sub in the list
                {"id": "after", "after": ["sub"], **NOW},
            ],
            "output": {"sub": "$.steps.sub.output"},
        },
    )

    async def child() -> list[RunRow]:
        async with rt.readers() as session:
            query = select(RunRow).where(RunRow.parent_run_id == run.id)
            return list((await session.execute(query)).scalars())

    async def one_child() -> bool:
        return len(await child()) == 1

    await wait_until(one_child, timeout=30)
    [found] = await child()
    return run, found


async def test_a_finished_child_ends_its_step_and_the_run_moves_on(runtime: Runtime) -> None:
    run, child = await _parent_with_a_child(runtime)
    engine = runtime.orchestrator.engine
    took: list[bool] = []

    async def finished(ctx: RunContext) -> None:
        took.append(await engine.child_finished(ctx, ChildOutcome(child.id, "succeeded", 42)))

    ctx = await at(runtime, run, 1, finished)
    assert took == [True]
    assert (ctx.steps["sub"].status, ctx.steps["sub"].output) == ("succeeded", 42)
    assert ctx.steps["after"].status == "succeeded"  # advanced in the same transaction
    assert ctx.steps["other"].status == "running"
    record = {"step_id": "sub", "attempt": 1, "run_id": child.id, "status": "succeeded"}
    assert ("child.finished", record) in await ledger_of(runtime, run)
    # The same end told twice (a replica's late notice): no running step waits for it now.
    took.clear()
    again = await at(runtime, run, 2, finished)
    assert took == [False] and again.steps["sub"].status == "succeeded"


async def test_a_child_no_step_waits_for_changes_nothing(runtime: Runtime) -> None:
    run, child = await _parent_with_a_child(runtime)
    engine = runtime.orchestrator.engine
    took: list[bool] = []

    def told(outcome: ChildOutcome) -> Any:
        async def act(ctx: RunContext) -> None:
            took.append(await engine.child_finished(ctx, outcome))

        return act

    ctx = await at(runtime, run, 1, told(ChildOutcome("someone-else", "succeeded", 1)))
    assert took == [False]
    assert {s: r.status for s, r in ctx.steps.items()} == {
        "sub": "running",
        "other": "running",
        "after": "pending",
    }
    assert not [e for e in await events(runtime, run) if e.type == "child.finished"]
    # Once the parent has ended, its own child's end is late: nothing takes it.
    await at(runtime, run, 2, lambda c: _cancel(runtime, c))
    took.clear()
    late = await at(runtime, run, 3, told(ChildOutcome(child.id, "succeeded", 1)))
    assert took == [False] and late.steps["sub"].status == "cancelled"


async def test_a_childs_end_after_the_parents_deadline_times_the_parent_out(
    runtime: Runtime,
) -> None:
    kid = parse_definition({"name": "kid", "steps": [{"id": "k", "wait": {"signal": "never"}}]})
    async with runtime.sessions() as session, session.begin():
        await workflows.register(session, kid)
    run = await runtime.orchestrator.create_run(
        parse_definition({"name": "w", "steps": [{"id": "sub", "workflow": "kid"}]}),
        {},
        deadline_s=5,
    )
    assert run is not None
    took: list[bool] = []

    async def finished(ctx: RunContext) -> None:
        took.append(await runtime.orchestrator.engine.child_finished(ctx, _late_child(ctx)))

    ctx = await at(runtime, run, 6, finished)
    assert took == [False]
    assert ctx.run.status == "timed_out" and ctx.steps["sub"].status == "cancelled"


def _late_child(ctx: RunContext) -> ChildOutcome:
    child_id = ctx.steps["sub"].meta.get("child_run_id")
    assert isinstance(child_id, str)
    return ChildOutcome(child_id, "succeeded", 1)


async def test_a_loops_finished_iteration_is_tested_against_until(runtime: Runtime) -> None:
    """An iteration's output that does not satisfy ``until`` starts the next iteration; one that
    does ends the loop with it."""
    run = await _start(
        runtime,
        {
            "name": "w",
            "steps": [
                {
                    "id": "l",
                    "loop": {
                        "steps": [{"id": "k", "wait": {"signal": "never"}}],
                        "until": {"ref": "$.output", "op": "gte", "value": 16},
                        "max_iterations": 3,
                    },
                }
            ],
        },
    )
    engine = runtime.orchestrator.engine
    took: list[bool] = []

    async def iteration_ended(output: int) -> RunContext:
        async def current() -> bool:
            row = (await rows(runtime, run))["l"]
            child = (row.meta or {}).get("child_run_id")
            return isinstance(child, str) and bool(await _children(runtime, run, child))

        await wait_until(current, timeout=30)
        child_id = (await rows(runtime, run))["l"].meta["child_run_id"]

        async def act(ctx: RunContext) -> None:
            took.append(
                await engine.child_finished(ctx, ChildOutcome(child_id, "succeeded", output))
            )

        return await at(runtime, run, 1, act)

    first = await iteration_ended(2)
    assert first.steps["l"].status == "running" and first.steps["l"].meta["iteration"] == 2
    done = await iteration_ended(20)
    assert took == [True, True]
    assert (done.steps["l"].status, done.steps["l"].output) == (
        "succeeded",
        {"output": 20, "iterations": 2},
    )


async def _children(rt: Runtime, run: Run, child_id: str) -> list[RunRow]:
    async with rt.readers() as session:
        query = select(RunRow).where(RunRow.parent_run_id == run.id, RunRow.id == child_id)
        return list((await session.execute(query)).scalars())
