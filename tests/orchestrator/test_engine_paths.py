"""The engine's branches that only the end-to-end suites reached before: every ``when``
operator, redelivery of lost tasks, fan-outs (waiting for an agent, fanning in, carried over by a
retry), answers of odd shapes and late duplicates, driven in-process like ``test_engine.py``
(the real writer on SQLite, the transaction's clock moved by the test), so that mutation runs
can use them. They go through the engine's public surface (``create_run``, ``on_message``,
``on_due``, ``redeliver``) so that moving code out of ``engine.py`` keeps them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bus import streams
from bus.envelope import Envelope, Kind
from services.db.models import RunRow, StepRow
from services.orchestrator.authenticity import SERVER, Refusal
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import parse_definition
from services.orchestrator.engine import Engine, NoWaiter, Signalled
from services.orchestrator.limits import Limits
from services.orchestrator.records import Run
from services.orchestrator.routing import Router
from services.orchestrator.states import RunState
from services.orchestrator.steps import FanOut
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from tests.orchestrator import test_engine as base

runtime = base.runtime  # the fixture: embedded MODX without loops, one agent serving t.work
at, start, events, ledger_of = base.at, base.start, base.events, base.ledger_of


def answer(
    rt: Runtime, run: Run, step_id: str, kind: Kind, payload: Any, topic: str = "t.work"
) -> Callable[[RunContext], Awaitable[object]]:
    """The worker's answer to the current task of ``step_id``, as the orchestrator applies it."""

    async def apply(ctx: RunContext) -> object:
        async with rt.readers() as session:
            [agent] = await store.list_agents(session, name="worker")
        worker = await rt.orchestrator.authenticator.identity(agent.id)
        assert worker is not None
        row = ctx.steps[step_id]
        envelope = Envelope(
            kind=kind,
            topic=topic,
            sender=worker.agent_id,
            run_id=run.id,
            step_id=step_id,
            attempt=row.attempt,
            causation_id=row.task_id,
            payload=payload,
        )
        return await rt.orchestrator.engine.on_message(ctx, envelope, worker)

    return apply


async def rows(rt: Runtime, run: Run) -> dict[str, StepRow]:
    async with rt.readers() as session:
        found = await session.execute(select(StepRow).where(StepRow.run_id == run.id))
        return {row.step_id: row for row in found.scalars()}


# (when, the run's input, whether the step runs)
CONDITIONS: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"ref": "$.input.v", "op": "truthy"}, {"v": 1}, True),
    ({"ref": "$.input.v", "op": "truthy"}, {"v": 0}, False),
    ({"ref": "$.input.v", "op": "falsy"}, {"v": 0}, True),
    ({"ref": "$.input.v", "op": "falsy"}, {"v": 1}, False),
    ({"ref": "$.input.v", "op": "equals", "value": "a"}, {"v": "a"}, True),
    ({"ref": "$.input.v", "op": "equals", "value": "a"}, {"v": "b"}, False),
    ({"ref": "$.input.v", "op": "equals", "value": 1}, {"v": 0}, False),  # not "at most"
    ({"ref": "$.input.v", "op": "not_equals", "value": "a"}, {"v": "b"}, True),
    ({"ref": "$.input.v", "op": "not_equals", "value": "a"}, {"v": "a"}, False),
    ({"ref": "$.input.v", "op": "in", "value": ["a", "b"]}, {"v": "b"}, True),
    ({"ref": "$.input.v", "op": "in", "value": ["a", "b"]}, {"v": "c"}, False),
    ({"ref": "$.input.v", "op": "in", "value": "abc"}, {"v": "a"}, False),  # not a list
    ({"ref": "$.input.v", "op": "gt", "value": 3}, {"v": 4}, True),
    ({"ref": "$.input.v", "op": "gt", "value": 3}, {"v": 3}, False),
    ({"ref": "$.input.v", "op": "gte", "value": 3}, {"v": 3}, True),
    ({"ref": "$.input.v", "op": "gte", "value": 3}, {"v": 2}, False),
    ({"ref": "$.input.v", "op": "lt", "value": 3}, {"v": 2}, True),
    ({"ref": "$.input.v", "op": "lt", "value": 3}, {"v": 3}, False),
    ({"ref": "$.input.v", "op": "lte", "value": 3}, {"v": 3}, True),
    ({"ref": "$.input.v", "op": "lte", "value": 3}, {"v": 4}, False),
    ({"ref": "$.input.v", "op": "gt", "value": 3}, {"v": "x"}, False),  # no order: false
    ({"ref": "$.input.v", "op": "lte", "value": 3}, {"v": "x"}, False),
    ({"ref": "$.input.v", "op": "exists"}, {"v": 0}, True),
    ({"ref": "$.input.v", "op": "exists"}, {}, False),
    ({"ref": "$.input.v", "op": "exists", "value": False}, {}, True),
    ({"ref": "$.input.v", "op": "exists", "value": False}, {"v": 0}, False),
    ({"ref": "$.input.v.w", "op": "exists", "value": True}, {"v": {"w": None}}, True),
]


async def test_every_when_operator_decides_whether_the_step_runs(runtime: Runtime) -> None:
    ran = []
    for when, input_, runs in CONDITIONS:
        definition = parse_definition(base.one_step(when=when))
        run = await runtime.orchestrator.create_run(definition, input_)
        assert run is not None
        step = (await rows(runtime, run))["s"]
        assert step.status == ("scheduled" if runs else "skipped"), (when, input_)
        if not runs:
            reasons = [e.data["reason"] for e in await events(runtime, run) if e.step_id == "s"]
            assert reasons[-1].startswith("condition "), (when, input_, reasons)
            assert reasons[-1].endswith(" is false")
        ran.append(when)
    assert len(ran) == len(CONDITIONS)  # every row ran


async def test_lost_tasks_are_sent_again_as_the_same_attempt(runtime: Runtime) -> None:
    """``redeliver`` sends again only the in-flight tasks it is told were lost, once each,
    with a traced reason; a finished step or run sends nothing."""
    engine = runtime.orchestrator.engine
    two = {
        "name": "w",
        "steps": [
            {"id": "a", "capability": "t.work", "retry": {"max_attempts": 3}},
            {"id": "b", "capability": "t.work"},
            {"id": "c", "capability": "t.work"},
        ],
    }
    run = await start(runtime, two)
    before = await rows(runtime, run)
    sent: list[tuple[str, Envelope]] = []
    counts: list[int] = []

    def lost_a(row: Any) -> bool:
        return bool(row.step_id == "a")

    async def redeliver(ctx: RunContext, pick: Callable[[Any], bool]) -> None:
        counts.append(await engine.redeliver(ctx, pick, "the bus lost it"))
        sent.extend(ctx.sent)

    ctx = await at(runtime, run, 1, lambda c: redeliver(c, lost_a))
    assert counts == [1]
    assert [(e.step_id, e.attempt, e.kind) for _, e in sent] == [("a", 1, Kind.TASK)]
    assert ctx.steps["a"].task_id != before["a"].task_id and ctx.steps["a"].attempt == 1
    assert ctx.steps["b"].task_id == before["b"].task_id
    trail = [
        (e.step_id, e.data) for e in await events(runtime, run) if e.type == "step.redelivered"
    ]
    assert trail == [("a", {"reason": "the bus lost it", "task_id": before["a"].task_id})]
    # A settled step is not sent again, whatever ``lost`` says; the others are, each once.
    await at(runtime, run, 2, answer(runtime, run, "c", Kind.RESULT, {"output": 1}))
    sent.clear()
    await at(runtime, run, 3, lambda c: redeliver(c, lambda row: True))
    assert counts[-1] == 2 and sorted(e.step_id or "" for _, e in sent) == ["a", "b"]
    assert {e.attempt for _, e in sent} == {1}
    # A run that ended sends nothing.
    await at(runtime, run, 4, lambda c: _cancel(engine, c))
    sent.clear()
    await at(runtime, run, 5, lambda c: redeliver(c, lambda row: True))
    assert counts[-1] == 0 and sent == []


async def _cancel(engine: Engine, ctx: RunContext) -> None:
    assert engine.cancel(ctx)


async def test_a_fan_out_waiting_for_an_agent_is_routed_again_when_due_not_timed_out(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "f", "capability": "t.later", "for_each": "$.input.xs", "input": "$.item"},
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"xs": [1, 2]})
    assert run is not None
    parent = (await rows(runtime, run))["f"]
    assert parent.status == "running" and parent.due_at is not None
    assert set(await rows(runtime, run)) == {"f"}  # no item exists while nobody can run one
    ctx = await at(runtime, run, 2, runtime.orchestrator.engine.on_due)
    assert ctx.steps["f"].status == "running" and ctx.steps["f"].error is None
    assert ctx.steps["f"].due_at == run.created_at + timedelta(seconds=2.5)  # checked again
    # An agent for it arrives: the next check creates the items and sends them.
    card = AgentCard(name="later", capabilities=[{"name": "t.later"}])
    async with runtime.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    runtime.orchestrator.engine.router.invalidate()
    sent: list[Envelope] = []

    async def due(c: RunContext) -> None:
        await runtime.orchestrator.engine.on_due(c)
        sent.extend(e for _, e in c.sent)

    ctx = await at(runtime, run, 3, due)
    assert [(e.step_id, e.payload) for e in sent] == [("f[0]", 1), ("f[1]", 2)]
    assert ctx.steps["f"].due_at is None


async def test_a_fan_out_runs_its_items_through_the_window_and_fans_in(runtime: Runtime) -> None:
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "f",
                "capability": "t.work",
                "for_each": "$.input.xs",
                "max_parallel": 2,
                "input": {"x": "$.item", "i": "$.item_index"},
            },
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"xs": [5, 6, 7]})
    assert run is not None
    found = await rows(runtime, run)
    assert sorted(found) == ["f", "f[0]", "f[1]"]  # two out at once
    assert (found["f[0]"].input, found["f[1]"].input) == ({"x": 5, "i": 0}, {"x": 6, "i": 1})
    await at(runtime, run, 1, answer(runtime, run, "f[0]", Kind.RESULT, {"output": 50}))
    found = await rows(runtime, run)
    assert found["f[2]"].status == "scheduled" and found["f[2]"].input == {"x": 7, "i": 2}
    await at(runtime, run, 2, answer(runtime, run, "f[2]", Kind.RESULT, {"output": 70}))
    ctx = await at(runtime, run, 3, answer(runtime, run, "f[1]", Kind.RESULT, {"output": 60}))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"f": [50, 60, 70]}


async def test_a_retried_run_carries_over_a_whole_fan_out_with_its_items(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "f", "capability": "t.work", "for_each": "$.input.xs", "input": "$.item"},
            {"id": "s", "capability": "t.work", "after": ["f"]},
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"xs": [1, 2]})
    assert run is not None
    await at(runtime, run, 1, answer(runtime, run, "f[0]", Kind.RESULT, {"output": 10}))
    await at(runtime, run, 2, answer(runtime, run, "f[1]", Kind.RESULT, {"output": 20}))
    failed = {"error": {"code": "no", "message": "no", "retryable": False}}
    ctx = await at(runtime, run, 3, answer(runtime, run, "s", Kind.ERROR, failed))
    assert ctx.run.status == "failed"
    again = await runtime.orchestrator.retry_run(run.id)
    copied = await rows(runtime, again)
    assert {k: (r.item_index, r.status, r.output) for k, r in copied.items()} == {
        "f": (None, "succeeded", [10, 20]),
        "f[0]": (0, "succeeded", 10),
        "f[1]": (1, "succeeded", 20),
        "s": (None, "scheduled", None),
    }


async def test_a_retried_run_keeps_the_branches_its_switch_did_not_take(runtime: Runtime) -> None:
    """The switch is carried over as succeeded; its branch not taken must stay skipped. It
    used to start ``pending`` in the new run and ran, since its only dependency (the switch)
    had succeeded: both branches of one switch ran."""
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "route",
                "switch": {
                    "cases": [{"when": "$.input.big", "then": ["big"]}],
                    "default": ["small"],
                },
            },
            {"id": "big", "capability": "t.work"},
            {"id": "small", "capability": "t.work"},
        ],
    }
    run = await runtime.orchestrator.create_run(parse_definition(definition), {"big": True})
    assert run is not None
    failed = {"error": {"code": "no", "message": "no", "retryable": False}}
    ctx = await at(runtime, run, 1, answer(runtime, run, "big", Kind.ERROR, failed))
    assert ctx.run.status == "failed" and ctx.steps["small"].status == "skipped"
    again = await runtime.orchestrator.retry_run(run.id)
    copied = await rows(runtime, again)
    assert {k: r.status for k, r in copied.items()} == {
        "route": "succeeded",
        "big": "scheduled",
        "small": "skipped",
    }


async def test_late_answers_to_a_settled_step_of_a_running_run_are_ignored_and_counted(
    runtime: Runtime,
) -> None:
    engine = runtime.orchestrator.engine
    two = {
        "name": "w",
        "steps": [{"id": "a", "capability": "t.work"}, {"id": "s", "capability": "t.work"}],
    }
    run = await start(runtime, two)
    before = engine.duplicates
    done = answer(runtime, run, "a", Kind.RESULT, {"output": 1})
    assert await runtime.orchestrator.in_run(run.id, done) is True
    results = []
    for late in (2, 3):
        ctx = await at(runtime, run, late, answer(runtime, run, "a", Kind.RESULT, {"output": 9}))
        results.append(ctx)
    assert ctx.run.status == "running" and ctx.steps["a"].output == 1
    assert ctx.steps["a"].duplicates == 2 and engine.duplicates == before + 2
    ignored = [e for e in await events(runtime, run) if e.type == "result.ignored"]
    assert len(ignored) == 2 and all(e.step_id == "a" for e in ignored)
    # An event (not an answer) for a settled step is neither applied nor counted.
    started = answer(runtime, run, "a", Kind.EVENT, {}, topic=streams.TASK_STARTED)
    ctx = await at(runtime, run, 4, started)
    assert ctx.steps["a"].duplicates == 2 and ctx.steps["a"].status == "succeeded"


async def test_answers_that_are_not_objects_are_read_as_empty(runtime: Runtime) -> None:
    """A result, an announcement or an error whose payload (or error) is not an object: the
    step still moves, with no output, the orchestrator's clock, and a ``bad_error``."""
    run = await start(runtime, base.one_step())
    started = answer(runtime, run, "s", Kind.EVENT, ["junk"], topic=streams.TASK_STARTED)
    ctx = await at(runtime, run, 0.5, started)
    assert ctx.steps["s"].status == "running"
    assert ctx.steps["s"].started_at == run.created_at + timedelta(seconds=0.5)
    ctx = await at(runtime, run, 1, answer(runtime, run, "s", Kind.RESULT, [1, 2]))
    assert ctx.steps["s"].status == "succeeded" and ctx.steps["s"].output is None
    other = await start(runtime, base.one_step())
    ctx = await at(runtime, other, 1, answer(runtime, other, "s", Kind.ERROR, {"error": "boom"}))
    assert ctx.steps["s"].status == "failed"
    assert ctx.steps["s"].error == {
        "code": "bad_error",
        "message": "{'error': 'boom'}",
        "retryable": False,
    }


async def test_a_retried_step_keeps_when_it_first_started(runtime: Runtime) -> None:
    run = await start(runtime, base.one_step(retry={"max_attempts": 2, "backoff_s": 1}))
    engine = runtime.orchestrator.engine
    first = (run.created_at + timedelta(seconds=0.2)).isoformat()
    announce = answer(
        runtime, run, "s", Kind.EVENT, {"started_at": first}, topic=streams.TASK_STARTED
    )
    await at(runtime, run, 0.5, announce)
    await at(runtime, run, 0.6, answer(runtime, run, "s", Kind.ERROR, base.error("flaky")))
    ctx = await at(runtime, run, 5, engine.on_due)
    assert ctx.steps["s"].attempt == 2
    later = (run.created_at + timedelta(seconds=5.5)).isoformat()
    again = answer(runtime, run, "s", Kind.EVENT, {"started_at": later}, topic=streams.TASK_STARTED)
    ctx = await at(runtime, run, 6, again)
    assert ctx.steps["s"].status == "running"
    assert ctx.steps["s"].started_at == run.created_at + timedelta(seconds=0.2)
    moves = [e.data for e in await events(runtime, run) if e.type == "step.running"]
    assert moves == [{"started_at": first}, {"started_at": later}]


async def test_a_succeeded_step_is_in_the_ledger_with_its_agent_and_output(
    runtime: Runtime,
) -> None:
    run = await start(runtime, base.one_step())
    ctx = await at(runtime, run, 1, answer(runtime, run, "s", Kind.RESULT, {"output": {"v": 2}}))
    agent = ctx.steps["s"].agent_id
    assert agent is not None
    entry = {"step_id": "s", "attempt": 1, "agent_id": agent, "output": {"v": 2}}
    assert ("step.succeeded", entry) in await ledger_of(runtime, run)


def test_an_engine_built_without_settings_uses_the_documented_defaults() -> None:
    engine = Engine(Router())
    assert engine.default_timeout_s == 300.0 and engine.duplicates == 0
    assert engine.partitions is None  # answers go to modx.results until an orchestrator says
    assert engine.limits == Limits()
    fan_out = engine.kinds["for_each"]
    assert isinstance(fan_out, FanOut) and fan_out.capability is engine.capability
    assert fan_out.host is engine and engine.capability.host is engine
    task = Envelope(kind=Kind.TASK, topic="t.work", sender="x")
    assert engine.capability.sign_task(task) is task  # unsigned unless told how


async def test_a_run_deadline_has_passed_at_its_very_instant(runtime: Runtime) -> None:
    # Its step waits for an agent: no step timeout can end the run instead.
    run = await start(runtime, base.one_step(capability="t.nobody"), deadline_s=1)
    assert run.deadline_at is not None
    deadline = run.deadline_at

    async def exactly(ctx: RunContext) -> None:
        ctx.now = deadline
        await runtime.orchestrator.engine.on_due(ctx)

    await runtime.orchestrator.in_run(run.id, exactly)
    assert (await rows(runtime, run))["s"].status == "cancelled"
    async with runtime.readers() as session:
        stored = await session.get(RunRow, run.id)
    assert stored is not None and stored.status == "timed_out"


async def test_an_envelope_without_a_step_answers_no_step(runtime: Runtime) -> None:
    """Even when a step could be named anything: no step id binds to no step."""
    definition = {"name": "w", "steps": [{"id": "XXXX", "capability": "t.work"}]}
    run = await start(runtime, definition)
    refused: list[object] = []

    async def stepless(ctx: RunContext) -> None:
        row = ctx.steps["XXXX"]
        envelope = Envelope(
            kind=Kind.RESULT,
            topic="t.work",
            sender=row.agent_id or "",
            run_id=run.id,
            attempt=1,
            causation_id=row.task_id,
            payload={"output": 1},
        )
        refused.append(await runtime.orchestrator.engine.on_message(ctx, envelope, SERVER))

    ctx = await at(runtime, run, 1, stepless)
    assert isinstance(refused[0], Refusal) and refused[0].code == "unbound"
    assert ctx.steps["XXXX"].status == "scheduled"


async def test_an_answer_the_server_relays_is_traced_to_its_agent(runtime: Runtime) -> None:
    """Answers of agents without a bus key come through the server (sender ``SERVER``); the
    history names the agent in the envelope, not the step's holder."""
    run = await start(runtime, base.one_step())

    async def relayed(ctx: RunContext) -> object:
        row = ctx.steps["s"]
        envelope = Envelope(
            kind=Kind.RESULT,
            topic="t.work",
            sender="relaying-agent",
            run_id=run.id,
            step_id="s",
            attempt=1,
            causation_id=row.task_id,
            payload={"output": 3},
        )
        return await runtime.orchestrator.engine.on_message(ctx, envelope, SERVER)

    ctx = await at(runtime, run, 1, relayed)
    assert ctx.run.status == "succeeded" and ctx.steps["s"].agent_id != "relaying-agent"
    [received] = [e for e in await events(runtime, run) if e.type == "message.received"]
    assert received.agent_id == "relaying-agent"


async def test_a_run_found_pending_when_due_is_started(runtime: Runtime) -> None:
    """A run stored but not started (its replica stopped in between) starts at the sweep."""
    run = await start(runtime, base.one_step(capability="t.nobody"))

    async def unstarted(ctx: RunContext) -> None:
        ctx.run.status = RunState.PENDING

    await at(runtime, run, 0.1, unstarted)
    ctx = await at(runtime, run, 1, runtime.orchestrator.engine.on_due)
    assert ctx.run.status == "running"
    assert [e.type for e in await events(runtime, run)].count("run.running") == 2


async def test_on_error_continue_says_so_in_the_step_s_success(runtime: Runtime) -> None:
    run = await start(runtime, base.one_step(on_error="continue"))
    boom = base.error("boom", retryable=False)
    await at(runtime, run, 1, answer(runtime, run, "s", Kind.ERROR, boom))
    [moved] = [e for e in await events(runtime, run) if e.type == "step.succeeded"]
    assert moved.data == {"on_error": "continue", "error": boom["error"]}


async def test_a_sweep_handles_every_due_step_after_one_waiting_for_an_agent(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "a", "capability": "t.nobody"},
            {"id": "b", "capability": "t.work", "timeout_s": 1},
        ],
    }
    run = await start(runtime, definition)
    ctx = await at(runtime, run, 1.5, runtime.orchestrator.engine.on_due)
    assert ctx.steps["b"].status == "timed_out"  # reached after "a", which waits on


async def test_a_signal_names_the_steps_that_took_it_or_why_none_did(runtime: Runtime) -> None:
    definition = {"name": "w", "steps": [{"id": "w", "wait": {"signal": "go"}}]}
    engine = runtime.orchestrator.engine
    outcomes: list[object] = []

    def offer(name: str) -> Callable[[RunContext], Awaitable[None]]:
        async def send(ctx: RunContext) -> None:
            try:
                outcomes.append(await engine.signal(ctx, name, {}, "alice"))
            except NoWaiter as exc:
                outcomes.append(str(exc))

        return send

    run = await start(runtime, definition)
    await at(runtime, run, 1, offer("other"))
    await at(runtime, run, 2, offer("go"))
    assert outcomes == [
        f"no step of run {run.id} waits or will wait for 'other'",
        Signalled(steps=["w"], kept=[]),
    ]
    cancelled = await start(runtime, definition)
    await at(runtime, cancelled, 1, lambda c: _cancel(engine, c))
    await at(runtime, cancelled, 2, offer("go"))
    assert outcomes[-1] == f"run {cancelled.id} has ended (cancelled): no step waits for 'go'"
    later = {
        "name": "w",
        "steps": [
            {"id": "first", "capability": "t.work"},
            {"id": "w", "after": ["first"], "wait": {"signal": "go"}},
        ],
    }
    early = await start(runtime, later)
    await at(runtime, early, 1, offer("go"))  # "w" has not started: it keeps the signal
    assert outcomes[-1:] == [Signalled(steps=[], kept=["w"])]
