"""The step kinds (``services.orchestrator.steps``): wait, sleep, and ``on_error: continue``.

Driven through the real writer on SQLite, with the transaction's clock moved by the test (the
helpers of ``test_engine``): a timeout or a wake-up time is crossed exactly, without waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from bus.envelope import Kind
from services.db.models import EventRow, LedgerEntryRow, RunRow, StepRow
from services.orchestrator import workflows
from services.orchestrator.context import ChildOrder, RunContext
from services.orchestrator.definitions import DefinitionError, StepDefinition, parse_definition
from services.orchestrator.engine import NoWaiter
from services.orchestrator.records import Step
from services.orchestrator.steps import SignalRefused
from services.orchestrator.steps.subworkflow import CHECK_S
from services.orchestrator.steps.wait import Wait
from services.runtime import Runtime
from tests.fixtures.services import wait_until
from tests.orchestrator.test_engine import (
    answers,
    at,
    error,
    events,
    ledger_of,
    reply,
    runtime,
    start,
)

__all__ = ["runtime"]

APPROVAL = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}, "comment": {"type": "string"}},
    "required": ["ok"],
}


def approval_flow(timeout_s: float = 60) -> dict[str, Any]:
    """draft -> approve (wait) -> publish (when approved)."""
    return {
        "name": "w",
        "steps": [
            {"id": "s", "capability": "t.work"},
            {
                "id": "approve",
                "after": ["s"],
                "wait": {"signal": "approval", "schema": APPROVAL, "timeout_s": timeout_s},
            },
            {
                "id": "publish",
                "capability": "t.work",
                "input": {"decision": "$.steps.approve.output"},
                "when": "$.steps.approve.output.ok",
            },
        ],
    }


def signal(
    rt: Runtime, name: str, body: Any, sender: str = "alice"
) -> Callable[[RunContext], Awaitable[object]]:
    """Signal ``name`` with ``body`` from ``sender``, as an action for ``at``."""

    async def send(ctx: RunContext) -> object:
        return await rt.orchestrator.engine.signal(ctx, name, body, sender)

    return send


async def test_a_wait_dispatches_nothing_and_a_signal_completes_it(runtime: Runtime) -> None:
    run = await start(runtime, approval_flow())
    ctx = await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 1})))
    waiting = ctx.steps["approve"]
    assert waiting.status == "running" and waiting.task_id is None and waiting.agent_id is None
    assert not [e for e in ctx.events if e["type"] == "message.sent" and e["step_id"] == "approve"]
    body = {"ok": True, "comment": "fine"}
    ctx = await at(runtime, run, 2, signal(runtime, "approval", body))
    assert ctx.steps["approve"].status == "succeeded" and ctx.steps["approve"].output == body
    publish = ctx.steps["publish"]
    assert publish.status == "scheduled" and publish.input == {"decision": body}
    trail = [(e.type, e.step_id, e.agent_id) for e in await events(runtime, run)]
    assert ("signal.received", "approve", "alice") in trail
    record = {"step_id": "approve", "signal": "approval", "sent_by": "alice", "body": body}
    assert ("signal.received", record) in await ledger_of(runtime, run)


async def test_a_rejection_skips_publish_and_the_run_succeeds(runtime: Runtime) -> None:
    run = await start(runtime, approval_flow())
    await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 1})))
    ctx = await at(runtime, run, 2, signal(runtime, "approval", {"ok": False}))
    assert ctx.steps["publish"].status == "skipped"
    assert ctx.run.status == "succeeded"


async def test_no_signal_times_the_wait_out(runtime: Runtime) -> None:
    run = await start(runtime, approval_flow(timeout_s=30))
    await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 1})))
    early = await at(runtime, run, 30, runtime.orchestrator.engine.on_due)
    assert early.steps["approve"].status == "running"  # due at 31: one second after it began
    ctx = await at(runtime, run, 31.5, runtime.orchestrator.engine.on_due)
    assert ctx.steps["approve"].status == "timed_out"
    assert ctx.run.status == "failed" and ctx.run.error is not None
    assert ctx.run.error["code"] == "step_timed_out"


async def test_a_wait_that_timed_out_waits_again_when_its_retry_says_so(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "approve",
                "wait": {"signal": "approval", "timeout_s": 10},
                "retry": {"max_attempts": 2, "backoff_s": 5, "jitter": 0},
            }
        ],
    }
    run = await start(runtime, definition)
    ctx = await at(runtime, run, 11, runtime.orchestrator.engine.on_due)
    assert ctx.steps["approve"].status == "retrying"
    ctx = await at(runtime, run, 17, runtime.orchestrator.engine.on_due)
    again = ctx.steps["approve"]
    assert again.status == "running" and again.attempt == 2
    ctx = await at(runtime, run, 18, signal(runtime, "approval", {"ok": 1}))
    assert ctx.steps["approve"].output == {"ok": 1} and ctx.run.status == "succeeded"
    moves = [(e.from_state, e.to_state) for e in await events(runtime, run) if e.step_id]
    assert ("retrying", "running") in moves


async def test_a_signal_sent_before_its_wait_starts_is_kept_and_taken_when_it_starts(
    runtime: Runtime,
) -> None:
    run = await start(runtime, approval_flow())
    with pytest.raises(SignalRefused) as refused:  # checked when sent, not when taken
        await at(runtime, run, 0.5, signal(runtime, "approval", {"ok": "yes"}))
    assert refused.value.path == "$.ok"
    body = {"ok": True, "comment": "early"}
    kept = await at(runtime, run, 0.5, signal(runtime, "approval", body))
    assert kept.steps["approve"].status == "pending"
    with pytest.raises(NoWaiter):  # one kept signal per step: the first one sent
        await at(runtime, run, 0.6, signal(runtime, "approval", {"ok": False}))
    with pytest.raises(NoWaiter):  # no step of the run will ever wait for it
        await at(runtime, run, 0.6, signal(runtime, "other", {"ok": True}))
    ctx = await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 1})))
    approve = ctx.steps["approve"]
    assert approve.status == "succeeded" and approve.output == body
    assert "kept_signal" not in approve.meta
    assert ctx.steps["publish"].status == "scheduled"
    trail = [(e.type, e.step_id) for e in await events(runtime, run)]
    kept_at = trail.index(("signal.kept", "approve"))
    assert kept_at < trail.index(("signal.received", "approve"))
    ledger = await ledger_of(runtime, run)
    record = {"step_id": "approve", "signal": "approval", "sent_by": "alice", "body": body}
    assert ("signal.kept", record) in ledger and ("signal.received", record) in ledger


async def test_a_signal_nobody_waits_for_or_a_refused_body_changes_nothing(
    runtime: Runtime,
) -> None:
    run = await start(runtime, approval_flow())
    await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 1})))
    with pytest.raises(NoWaiter):
        await at(runtime, run, 2, signal(runtime, "other", {"ok": True}))
    with pytest.raises(SignalRefused) as refused:
        await at(runtime, run, 2, signal(runtime, "approval", {"comment": "no ok"}))
    assert refused.value.path == "$.ok"
    with pytest.raises(SignalRefused) as refused:
        await at(runtime, run, 2, signal(runtime, "approval", {"ok": "yes"}))
    assert refused.value.path == "$.ok" and "boolean" in refused.value.message
    ctx = await at(runtime, run, 3, runtime.orchestrator.engine.on_due)
    assert ctx.steps["approve"].status == "running"
    assert "signal.received" not in [e.type for e in await events(runtime, run)]


async def test_a_sleep_ends_at_its_time_and_not_before(runtime: Runtime) -> None:
    definition = {"name": "w", "steps": [{"id": "nap", "sleep": {"seconds": 10}}]}
    run = await start(runtime, definition)
    ctx = await at(runtime, run, 9.9, runtime.orchestrator.engine.on_due)
    assert ctx.steps["nap"].status == "running"
    ctx = await at(runtime, run, 10.1, runtime.orchestrator.engine.on_due)
    assert ctx.steps["nap"].status == "succeeded" and ctx.run.status == "succeeded"
    nap = ctx.steps["nap"]
    assert nap.scheduled_at is not None
    assert nap.output == {"until": (nap.scheduled_at + timedelta(seconds=10)).isoformat()}


async def test_a_sleep_until_a_time_in_the_input(runtime: Runtime) -> None:
    definition = {"name": "w", "steps": [{"id": "nap", "sleep": {"until": "$.input.when"}}]}
    rt = runtime
    when = "2100-01-01T00:00:00+00:00"
    run = await rt.orchestrator.create_run(parse_definition(definition), {"when": when})
    assert run is not None
    ctx = await at(rt, run, 60, rt.orchestrator.engine.on_due)
    nap = ctx.steps["nap"]
    assert nap.status == "running" and nap.due_at is not None and nap.due_at.isoformat() == when
    bad = await rt.orchestrator.create_run(parse_definition(definition), {"when": "tomorrow"})
    assert bad is not None and bad.status == "failed"


async def test_on_error_continue_makes_the_error_the_output(runtime: Runtime) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "s", "capability": "t.work", "on_error": "continue"},
            {
                "id": "handle",
                "capability": "t.work",
                "input": {"problem": "$.steps.s.output.error"},
            },
        ],
    }
    run = await start(runtime, definition)
    boom = error("boom", retryable=False)
    ctx = await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.ERROR, boom)))
    assert ctx.steps["s"].status == "succeeded" and ctx.steps["s"].output == boom
    assert ctx.steps["handle"].status == "scheduled"
    assert ctx.steps["handle"].input == {"problem": boom["error"]}
    assert ctx.run.status == "running"


async def test_on_error_continue_covers_a_wait_without_its_signal_and_each_fan_out_item(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "approve",
                "wait": {"signal": "approval", "timeout_s": 5},
                "on_error": "continue",
            },
            {
                "id": "s",
                "capability": "t.work",
                "for_each": "$.input.xs",
                "input": {"x": "$.item"},
                "on_error": "continue",
            },
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"xs": [1]})
    assert run is not None
    ctx = await at(runtime, run, 6, runtime.orchestrator.engine.on_due)
    approve = ctx.steps["approve"]
    assert approve.status == "succeeded" and approve.output["error"]["code"] == "timeout"
    item = ctx.steps["s[0]"]

    async def fail_item(ctx: RunContext) -> object:  # as the item's agent's error would
        error = {"code": "boom", "message": "boom", "retryable": False}
        runtime.orchestrator.engine.attempt_failed(ctx, ctx.steps["s[0]"], error)
        await runtime.orchestrator.engine.advance(ctx)
        return None

    assert item.status == "scheduled"
    ctx = await at(runtime, run, 7, fail_item)
    assert ctx.steps["s"].status == "succeeded"
    assert ctx.steps["s"].output == [
        {"error": {"code": "boom", "message": "boom", "retryable": False}}
    ]
    assert ctx.run.status == "succeeded"


@pytest.mark.parametrize("on_error", ["fail", "continue"])
async def test_a_fan_out_that_cannot_start_fails_like_any_step(
    runtime: Runtime, on_error: str
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "s",
                "capability": "t.work",
                "for_each": "$.input.xs",
                "input": {"x": "$.item"},
                "on_error": on_error,
            }
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"xs": "abc"})
    assert run is not None
    ctx = await at(runtime, run, 1, runtime.orchestrator.engine.on_due)
    step = ctx.steps["s"]
    error = {"code": "bad_for_each", "message": "$.input.xs is not a list", "retryable": False}
    ledger = await ledger_of(runtime, run)
    if on_error == "fail":
        assert step.status == "failed" and step.error == error and ctx.run.status == "failed"
        assert ("step.failed", {"step_id": "s", "attempt": 0, "error": error}) in ledger
    else:
        assert step.status == "succeeded" and step.output == {"error": error}
        assert ctx.run.status == "succeeded"


async def test_a_sleep_until_a_time_already_past_ends_at_once(runtime: Runtime) -> None:
    definition = {"name": "w", "steps": [{"id": "nap", "sleep": {"until": "2001-01-01T00:00:00Z"}}]}
    run = await start_any(runtime, definition)
    assert run.status == "succeeded"


async def start_any(rt: Runtime, definition: dict[str, Any]) -> Any:
    run = await rt.orchestrator.create_run(parse_definition(definition), {})
    assert run is not None
    return run


async def test_a_kind_hears_of_a_cancel_before_its_step_ends(runtime: Runtime) -> None:
    heard: list[tuple[str, str, str, str]] = []
    engine = runtime.orchestrator.engine

    class Recording(Wait):
        def on_cancel(self, ctx: RunContext, step: StepDefinition, row: Step, reason: str) -> None:
            # It is told which step of the definition it stops, and that step's row.
            heard.append((step.id, row.step_id, row.status, reason))

    engine.kinds["wait"] = Recording(engine)
    run = await start(runtime, approval_flow())
    await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 1})))

    async def cancel(ctx: RunContext) -> object:
        return engine.cancel(ctx, "no longer needed")

    ctx = await at(runtime, run, 2, cancel)
    assert heard == [("approve", "approve", "running", "no longer needed")]
    assert ctx.steps["approve"].status == "cancelled"


async def test_a_lost_bus_sends_again_only_tasks_never_a_wait_or_a_sleep(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "s", "capability": "t.work"},
            {"id": "approve", "wait": {"signal": "approval"}},
            {"id": "nap", "sleep": {"seconds": 60}},
        ],
    }
    run = await start(runtime, definition)
    engine = runtime.orchestrator.engine

    async def lost(ctx: RunContext) -> object:
        return await engine.redeliver(ctx, lambda row: True, "the bus lost its data")

    ctx = await at(runtime, run, 1, lost)
    redelivered = [e.step_id for e in await events(runtime, run) if e.type == "step.redelivered"]
    assert redelivered == ["s"]
    assert ctx.steps["approve"].status == "running" and ctx.steps["approve"].task_id is None
    assert ctx.steps["nap"].status == "running" and ctx.steps["nap"].task_id is None


def steps(*given: dict[str, Any]) -> dict[str, Any]:
    return {"name": "w", "steps": list(given)}


def loop_step(output: Any, until: Any) -> dict[str, Any]:
    """A loop whose inline body doubles a number, with ``output`` as its output mapping."""
    body = [{"id": "double", "capability": "demo.double", "input": {"n": "$.input.n"}}]
    loop = {"steps": body, "input": {"n": "$.previous"}, "until": until, "max_iterations": 5}
    return {"id": "grow", "loop": loop if output is None else {**loop, "output": output}}


KIND_PROBLEMS: list[tuple[str, dict[str, Any], str]] = [
    (
        "two kinds",
        steps({"id": "a", "capability": "t.x", "sleep": {"seconds": 1}}),
        "$.steps[0].sleep",
    ),
    ("no kind", steps({"id": "a"}), "$.steps[0].capability"),
    ("wait without signal", steps({"id": "a", "wait": {}}), "$.steps[0].wait.signal"),
    ("bad signal name", steps({"id": "a", "wait": {"signal": "a b"}}), "$.steps[0].wait.signal"),
    (
        "schema that is no JSON Schema",
        steps({"id": "a", "wait": {"signal": "s", "schema": {"type": "banana"}}}),
        "$.steps[0].wait.schema.type",
    ),
    (
        "negative wait timeout",
        steps({"id": "a", "wait": {"signal": "s", "timeout_s": -1}}),
        "$.steps[0].wait.timeout_s",
    ),
    (
        "unknown wait field",
        steps({"id": "a", "wait": {"signal": "s", "x": 1}}),
        "$.steps[0].wait.x",
    ),
    ("sleep with neither", steps({"id": "a", "sleep": {}}), "$.steps[0].sleep"),
    (
        "sleep with both",
        steps({"id": "a", "sleep": {"seconds": 1, "until": "2030-01-01T00:00:00Z"}}),
        "$.steps[0].sleep",
    ),
    ("sleep until junk", steps({"id": "a", "sleep": {"until": "soon"}}), "$.steps[0].sleep"),
    ("negative sleep", steps({"id": "a", "sleep": {"seconds": -1}}), "$.steps[0].sleep.seconds"),
    (
        "sleep until an unknown step",
        steps({"id": "a", "sleep": {"until": "$.steps.ghost.output.t"}}),
        "$.steps[0].sleep.until",
    ),
    (
        "a wait that fans out",
        steps({"id": "a", "wait": {"signal": "s"}, "for_each": "$.input.xs"}),
        "$.steps[0].for_each",
    ),
    (
        "bad on_error",
        steps({"id": "a", "capability": "t.x", "on_error": "ignore"}),
        "$.steps[0].on_error",
    ),
    (
        "a loop until a field its body's output never has",
        steps(loop_step({"total": "$.steps.double.output.n"}, "$.output.totl")),
        "$.steps[0].loop.until",
    ),
    (
        "a loop until a step its body does not end with",
        steps(loop_step(None, {"ref": "$.output.ghost.n", "op": "gte", "value": 3})),
        "$.steps[0].loop.until.ref",
    ),
    (
        "a loop until a field of a literal",
        steps(loop_step({"total": "$.steps.double.output.n", "unit": "kg"}, "$.output.unit.x")),
        "$.steps[0].loop.until",
    ),
    (
        "a loop until a field of the iteration number",
        steps(loop_step(None, "$.iteration.count")),
        "$.steps[0].loop.until",
    ),
    (
        "a loop until an earlier step's output",
        steps(loop_step(None, "$.steps.double.output")),
        "$.steps[0].loop.until",
    ),
    (
        # $.output is the iteration's output, read by until; the input is resolved before the
        # iteration, where it names nothing (accepted, then bad_reference at run time).
        "a loop whose input reads $.output",
        steps(
            {
                **loop_step(None, "$.output"),
                "loop": {**loop_step(None, "$.output")["loop"], "input": {"n": "$.output.double"}},
            }
        ),
        "$.steps[0].loop.input.n",
    ),
    (
        # Its body's shape cannot be known (it raised RefError, a 500, before: found by
        # schemathesis): the body's own problem is reported.
        "a loop whose body holds a reference that does not parse",
        steps(
            {
                "id": "grow",
                "loop": {
                    "steps": [{"id": "d", "capability": "demo.double", "input": {"n": "$.steps."}}],
                    "until": "$.output.d",
                    "max_iterations": 2,
                },
            }
        ),
        "$.steps[0].loop.steps[0].input.n",
    ),
]


@pytest.mark.parametrize(
    "until",
    [
        "$.output",
        "$.output.total",
        "$.output.total.anything",  # a reference in the body's output: its fields are unknown
        {"ref": "$.iteration", "op": "gte", "value": 3},
    ],
)
def test_a_loop_until_what_its_body_can_output_is_accepted(until: Any) -> None:
    parse_definition(steps(loop_step({"total": "$.steps.double.output.n"}, until)))
    if isinstance(until, str) and until.startswith("$.output.total"):
        # Without an output mapping the output is the last steps' outputs, by id.
        parse_definition(steps(loop_step(None, until.replace("total", "double"))))


@pytest.mark.parametrize(("case", "data", "path"), KIND_PROBLEMS, ids=[c[0] for c in KIND_PROBLEMS])
def test_each_new_field_is_refused_at_its_json_path(
    case: str, data: dict[str, Any], path: str
) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data)
    paths = [p.path for p in info.value.problems]
    assert path in paths, f"{case}: expected {path} in {paths}"


def test_the_kinds_parse_and_the_schema_keeps_its_name() -> None:
    definition = parse_definition(approval_flow())
    assert [s.kind for s in definition.steps] == ["capability", "wait", "capability"]
    stored = definition.stored()["steps"][1]["wait"]
    assert stored["schema"] == APPROVAL and "schema_" not in stored
    assert parse_definition(definition.stored()).steps[1].wait == definition.steps[1].wait


async def test_a_child_lost_between_the_commit_and_its_start_is_started_by_the_timer(
    runtime: Runtime,
) -> None:
    """The parent committed its order, and the process died before the child existed: the
    step's timer gives the order again (same child id, same key), and it is carried out once."""
    kid = parse_definition({"name": "kid", "steps": [{"id": "s", "capability": "t.work"}]})
    async with runtime.sessions() as session, session.begin():
        await workflows.register(session, kid)
    run = await start(runtime, {"name": "w", "steps": [{"id": "sub", "workflow": "kid"}]})

    async def children() -> list[RunRow]:
        async with runtime.readers() as session:
            query = select(RunRow).where(RunRow.parent_run_id == run.id)
            return list((await session.execute(query)).scalars())

    await wait_until(lambda: _some(children), timeout=30)
    [child] = await children()
    assert (child.parent_step_id, child.idempotency_key) == ("sub", f"child:{run.id}:sub:1")
    async with runtime.sessions() as session, session.begin():  # as if it never started
        for table in (StepRow, EventRow, LedgerEntryRow):
            await session.execute(delete(table).where(table.run_id == child.id))
        await session.execute(delete(RunRow).where(RunRow.id == child.id))
    assert await children() == []

    orders: list[ChildOrder] = []

    async def sweep(ctx: RunContext) -> None:
        await runtime.orchestrator.engine.on_due(ctx)
        orders.extend(ctx.children)

    early = await at(runtime, run, 20, sweep)
    assert orders == [] and early.steps["sub"].status == "running"
    later = await at(runtime, run, CHECK_S + 1, sweep)
    assert [(o.child_run_id, o.key) for o in orders] == [(child.id, child.idempotency_key)]
    assert later.steps["sub"].due_at == later.now + timedelta(seconds=CHECK_S)
    await wait_until(lambda: _some(children), timeout=30)
    [again] = await children()
    assert again.id == child.id
    # Given once more (a timer that fires while the child runs): still one child.
    await runtime.orchestrator._carry_out(run.tenant, run.id, orders[0])
    assert [c.id for c in await children()] == [child.id]


async def _some(found: Callable[[], Awaitable[list[Any]]]) -> bool:
    return bool(await found())
