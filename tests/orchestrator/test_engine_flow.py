"""How the engine moves a run along: a skip that unblocks steps listed before it, the output
mapping (and a mapping that names nothing), and what the run records when it ends. Driven
in-process like ``test_engine.py`` (the real writer on SQLite, no loops), so that the mutation
profile ``engine`` can use them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bus import streams
from bus.envelope import Envelope, Kind
from services.db.models import DEFAULT_TENANT
from services.ledger.format import input_digest
from services.orchestrator import in_flight
from services.orchestrator.authenticity import SERVER
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import parse_definition
from services.orchestrator.engine import Engine
from services.orchestrator.records import Run
from services.orchestrator.routing import ON_BUS, REMOTE_PREFIX
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.orchestrator import test_engine as base
from tests.orchestrator.test_engine_paths import answer, rows

runtime = base.runtime  # the fixture: embedded MODX without loops, one agent serving t.work
events, ledger_of = base.events, base.ledger_of

NOW = {"sleep": {"seconds": 0}}  # a step that ends as soon as it starts


async def test_skips_and_ends_unblock_steps_listed_before_them_in_one_advance(
    runtime: Runtime,
) -> None:
    """``a``'s condition is false; ``b``'s names ``a``'s output, which a skipped step has not:
    ``b`` is skipped too, saying why. ``c`` (after ``b``) is listed first, so only further passes
    over the steps reach it; ``d`` waits, and its pass reports no progress of its own."""
    definition = {
        "name": "w",
        "steps": [
            {"id": "c", "after": ["b"], **NOW},
            {"id": "b", "when": "$.steps.a.output", **NOW},
            {"id": "a", "when": {"ref": "$.input.go", "op": "truthy"}, **NOW},
            {"id": "d", "wait": {"signal": "never"}},
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"go": False})
    assert run is not None
    states = {step_id: row.status for step_id, row in (await rows(runtime, run)).items()}
    assert states == {"a": "skipped", "b": "skipped", "c": "succeeded", "d": "running"}
    reasons = {
        e.step_id: e.data["reason"] for e in await events(runtime, run) if e.to_state == "skipped"
    }
    assert reasons["a"].startswith("condition ") and reasons["a"].endswith(" is false")
    # The reference's own error: it names what is missing, not just "skipped".
    assert reasons["b"] == "$.steps.a.output: step 'a' has no output", reasons


async def test_the_output_mapping_reads_a_skipped_step_as_null_and_is_in_the_ledger(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "a", **NOW},
            {"id": "b", "when": {"ref": "$.input.go", "op": "truthy"}, **NOW},
        ],
        "output": {"a": "$.steps.a.output", "b": "$.steps.b.output", "go": "$.input.go"},
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"go": 0})
    assert run is not None and run.status == "succeeded"
    assert isinstance(run.output, dict) and run.output["b"] is None and run.output["go"] == 0
    assert set(run.output["a"]) == {"until"}
    outcome = {"output": run.output, "input_sha256": input_digest({"go": 0})}
    assert ("run.succeeded", outcome) in await ledger_of(runtime, run)


async def test_an_output_mapping_that_names_nothing_fails_the_run_with_bad_output(
    runtime: Runtime,
) -> None:
    definition: dict[str, Any] = {
        "name": "w",
        "steps": [{"id": "a", **NOW}],
        "output": {"x": "$.steps.a.output.missing"},
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {})
    assert run is not None and run.status == "failed"
    assert run.error is not None and run.error["code"] == "bad_output"
    assert "$.steps.a.output.missing" in run.error["message"], run.error
    assert run.output is None
    outcome = {"error": run.error, "input_sha256": input_digest({})}
    assert ("run.failed", outcome) in await ledger_of(runtime, run)


async def test_steps_of_no_capability_record_none(runtime: Runtime) -> None:
    definition = {"name": "w", "steps": [{"id": "a", **NOW}, {"id": "b", "capability": "t.work"}]}
    run = await runtime.orchestrator.create_run(parse_definition(definition), {})
    assert run is not None
    assert {s: row.capability for s, row in (await rows(runtime, run)).items()} == {
        "a": "",
        "b": "t.work",
    }


async def test_heartbeats_and_progress_keep_a_step_alive_and_only_progress_is_traced(
    runtime: Runtime,
) -> None:
    """A heartbeat moves a scheduled step to running at the orchestrator's clock (not at a
    time it carries) and starts the heartbeat timeout again; progress does too, and is the
    only one of the two recorded, as ``step.progress``."""
    run = await base.start(runtime, base.one_step(timeout_s=100, heartbeat_timeout_s=10))
    claimed = (run.created_at + timedelta(seconds=3)).isoformat()
    beat = answer(runtime, run, "s", Kind.EVENT, {"started_at": claimed}, streams.TASK_HEARTBEAT)
    ctx = await base.at(runtime, run, 5, beat)
    row = ctx.steps["s"]
    assert row.status == "running"
    assert row.started_at == run.created_at + timedelta(seconds=5)
    assert row.due_at == run.created_at + timedelta(seconds=15)
    said = {"message": "half way", "data": {"done": 1}}
    ctx = await base.at(
        runtime, run, 8, answer(runtime, run, "s", Kind.EVENT, said, streams.TASK_PROGRESS)
    )
    assert ctx.steps["s"].due_at == run.created_at + timedelta(seconds=18)
    traced = [e for e in await events(runtime, run) if e.step_id == "s"]
    progress = [e for e in traced if e.type == "step.progress"]
    assert [(e.data, e.agent_id) for e in progress] == [(said, ctx.steps["s"].agent_id)]
    assert not [e for e in traced if e.type == "message.received"]  # chatter is not traced


async def test_a_progress_report_older_than_the_last_recorded_is_dropped(runtime: Runtime) -> None:
    """Answers are handled concurrently, and one whose write failed comes again later: the
    step's last ``step.progress`` is still its holder's latest report (the dashboard shows
    the last one), compared by envelope id (UUIDv7, in creation order)."""
    run = await base.start(runtime, base.one_step(timeout_s=100))
    async with runtime.readers() as session:
        [agent] = await store.list_agents(session, name="worker")
    worker = await runtime.orchestrator.authenticator.identity(agent.id)
    assert worker is not None
    task_id = (await rows(runtime, run))["s"].task_id
    reports = [
        Envelope(
            kind=Kind.EVENT,
            topic=streams.TASK_PROGRESS,
            sender=worker.agent_id,
            run_id=run.id,
            step_id="s",
            causation_id=task_id,
            payload={"message": f"step {i} of 3"},
        )
        for i in (1, 2, 3)
    ]

    def deliver(envelope: Envelope) -> Callable[[RunContext], Awaitable[object]]:
        return lambda ctx: runtime.orchestrator.engine.on_message(ctx, envelope, worker)

    for i in (0, 2, 1):  # report 2 arrives after report 3
        await base.at(runtime, run, 1 + i, deliver(reports[i]))
    recorded = [e.data["message"] for e in await events(runtime, run) if e.type == "step.progress"]
    assert recorded == ["step 1 of 3", "step 3 of 3"]


async def test_a_progress_report_delivered_again_is_recorded_once_across_tasks(
    runtime: Runtime,
) -> None:
    """A report is recorded once, whatever came between its deliveries. The step's record
    of the last report held one task's: a report of the task sent again for the same attempt
    (the first was superseded, its holder may still report) replaced it, and the first task's
    report, delivered again (after a failed write, or to another replica, where the in-memory
    replay guard has not seen it), passed the ordering check and was recorded twice."""
    await base.inbox_only(runtime)  # a task of the shared stream is never sent again
    run = await base.start(runtime, base.one_step(timeout_s=100))
    async with runtime.readers() as session:
        [agent] = await store.list_agents(session, name="worker")
    worker = await runtime.orchestrator.authenticator.identity(agent.id)
    assert worker is not None
    engine = runtime.orchestrator.engine

    def report(task_id: str | None, message: str) -> Envelope:
        return Envelope(
            kind=Kind.EVENT,
            topic=streams.TASK_PROGRESS,
            sender=worker.agent_id,
            run_id=run.id,
            step_id="s",
            attempt=1,
            causation_id=task_id,
            payload={"message": message},
        )

    def deliver(envelope: Envelope) -> Callable[[RunContext], Awaitable[object]]:
        return lambda ctx: engine.on_message(ctx, envelope, worker)

    first = (await rows(runtime, run))["s"].task_id
    old = report(first, "old task")
    await base.at(runtime, run, 1, deliver(old))
    await base.at(runtime, run, 2, lambda ctx: engine.redispatch(ctx, {worker.agent_id}))
    second = (await rows(runtime, run))["s"].task_id
    assert second != first
    await base.at(runtime, run, 3, deliver(report(second, "new task")))
    await base.at(runtime, run, 4, deliver(old))  # the first task's report once more
    recorded = [e.data["message"] for e in await events(runtime, run) if e.type == "step.progress"]
    assert recorded == ["old task", "new task"], recorded


async def test_steps_that_time_out_together_fail_the_run_naming_the_first(
    runtime: Runtime,
) -> None:
    step = {"capability": "t.work", "timeout_s": 10}
    definition = {"name": "w", "steps": [{"id": "a", **step}, {"id": "b", **step}]}
    run = await base.start(runtime, definition)
    ctx = await base.at(runtime, run, 11, runtime.orchestrator.engine.on_due)
    assert (ctx.steps["a"].status, ctx.steps["b"].status) == ("timed_out", "timed_out")
    assert ctx.run.status == "failed"
    assert ctx.run.error is not None
    assert (ctx.run.error["code"], ctx.run.error["step_id"]) == ("step_timed_out", "a")


def sending(
    action: Callable[[RunContext], Awaitable[object]], sent: list[tuple[str, Envelope]]
) -> Callable[[RunContext], Awaitable[object]]:
    """``action``, keeping what it queued to send (the commit empties ``ctx.sent``)."""

    async def act(ctx: RunContext) -> object:
        result = await action(ctx)
        sent.extend(ctx.sent)
        return result

    return act


async def test_a_start_after_the_step_ended_is_told_to_stop_where_its_holder_listens(
    runtime: Runtime,
) -> None:
    """The holder announces it started a task nobody waits for any more (the run was
    cancelled): it is sent a ``task.cancel`` on its control stream (a bus agent) or through
    its endpoint (an agent that is called), naming the task and why. A late answer, or a
    start the orchestrator relays itself, sends none."""
    engine = runtime.orchestrator.engine
    run = await base.start(runtime, base.one_step())
    ctx = await base.at(runtime, run, 1, lambda c: _cancel(engine, c))
    task_id = ctx.steps["s"].task_id
    assert task_id is not None
    async with runtime.readers() as session:
        [agent] = await store.list_agents(session, name="worker")
    holder = agent.id  # the task went to the capability's stream: whoever starts it holds it
    started = answer(runtime, run, "s", Kind.EVENT, {}, streams.TASK_STARTED)
    sent: list[tuple[str, Envelope]] = []
    await base.at(runtime, run, 2, sending(started, sent))
    assert [(d, e.topic, e.recipient, e.causation_id, e.payload) for d, e in sent] == [
        (
            streams.control(holder),
            streams.TASK_CANCEL,
            holder,
            task_id,
            {"task_id": task_id, "reason": "step s is cancelled"},
        )
    ]
    heard = [e for e in await events(runtime, run) if e.type == "message.received"]
    assert heard and heard[-1].agent_id == holder  # traced to who sent it

    async def as_called_agent(c: RunContext) -> object:
        worker = await runtime.orchestrator.authenticator.identity(holder)
        assert worker is not None and worker.transport in ON_BUS
        envelope = Envelope(
            kind=Kind.EVENT,
            topic=streams.TASK_STARTED,
            sender=holder,
            run_id=run.id,
            step_id="s",
            attempt=1,
            causation_id=task_id,
            payload={},
        )
        return await engine.on_message(c, envelope, replace(worker, transport="http"))

    sent.clear()
    await base.at(runtime, run, 3, sending(as_called_agent, sent))
    assert [d for d, _ in sent] == [REMOTE_PREFIX + holder]

    late_result = answer(runtime, run, "s", Kind.RESULT, {"output": 1})
    relayed = relay(runtime, run, streams.TASK_STARTED)
    for action in (late_result, relayed):
        sent.clear()
        assert await base.at(runtime, run, 4, sending(action, sent))
        assert sent == []
    # The late answer is counted as ignored, traced to who sent it (no agent holds the step).
    ignored = [e.agent_id for e in await events(runtime, run) if e.type == "result.ignored"]
    assert ignored == [holder]


def relay(rt: Runtime, run: Run, topic: str) -> Callable[[RunContext], Awaitable[object]]:
    """An event about step ``s`` that the orchestrator relays itself (sender ``SERVER``)."""

    async def act(ctx: RunContext) -> object:
        row = ctx.steps["s"]
        envelope = Envelope(
            kind=Kind.EVENT,
            topic=topic,
            sender=SERVER.agent_id,
            run_id=run.id,
            step_id="s",
            attempt=row.attempt,
            causation_id=row.task_id,
            payload={},
        )
        return await rt.orchestrator.engine.on_message(ctx, envelope, SERVER)

    return act


async def _cancel(engine: Engine, ctx: RunContext) -> bool:
    return engine.cancel(ctx)


@pytest.mark.parametrize("served_by", ["own", "other"])
async def test_a_fan_out_finds_its_agents_among_its_own_tenants(
    runtime: Runtime, served_by: str
) -> None:
    """A fan-out's items go to the agents that serve the run's tenant, like any step's task:
    a tenant's own agent runs them; another tenant's agent (not shared; here the default
    tenant's) does not, and the fan-out waits for an agent without making items it could not
    send (they waited, pending, for good)."""
    card = AgentCard(name="acme-worker", capabilities=[{"name": "t.acme"}])
    async with runtime.sessions() as session, session.begin():
        await store.register_agent(
            session, card, lease_s=600, tenant="acme" if served_by == "own" else DEFAULT_TENANT
        )
    definition = {
        "name": "w",
        "steps": [{"id": "f", "capability": "t.acme", "for_each": "$.input.xs", "input": "$.item"}],
    }
    run = await runtime.orchestrator.create_run(
        parse_definition(definition), {"xs": [1, 2]}, tenant="acme"
    )
    assert run is not None
    found = await rows(runtime, run)
    if served_by == "own":
        assert {s: r.status for s, r in found.items()} == {
            "f": "running",
            "f[0]": "scheduled",
            "f[1]": "scheduled",
        }
    else:
        assert set(found) == {"f"} and found["f"].status == "running"
        assert found["f"].due_at is not None  # asks again later


async def test_an_agent_that_asks_makes_its_step_wait_or_fails_when_it_cannot_be_answered(
    runtime: Runtime,
) -> None:
    """``task.input_required`` from the holder of a step that MODX called: the step stays
    running with the question, the signal that answers it and the remote conversation shown,
    and the history says who asked; the answer's conversation is kept. A bus agent, which
    could not hear an answer, fails its attempt with ``input_required``."""
    asked = {
        "question": {"text": "which year?", "data": [{"year": 2017}]},
        "conversation": {"task_id": "t1", "context_id": "c1"},
    }
    run = await base.start(runtime, base.one_step())
    asks = answer(runtime, run, "s", Kind.EVENT, asked, streams.TASK_INPUT_REQUIRED)

    async def called(ctx: RunContext) -> object:  # as remote dispatch marks what it sends
        ctx.steps["s"].meta = {**ctx.steps["s"].meta, in_flight.VIA_REMOTE: True}
        return await asks(ctx)

    ctx = await base.at(runtime, run, 1, called)
    row = ctx.steps["s"]
    assert row.status == "running" and ctx.run.status == "running"
    assert row.meta["question"] == asked["question"] and row.meta["signal"] == "s"
    assert row.meta["conversation"] == asked["conversation"] and row.meta["rounds"] == 1
    [event] = [e for e in await events(runtime, run) if e.type == "step.input_required"]
    assert event.agent_id == row.agent_id and event.data["round"] == 1
    finished = {"output": 7, "conversation": {"task_id": "t1", "context_id": "c2"}}
    ctx = await base.at(runtime, run, 2, answer(runtime, run, "s", Kind.RESULT, finished))
    assert ctx.steps["s"].status == "succeeded"
    assert ctx.steps["s"].meta["conversation"] == {"task_id": "t1", "context_id": "c2"}

    on_bus = await base.start(runtime, base.one_step())
    ctx = await base.at(
        runtime,
        on_bus,
        1,
        answer(runtime, on_bus, "s", Kind.EVENT, asked, streams.TASK_INPUT_REQUIRED),
    )
    assert ctx.steps["s"].status == "failed" and ctx.steps["s"].error is not None
    assert ctx.steps["s"].error["code"] == "input_required"
