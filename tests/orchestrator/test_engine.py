"""The engine's rules for time and cancellation, driven through the real writer on SQLite.

Time is the transaction's clock (``RunContext.now``), moved forward by the test: a deadline or a
backoff is crossed exactly, without waiting for it and without racing a sweep. The orchestrator's
loops are not running (``orchestrate=False``), so nothing happens that the test did not ask for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bus import streams
from bus.envelope import Envelope, Kind
from bus.ids import new_id
from bus.transport import Subscription
from services.config import Settings
from services.db.models import AgentRow, EventRow, LedgerEntryRow, StepRow
from services.ledger.format import input_digest
from services.ledger.verify import verify
from services.orchestrator import holding, in_flight
from services.orchestrator.authenticity import Identity, Refusal
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import parse_definition
from services.orchestrator.records import Run
from services.registry import store
from services.registry.schemas import AgentCard
from services.runtime import Runtime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """Embedded MODX without its loops, and one live bus agent serving ``t.work``."""
    rt = await Runtime.open(Settings(data_dir=tmp_path), orchestrate=False)
    card = AgentCard(name="worker", capabilities=[{"name": "t.work"}])
    async with rt.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    try:
        yield rt
    finally:
        await rt.close()


def one_step(**step: Any) -> dict[str, Any]:
    return {"name": "w", "steps": [{"id": "s", "capability": "t.work", "input": {}, **step}]}


async def start(rt: Runtime, definition: dict[str, Any], **options: Any) -> Run:
    run = await rt.orchestrator.create_run(parse_definition(definition), {}, **options)
    assert run is not None and run.status == "running"
    return run


async def at(
    rt: Runtime, run: Run, seconds: float, action: Callable[[RunContext], Awaitable[object]]
) -> RunContext:
    """Apply ``action`` to the run in one transaction whose clock reads ``seconds`` after the
    run was created; returns the context as committed."""
    seen: list[RunContext] = []

    async def act(ctx: RunContext) -> None:
        ctx.now = run.created_at + timedelta(seconds=seconds)
        seen.append(ctx)
        await action(ctx)

    await rt.orchestrator.in_run(run.id, act)
    assert seen, "the run was not found"
    return seen[0]


def reply(run: Run, attempt: int, kind: Kind, payload: dict[str, Any]) -> Envelope:
    return Envelope(
        kind=kind,
        topic="t.work",
        sender="worker-1",
        run_id=run.id,
        step_id="s",
        attempt=attempt,
        payload=payload,
    )


def answers(
    rt: Runtime, envelope: Envelope, task_id: str | None = None
) -> Callable[[RunContext], Awaitable[object]]:
    """The worker's ``envelope`` applied as the answer to ``task_id`` (by default the step's
    current task), as the orchestrator applies it once its signature is checked."""

    async def apply(ctx: RunContext) -> object:
        async with rt.readers() as session:
            [agent] = await store.list_agents(session, name="worker")
        worker = await rt.orchestrator.authenticator.identity(agent.id)
        assert worker is not None and worker.capabilities == {"t.work"}
        bound = envelope.model_copy(
            update={"sender": worker.agent_id, "causation_id": task_id or ctx.steps["s"].task_id}
        )
        return await rt.orchestrator.engine.on_message(ctx, bound, worker)

    return apply


def error(code: str, retryable: bool = True) -> dict[str, Any]:
    return {"error": {"code": code, "message": code, "retryable": retryable}}


async def events(rt: Runtime, run: Run) -> list[EventRow]:
    async with rt.readers() as session:
        query = select(EventRow).where(EventRow.run_id == run.id).order_by(EventRow.id)
        return list((await session.execute(query)).scalars())


async def step_row(rt: Runtime, run: Run) -> StepRow:
    async with rt.readers() as session:
        found = await session.get(StepRow, (run.id, "s"))
        assert found is not None
        return found


async def test_a_run_deadline_ends_the_run_timed_out_when_the_sweep_comes_first(
    runtime: Runtime,
) -> None:
    run = await start(runtime, one_step(timeout_s=30), deadline_s=1)
    before = await at(runtime, run, 0.5, runtime.orchestrator.engine.on_due)
    assert before.run.status == "running"  # nothing is due yet
    ctx = await at(runtime, run, 1.5, runtime.orchestrator.engine.on_due)
    assert ctx.run.status == "timed_out"
    assert ctx.run.error is not None and ctx.run.error["code"] == "run_deadline"
    assert ctx.steps["s"].status == "cancelled"
    async with runtime.readers() as session:
        assert (await verify(session, runtime.checkpointer.public_key, run.id))["ok"]


async def test_the_run_deadline_wins_when_the_agent_reports_the_clamped_deadline_first(
    runtime: Runtime,
) -> None:
    """The step's task deadline is clamped to the run's (1 s < 30 s): the agent gives up at
    that deadline and says so before any sweep. The run timed out; the step is not retried."""
    run = await start(
        runtime, one_step(timeout_s=30, retry={"max_attempts": 3, "backoff_s": 0}), deadline_s=1
    )
    assert (await step_row(runtime, run)).due_at == run.deadline_at  # clamped
    # The agent's clock runs a little ahead: its report arrives just before the deadline.
    late = reply(run, 1, Kind.ERROR, error("deadline_exceeded"))
    ctx = await at(runtime, run, 0.99, answers(runtime, late))
    assert ctx.run.status == "timed_out"
    assert ctx.run.error == {"code": "run_deadline", "message": "the run's deadline passed"}
    assert ctx.steps["s"].status == "cancelled" and ctx.steps["s"].attempt == 1
    types = [e.type for e in await events(runtime, run)]
    assert "step.retrying" not in types and "step.timed_out" not in types


async def test_anything_after_the_run_deadline_ends_the_run_timed_out_first(
    runtime: Runtime,
) -> None:
    run = await start(runtime, one_step(timeout_s=30), deadline_s=1)
    result = reply(run, 1, Kind.RESULT, {"output": {"late": True}})
    ctx = await at(runtime, run, 1.01, answers(runtime, result))
    assert ctx.run.status == "timed_out" and ctx.run.error is not None
    assert ctx.run.error["code"] == "run_deadline"
    assert ctx.run.output is None and ctx.steps["s"].output is None
    assert [e.type for e in await events(runtime, run)].count("result.ignored") == 1


async def test_a_step_timeout_before_the_run_deadline_fails_the_run(runtime: Runtime) -> None:
    run = await start(runtime, one_step(timeout_s=1), deadline_s=60)
    ctx = await at(runtime, run, 1.5, runtime.orchestrator.engine.on_due)
    assert ctx.run.status == "failed"
    assert ctx.run.error is not None and ctx.run.error["code"] == "step_timed_out"
    assert ctx.steps["s"].status == "timed_out"
    # An agent reporting its own (unclamped) deadline first gives the same answer.
    other = await start(runtime, one_step(timeout_s=1), deadline_s=60)
    gave_up = reply(other, 1, Kind.ERROR, error("deadline_exceeded"))
    ctx = await at(runtime, other, 1.0, answers(runtime, gave_up))
    assert ctx.run.status == "failed" and ctx.steps["s"].status == "timed_out"
    assert ctx.run.error is not None and ctx.run.error["code"] == "step_timed_out"


async def test_a_definition_deadline_is_the_run_deadline(runtime: Runtime) -> None:
    run = await start(runtime, {**one_step(timeout_s=30), "deadline_s": 2})
    assert run.started_at is not None
    assert run.deadline_at == run.started_at + timedelta(seconds=2)  # from when it started
    started = (run.started_at - run.created_at).total_seconds()
    ctx = await at(runtime, run, started + 1.9, runtime.orchestrator.engine.on_due)
    assert ctx.run.status == "running"
    ctx = await at(runtime, run, started + 2.0, runtime.orchestrator.engine.on_due)
    assert ctx.run.status == "timed_out"


async def test_cancel_during_retry_backoff_ends_the_step(runtime: Runtime) -> None:
    run = await start(runtime, one_step(retry={"max_attempts": 3, "backoff_s": 60, "jitter": 0}))
    engine = runtime.orchestrator.engine
    failed = reply(run, 1, Kind.ERROR, error("flaky"))
    ctx = await at(runtime, run, 0.1, answers(runtime, failed))
    assert ctx.steps["s"].status == "retrying"
    assert ctx.steps["s"].due_at == run.created_at + timedelta(seconds=60.1)

    async def cancel(c: RunContext) -> None:
        assert engine.cancel(c, "stop")

    ctx = await at(runtime, run, 1, cancel)
    assert ctx.run.status == "cancelled" and ctx.run.cancel_requested is True
    assert ctx.run.error == {"code": "cancelled", "message": "stop"}
    reasons = [
        (e.type, e.data.get("reason")) for e in await events(runtime, run) if "cancelled" in e.type
    ]
    assert reasons == [("run.cancelled", "stop"), ("step.cancelled", "stop")]
    async with runtime.readers() as session:
        last = (
            await session.execute(
                select(LedgerEntryRow)
                .where(LedgerEntryRow.run_id == run.id)
                .order_by(LedgerEntryRow.seq.desc())
                .limit(1)
            )
        ).scalar_one()
    digest = input_digest(run.input)  # the outcome binds the question it answers
    assert (last.kind, last.data) == ("run.cancelled", {"reason": "stop", "input_sha256": digest})

    async def again(c: RunContext) -> None:
        assert engine.cancel(c, "twice") is False  # a finished run is not cancelled again

    ctx = await at(runtime, run, 2, again)
    assert ctx.run.error == {"code": "cancelled", "message": "stop"}
    stored = await step_row(runtime, run)
    assert stored.status == "cancelled" and stored.due_at is None  # no sweep finds it again
    moves = [(e.from_state, e.to_state) for e in await events(runtime, run) if e.step_id == "s"]
    assert ("retrying", "cancelled") in moves
    # The backoff's end dispatches nothing: attempt 2 never exists.
    ctx = await at(runtime, run, 61, engine.on_due)
    assert ctx.steps["s"].attempt == 1 and ctx.steps["s"].status == "cancelled"
    assert [e.type for e in await events(runtime, run)].count("step.scheduled") == 1


async def test_a_retry_after_its_backoff_dispatches_the_next_attempt(runtime: Runtime) -> None:
    run = await start(runtime, one_step(retry={"max_attempts": 2, "backoff_s": 5, "jitter": 0}))
    engine = runtime.orchestrator.engine
    failed = reply(run, 1, Kind.ERROR, error("flaky"))
    first_task = (await step_row(runtime, run)).task_id
    await at(runtime, run, 0, answers(runtime, failed))
    ctx = await at(runtime, run, 4.9, engine.on_due)
    assert ctx.steps["s"].status == "retrying"
    ctx = await at(runtime, run, 5.0, engine.on_due)
    assert ctx.steps["s"].status == "scheduled" and ctx.steps["s"].attempt == 2
    # An answer to the first attempt's task is no answer to the step's current task: refused,
    # and nothing changes.
    stale = reply(run, 1, Kind.RESULT, {"output": 1})
    refused: list[object] = []

    async def late(c: RunContext) -> None:
        refused.append(await answers(runtime, stale, first_task)(c))

    ctx = await at(runtime, run, 5.1, late)
    assert isinstance(refused[0], Refusal) and refused[0].code == "unbound"
    assert ctx.steps["s"].status == "scheduled" and ctx.steps["s"].duplicates == 0
    fresh = reply(run, 2, Kind.RESULT, {"output": 2})
    ctx = await at(runtime, run, 5.2, answers(runtime, fresh))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 2}


async def test_messages_move_the_step_and_are_traced(runtime: Runtime) -> None:
    """started -> running (by its announcement), result -> succeeded with usage; the agent
    answering again is ignored and counted, the same envelope again refused as a replay; every
    message is in the history with who sent it."""
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    duplicates_before = engine.duplicates
    started_at = (run.created_at + timedelta(seconds=0.2)).isoformat()
    announce = Envelope(
        kind=Kind.EVENT,
        topic=streams.TASK_STARTED,
        sender="worker-1",
        run_id=run.id,
        step_id="s",
        attempt=1,
        payload={"capability": "t.work", "started_at": started_at},
    )
    seen: list[object] = []

    async def deliver(c: RunContext, envelope: Envelope) -> None:
        seen.append(await answers(runtime, envelope)(c))

    ctx = await at(runtime, run, 0.5, lambda c: deliver(c, announce))
    step = ctx.steps["s"]
    worker = step.agent_id
    assert step.status == "running" and worker is not None
    assert step.started_at == run.created_at + timedelta(seconds=0.2)  # as the agent said
    result = reply(run, 1, Kind.RESULT, {"output": {"v": 1}, "usage": {"tokens": 3}})
    ctx = await at(runtime, run, 1, lambda c: deliver(c, result))
    assert ctx.steps["s"].status == "succeeded" and ctx.steps["s"].meta["usage"] == {"tokens": 3}
    again = result.model_copy(update={"id": new_id()})  # the agent answers once more
    ctx = await at(runtime, run, 2, lambda c: deliver(c, again))
    ctx = await at(runtime, run, 3, lambda c: deliver(c, result))  # the same envelope again
    assert seen[:3] == [True, True, False]
    assert isinstance(seen[3], Refusal) and seen[3].code == "replay"
    assert ctx.steps["s"].duplicates == 1 and engine.duplicates == duplicates_before + 1
    history = [
        e for e in await events(runtime, run) if e.type in ("message.received", "result.ignored")
    ]
    assert [(e.type, e.step_id, e.agent_id, e.envelope_id) for e in history] == [
        ("message.received", "s", worker, announce.id),
        ("message.received", "s", worker, result.id),
        ("message.received", "s", worker, again.id),
        ("result.ignored", "s", worker, again.id),
    ]
    assert history[0].data["topic"] == streams.TASK_STARTED
    assert history[-1].data == {"reason": "late or duplicate", "attempt": 1}


async def test_a_short_task_starts_when_its_answer_says_and_errors_need_a_shape(
    runtime: Runtime,
) -> None:
    run = await start(runtime, one_step())
    early = (run.created_at - timedelta(seconds=5)).isoformat()  # before the dispatch: clamped
    result = reply(run, 1, Kind.RESULT, {"output": 1, "started_at": early})
    ctx = await at(runtime, run, 1, answers(runtime, result))
    step = ctx.steps["s"]
    assert step.status == "succeeded" and step.started_at == step.scheduled_at
    assert step.agent_id is not None and "usage" not in step.meta
    other = await start(runtime, one_step())
    junk = reply(other, 1, Kind.ERROR, {"oops": True})  # an error without an error object
    ctx = await at(runtime, other, 1, answers(runtime, junk))
    assert ctx.steps["s"].status == "failed"
    assert ctx.steps["s"].error == {
        "code": "bad_error",
        "message": "{'oops': True}",
        "retryable": False,
    }


async def test_a_task_sent_again_still_takes_the_late_answer_of_the_agent_that_held_it(
    runtime: Runtime,
) -> None:
    """Its agent went offline and the task, in the agent's inbox, went out again (same attempt,
    a new task id): the first holder's late answer to the first task counts; anyone else's
    answer to it does not."""
    await inbox_only(runtime)
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    first_task = (await step_row(runtime, run)).task_id
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    ctx = await at(runtime, run, 0.1, answers(runtime, started))
    holder = ctx.steps["s"].agent_id
    assert holder is not None
    ctx = await at(runtime, run, 0.15, lambda c: engine.redispatch(c, {"another-agent"}))
    assert ctx.steps["s"].task_id == first_task  # its holder is still online: nothing moves
    ctx = await at(runtime, run, 0.2, lambda c: engine.redispatch(c, {holder}))
    assert ctx.steps["s"].task_id != first_task and ctx.steps["s"].attempt == 1
    moved = [
        (e.step_id, e.data) for e in await events(runtime, run) if e.type == "step.redispatched"
    ]
    assert moved == [("s", {"reason": f"agent {holder} went offline"})]
    intruder = Identity("someone-else", "bus", None, frozenset({"t.work"}))
    refused: list[object] = []

    async def other(c: RunContext) -> None:
        late = reply(run, 1, Kind.RESULT, {"output": 0}).model_copy(
            update={"sender": intruder.agent_id, "causation_id": first_task}
        )
        refused.append(await engine.on_message(c, late, intruder))

    await at(runtime, run, 0.3, other)
    assert isinstance(refused[0], Refusal) and refused[0].code == "wrong_agent"
    late = reply(run, 1, Kind.RESULT, {"output": 7})
    ctx = await at(runtime, run, 0.4, answers(runtime, late, first_task))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 7}


async def test_a_late_heartbeat_of_the_old_holder_leaves_the_task_sent_again_to_its_taker(
    runtime: Runtime,
) -> None:
    """A handler whose heartbeats stopped reaching the orchestrator for a while: the task went
    out again on the shared stream. The old holder's late heartbeat for the first task still
    counts as its own, but does not make it the holder of the second: the agent that took the
    second answers it. (The heartbeat bound the second task to the old holder, the taker's
    answer was refused as ``wrong_agent``, and the step waited for its timeout.)"""
    run = await start(runtime, one_step(heartbeat_timeout_s=5))
    engine = runtime.orchestrator.engine
    first_task = (await step_row(runtime, run)).task_id
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    holder = (await at(runtime, run, 0.1, answers(runtime, started))).steps["s"].agent_id
    assert holder is not None
    ctx = await at(runtime, run, 5.2, engine.on_due)
    second_task = ctx.steps["s"].task_id
    assert second_task != first_task and ctx.steps["s"].agent_id is None
    beat = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": streams.TASK_HEARTBEAT})
    await at(runtime, run, 5.3, answers(runtime, beat, first_task))
    taker = Identity("the-taker", "bus", None, frozenset({"t.work"}))
    outcome: list[object] = []

    async def taken(c: RunContext) -> None:
        result = reply(run, 1, Kind.RESULT, {"output": 5}).model_copy(
            update={"sender": taker.agent_id, "causation_id": second_task}
        )
        outcome.append(await engine.on_message(c, result, taker))

    ctx = await at(runtime, run, 5.4, taken)
    assert not isinstance(outcome[0], Refusal), outcome[0]
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 5}


async def inbox_only(rt: Runtime) -> None:
    """The worker takes ``t.work`` through its inbox only: its tasks are its own, not the
    shared stream's (which the bus hands to another agent when their consumer dies)."""
    async with rt.sessions() as session, session.begin():
        [agent] = await store.list_agents(session, name="worker")
        agent.card = {**agent.card, store.INBOX_ONLY: ["t.work"]}
    rt.orchestrator.engine.router.invalidate()


async def held_in_inbox(rt: Runtime, run: Run) -> tuple[str, str, Subscription, asyncio.Event]:
    """The step's task taken from its agent's inbox by a consumer whose handler runs until
    the returned event is set; returns the agent, the task id and the subscription."""
    row = await step_row(rt, run)
    assert row.agent_id is not None and row.task_id is not None
    taken, finish = asyncio.Event(), asyncio.Event()

    async def holds(envelope: Envelope) -> None:
        taken.set()
        await finish.wait()

    inbox = streams.inbox(row.agent_id)
    sub = await rt.transport.subscribe(inbox, row.agent_id, "worker-1", holds)
    await asyncio.wait_for(taken.wait(), 10)
    return row.agent_id, row.task_id, sub, finish


async def set_status(rt: Runtime, agent_id: str, status: str) -> None:
    async with rt.sessions() as session, session.begin():
        agent = await session.get(AgentRow, agent_id)
        assert agent is not None
        agent.status = status


async def test_an_inbox_task_a_live_consumer_holds_waits_for_it_then_goes_once_released(
    runtime: Runtime,
) -> None:
    """Its agent's lease lapsed while a consumer of its inbox held the task's delivery (the
    agent paused, say): nothing is sent again (``step.held``), and the step looks again when
    the delivery would be idle for the visibility timeout. Once the consumer is gone (its
    delivery released), the task is sent again, as the same attempt. (Before, the lease sent
    it again at once, and an agent only late with its heartbeats ran it twice.)"""
    await inbox_only(runtime)
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    holder, first_task, sub, _ = await held_in_inbox(runtime, run)
    await set_status(runtime, holder, "offline")
    ctx = await at(runtime, run, 20, lambda c: engine.redispatch(c, {holder}))
    visibility = runtime.settings.visibility_timeout_s
    assert ctx.steps["s"].task_id == first_task and ctx.steps["s"].agent_id == holder
    assert ctx.steps["s"].due_at == run.created_at + timedelta(seconds=20 + visibility)
    history = await events(runtime, run)
    assert [e for e in history if e.type == "step.redispatched"] == []
    assert [e.data["task_id"] for e in history if e.type == "step.held"] == [first_task]
    ctx = await at(runtime, run, 20 + visibility, engine.on_due)  # still held: wait on
    assert ctx.steps["s"].task_id == first_task
    await sub.stop(drain=False)  # its consumer went: the delivery is released
    await asyncio.sleep(holding.FRESH_S)  # read afresh, as a recheck MIN_RECHECK_S on is
    ctx = await at(runtime, run, 20 + 2 * visibility, engine.on_due)
    moved = [e.data for e in await events(runtime, run) if e.type == "step.redispatched"]
    assert moved == [{"reason": f"agent {holder} went offline"}]
    assert len([e for e in await events(runtime, run) if e.type == "step.held"]) == 1


async def test_an_inbox_task_held_while_its_agent_was_offline_stays_its_own_once_back(
    runtime: Runtime,
) -> None:
    """The agent whose inbox held the task comes back (a heartbeat after its pause): when the
    step looks again, the task stays with it, its deadline is the step's again, and its answer
    counts."""
    await inbox_only(runtime)
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    deadline = (await step_row(runtime, run)).due_at
    holder, first_task, _, finish = await held_in_inbox(runtime, run)
    await set_status(runtime, holder, "offline")
    await at(runtime, run, 20, lambda c: engine.redispatch(c, {holder}))
    await set_status(runtime, holder, "online")
    ctx = await at(runtime, run, 20 + runtime.settings.visibility_timeout_s, engine.on_due)
    assert ctx.steps["s"].task_id == first_task and ctx.steps["s"].due_at == deadline
    assert "held" not in ctx.steps["s"].meta
    finish.set()
    ctx = await at(runtime, run, 60, answers(runtime, reply(run, 1, Kind.RESULT, {"output": 3})))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 3}
    assert [e for e in await events(runtime, run) if e.type == "step.redispatched"] == []


async def test_an_inbox_task_held_for_its_offline_agent_is_still_sent_again_when_its_heartbeats_stop(
    runtime: Runtime,
) -> None:
    """Holding an inbox task for its offline agent does not put off the step's own heartbeat
    timeout: due before the bus is looked at again, it sends the task again as ever
    (``step.heartbeat_lost``)."""
    await inbox_only(runtime)
    run = await start(runtime, one_step(heartbeat_timeout_s=5))
    engine = runtime.orchestrator.engine
    holder, first_task, _, _ = await held_in_inbox(runtime, run)
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    await at(runtime, run, 0.1, answers(runtime, started))
    await set_status(runtime, holder, "offline")
    ctx = await at(runtime, run, 3, lambda c: engine.redispatch(c, {holder}))
    assert ctx.steps["s"].due_at == run.created_at + timedelta(seconds=5.1)
    await set_status(runtime, holder, "online")  # another instance could take it (inbox_only)
    ctx = await at(runtime, run, 5.2, engine.on_due)
    assert ctx.steps["s"].task_id != first_task and "held" not in ctx.steps["s"].meta
    kinds = [e.type for e in await events(runtime, run)]
    assert kinds.count("step.held") == 1 and kinds.count("step.heartbeat_lost") == 1, kinds


async def test_a_task_on_the_shared_stream_is_not_sent_again_when_its_agent_goes_offline(
    runtime: Runtime,
) -> None:
    """Its agent's lease lapsed while the task was on the capability's shared stream: nothing
    is sent again (the bus holds the delivery for a consumer that lives, and hands it to
    another once it is idle for the visibility timeout). Before, a new task went out, and an
    agent only late with its heartbeats ran the step twice."""
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    first_task = (await step_row(runtime, run)).task_id
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    holder = (await at(runtime, run, 0.1, answers(runtime, started))).steps["s"].agent_id
    assert holder is not None
    ctx = await at(runtime, run, 20, lambda c: engine.redispatch(c, {holder}))
    assert ctx.steps["s"].task_id == first_task and ctx.steps["s"].agent_id == holder
    assert [e for e in await events(runtime, run) if e.type == "step.redispatched"] == []
    late = reply(run, 1, Kind.RESULT, {"output": 4})
    ctx = await at(runtime, run, 21, answers(runtime, late))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 4}


async def test_a_shared_stream_task_is_answered_by_its_taker_once_its_holder_is_gone(
    runtime: Runtime,
) -> None:
    """The bus handed a shared-stream task to another agent of the group (its holder's consumer
    stopped renewing it). The taker's answer is refused while the holder's lease holds (a
    rival), and counts once the holder's lease has run out: ``step.handed_over``. (The taker's
    answers were refused whatever the holder's lease, and only the lease's redispatch, with a
    new task id, could finish the step.)"""
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    holder = (await at(runtime, run, 0.1, answers(runtime, started))).steps["s"].agent_id
    assert holder is not None
    taker = Identity("the-taker", "bus", None, frozenset({"t.work"}))
    outcome: list[object] = []

    async def taken(c: RunContext) -> None:
        result = reply(run, 1, Kind.RESULT, {"output": 6}).model_copy(
            update={"sender": taker.agent_id, "causation_id": c.steps["s"].task_id}
        )
        outcome.append(await engine.on_message(c, result, taker))

    await at(runtime, run, 1, taken)
    assert isinstance(outcome[0], Refusal) and outcome[0].code == "wrong_agent"
    async with runtime.sessions() as session, session.begin():
        [agent] = await store.list_agents(session, name="worker")
        agent.lease_expires_at = agent.lease_expires_at - timedelta(seconds=601)
    ctx = await at(runtime, run, 2, taken)
    assert not isinstance(outcome[1], Refusal), outcome[1]
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 6}
    handed = [
        (e.agent_id, e.data) for e in await events(runtime, run) if e.type == "step.handed_over"
    ]
    assert handed == [("the-taker", {"from": holder, "reason": f"agent {holder} is gone"})]


async def test_a_released_shared_stream_task_is_answered_by_its_next_taker(
    runtime: Runtime,
) -> None:
    """Its holder gave the task back (``task.released``: its gateway connection ended): the
    agent that takes it next answers it at once, the holder's lease still running. A release
    by anyone but the holder changes nothing."""
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    holder = (await at(runtime, run, 0.1, answers(runtime, started))).steps["s"].agent_id
    released = reply(run, 1, Kind.EVENT, {"reason": "gone"}).model_copy(
        update={"topic": streams.TASK_RELEASED}
    )
    taker = Identity("the-taker", "bus", None, frozenset({"t.work"}))
    outcome: list[object] = []

    def by_taker(envelope: Envelope) -> Callable[[RunContext], Awaitable[None]]:
        async def act(c: RunContext) -> None:
            bound = envelope.model_copy(
                update={"sender": taker.agent_id, "causation_id": c.steps["s"].task_id}
            )
            outcome.append(await engine.on_message(c, bound, taker))

        return act

    await at(runtime, run, 0.2, by_taker(released))  # not its to release
    assert isinstance(outcome[0], Refusal) and outcome[0].code == "wrong_agent"
    ctx = await at(runtime, run, 0.3, answers(runtime, released))
    assert ctx.steps["s"].agent_id is None
    assert [e.agent_id for e in await events(runtime, run) if e.type == "step.released"] == [holder]
    ctx = await at(runtime, run, 0.4, by_taker(reply(run, 1, Kind.RESULT, {"output": 8})))
    assert not isinstance(outcome[1], Refusal), outcome[1]
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 8}


async def _set_worker(rt: Runtime, status: str) -> None:
    """The worker's registry status, as its lease expiring (or a heartbeat) leaves it."""
    async with rt.sessions() as session, session.begin():
        [agent] = await store.list_agents(session, name="worker")
        agent.status = status
    rt.orchestrator.engine.router.invalidate()


async def test_a_task_sent_again_with_no_agent_left_waits_for_one_until_its_deadline(
    runtime: Runtime,
) -> None:
    """Its only agent went offline: the task, in its inbox, cannot go out again yet. The step
    waits for an agent, as the same attempt; it is not timed out by its wait's rechecks (a run
    failed 0.5 s after its agent's lease lapsed), goes out when an agent is back, and times
    out only at the attempt's own deadline."""
    await inbox_only(runtime)
    run = await start(runtime, one_step(timeout_s=30))
    engine = runtime.orchestrator.engine
    first = await step_row(runtime, run)
    first_task, deadline = first.task_id, first.due_at
    started = reply(run, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    holder = (await at(runtime, run, 0.1, answers(runtime, started))).steps["s"].agent_id
    assert holder is not None
    await _set_worker(runtime, "offline")
    ctx = await at(runtime, run, 10, lambda c: engine.redispatch(c, {holder}))
    assert ctx.steps["s"].meta["waiting"].endswith("(all offline)")
    for seconds in (10.5, 11, 20):
        ctx = await at(runtime, run, seconds, engine.on_due)
        assert ctx.run.status == "running" and ctx.steps["s"].status == "running"
        assert ctx.steps["s"].attempt == 1 and "waiting" in ctx.steps["s"].meta
    await _set_worker(runtime, "online")
    ctx = await at(runtime, run, 21, engine.on_due)
    sent = ctx.steps["s"]
    assert sent.task_id != first_task and sent.attempt == 1 and "waiting" not in sent.meta
    assert sent.due_at == deadline  # the attempt's own
    late = reply(run, 1, Kind.RESULT, {"output": 3})
    ctx = await at(runtime, run, 22, answers(runtime, late))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 3}

    # No agent comes back: the step times out at the attempt's deadline, not before.
    other = await start(runtime, one_step(timeout_s=30))
    await _set_worker(runtime, "online")
    started = reply(other, 1, Kind.EVENT, {}).model_copy(update={"topic": "task.started"})
    await at(runtime, other, 0.1, answers(runtime, started))
    await _set_worker(runtime, "offline")
    await at(runtime, other, 10, lambda c: engine.redispatch(c, {holder}))
    ctx = await at(runtime, other, 29.9, engine.on_due)
    assert ctx.steps["s"].status == "running"
    ctx = await at(runtime, other, 30.1, engine.on_due)
    assert ctx.steps["s"].status == "timed_out" and ctx.run.status == "failed"


async def test_a_retried_run_carries_over_the_succeeded_steps(runtime: Runtime) -> None:
    """A retry of a failed run records its succeeded step as this run's own (same output, who
    ran it, a ``step.reused`` event and ledger entry naming the old run) and runs the rest."""
    two = {
        "name": "w",
        "steps": [
            {"id": "a", "capability": "t.work", "input": {}, "retry": {"max_attempts": 2}},
            {"id": "s", "capability": "t.work", "input": {"x": "$.steps.a.output"}},
        ],
    }
    run = await start(runtime, two)
    waiting = await step_row(runtime, run)
    assert (waiting.status, waiting.attempt, waiting.max_attempts) == ("pending", 0, 1)
    done = reply(run, 1, Kind.RESULT, {"output": {"v": 5}}).model_copy(update={"step_id": "a"})

    async def answer_a(ctx: RunContext) -> object:
        return await answers(runtime, done, ctx.steps["a"].task_id)(ctx)

    await at(runtime, run, 1, answer_a)
    await at(runtime, run, 2, answers(runtime, reply(run, 1, Kind.ERROR, error("no", False))))
    async with runtime.readers() as session:
        old = await session.get(StepRow, (run.id, "a"))
    assert old is not None and old.status == "succeeded" and old.agent_id is not None

    again = await runtime.orchestrator.retry_run(run.id)
    async with runtime.readers() as session:
        copied = await session.get(StepRow, (again.id, "a"))
        rest = await session.get(StepRow, (again.id, "s"))
        entries = (
            await session.execute(
                select(LedgerEntryRow).where(
                    LedgerEntryRow.run_id == again.id, LedgerEntryRow.kind == "step.reused"
                )
            )
        ).scalars()
        [entry] = list(entries)
    assert copied is not None and rest is not None
    assert (copied.definition_id, copied.item_index, copied.capability) == ("a", None, "t.work")
    assert (copied.status, copied.attempt, copied.max_attempts) == ("succeeded", 1, 2)
    assert (copied.input, copied.output, copied.agent_id) == ({}, {"v": 5}, old.agent_id)
    assert copied.started_at == old.started_at and copied.finished_at is not None
    assert copied.finished_at >= again.created_at
    assert copied.duplicates == 0 and copied.meta == {"reused_from": run.id}
    assert entry.data == {
        "step_id": "a",
        "attempt": 1,
        "agent_id": old.agent_id,
        "output": {"v": 5},
        "from_run": run.id,
    }
    reused = [e for e in await events(runtime, again) if e.type == "step.reused"]
    assert [(e.step_id, e.to_state, e.data) for e in reused] == [
        ("a", "succeeded", {"from_run": run.id})
    ]
    # The rest runs again, on the carried-over output.
    assert (rest.status, rest.attempt, rest.input) == ("scheduled", 1, {"x": {"v": 5}})


async def ledger_of(rt: Runtime, run: Run) -> list[tuple[str, Any]]:
    async with rt.readers() as session:
        query = select(LedgerEntryRow).where(LedgerEntryRow.run_id == run.id)
        rows = (await session.execute(query.order_by(LedgerEntryRow.seq))).scalars()
        return [(row.kind, row.data) for row in rows]


async def test_a_failed_step_fails_the_run_and_stops_the_others_with_a_trail(
    runtime: Runtime,
) -> None:
    """A code the policy never retries fails the step at once, though marked retryable; the
    run fails naming it, its other step is cancelled with that reason, and the ledger says so."""
    definition = {
        "name": "w",
        "steps": [
            {
                "id": "s",
                "capability": "t.work",
                "retry": {"max_attempts": 3, "no_retry_on": ["boom"]},
            },
            {"id": "b", "capability": "t.work"},
        ],
    }
    run = await start(runtime, definition)
    boom = error("boom")["error"]
    ctx = await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.ERROR, error("boom"))))
    assert ctx.steps["s"].status == "failed" and ctx.steps["s"].error == boom
    run_error = {"code": "step_failed", "message": "step s failed", "step_id": "s", "cause": boom}
    assert ctx.run.status == "failed" and ctx.run.error == run_error
    assert ctx.steps["b"].status == "cancelled"
    trail = [(e.type, e.step_id, e.data) for e in await events(runtime, run)]
    assert ("step.failed", "s", {"error": boom}) in trail
    assert ("run.failed", None, {"error": run_error}) in trail
    assert ("step.cancelled", "b", {"reason": "step s failed"}) in trail
    ledger = await ledger_of(runtime, run)
    assert ("step.failed", {"step_id": "s", "attempt": 1, "error": boom}) in ledger
    assert ledger[-1] == ("run.failed", {"error": run_error, "input_sha256": input_digest({})})


async def test_a_retry_says_when_and_an_error_is_not_retryable_unless_it_says_so(
    runtime: Runtime,
) -> None:
    retry = {"max_attempts": 3, "backoff_s": 0.12345, "jitter": 0}
    run = await start(runtime, one_step(retry=retry))
    flaky = error("flaky")["error"]
    ctx = await at(runtime, run, 1, answers(runtime, reply(run, 1, Kind.ERROR, error("flaky"))))
    assert ctx.steps["s"].status == "retrying" and ctx.steps["s"].error == flaky
    moves = [e.data for e in await events(runtime, run) if e.type == "step.retrying"]
    assert moves == [{"error": flaky, "retry_in_s": 0.123}]
    other = await start(runtime, one_step(retry=retry))
    unsure = {"error": {"code": "flaky", "message": "no retryable flag"}}
    ctx = await at(runtime, other, 1, answers(runtime, reply(other, 1, Kind.ERROR, unsure)))
    assert ctx.steps["s"].status == "failed" and ctx.steps["s"].attempt == 1


async def test_a_sweep_times_out_only_the_steps_that_are_due_and_retries_them(
    runtime: Runtime,
) -> None:
    definition = {
        "name": "w",
        "steps": [
            {"id": "a", "capability": "t.work", "timeout_s": 100},
            {"id": "s", "capability": "t.work", "timeout_s": 1, "retry": {"max_attempts": 2}},
        ],
    }
    run = await start(runtime, definition)
    ctx = await at(runtime, run, 1.5, runtime.orchestrator.engine.on_due)
    assert ctx.steps["a"].status == "scheduled"
    assert ctx.steps["s"].status == "retrying"
    assert ctx.steps["s"].error == {
        "code": "timeout",
        "retryable": True,
        "message": "no result within the step's timeout (attempt 1)",
    }


async def test_a_step_with_no_agent_is_routed_again_when_due(runtime: Runtime) -> None:
    run = await start(runtime, one_step(capability="t.nobody"))
    waiting = await step_row(runtime, run)
    assert waiting.status == "pending" and waiting.due_at is not None
    ctx = await at(runtime, run, 2, runtime.orchestrator.engine.on_due)
    assert ctx.steps["s"].status == "pending"
    assert ctx.steps["s"].due_at == run.created_at + timedelta(seconds=2.5)  # tried again at 2 s


async def test_agent_timestamps_without_a_zone_are_utc_and_junk_means_now(
    runtime: Runtime,
) -> None:
    zoneless, junk = await start(runtime, one_step()), await start(runtime, one_step())
    zoned = await start(runtime, one_step())
    naive = (zoneless.created_at + timedelta(seconds=0.2)).replace(tzinfo=None).isoformat()
    paris = timezone(timedelta(hours=1))
    offset = (zoned.created_at + timedelta(seconds=0.3)).astimezone(paris).isoformat()
    cases = ((zoneless, naive, 0.2), (junk, "yesterday", 0.5), (zoned, offset, 0.3))
    for run, started_at, expected in cases:
        announce = reply(run, 1, Kind.EVENT, {"started_at": started_at}).model_copy(
            update={"topic": streams.TASK_STARTED}
        )
        ctx = await at(runtime, run, 0.5, answers(runtime, announce))
        assert ctx.steps["s"].status == "running"
        assert ctx.steps["s"].started_at == run.created_at + timedelta(seconds=expected)
        moved = [e.data for e in await events(runtime, run) if e.type == "step.running"]
        assert moved == [{"started_at": ctx.steps["s"].started_at.isoformat()}]


async def test_a_cancel_without_a_reason_says_it_was_requested(runtime: Runtime) -> None:
    run = await start(runtime, one_step())

    async def cancel(c: RunContext) -> None:
        assert runtime.orchestrator.engine.cancel(c)

    ctx = await at(runtime, run, 1, cancel)
    assert ctx.run.error == {"code": "cancelled", "message": "cancelled by request"}


async def test_an_inbox_task_its_agent_answered_is_not_sent_again_when_the_agent_leaves(
    runtime: Runtime,
) -> None:
    """Its agent answered the task (the inbox acknowledged it, the answer went with the
    acknowledgement) and left before the answer was recorded (it deregistered a moment after
    its last answer, or its lease ran out): the task is not sent again (``step.held``, "it
    answered the task"), and the answer counts when it is read. (Before, the inbox no longer
    held the delivery, so the task went out again and ran twice.)"""
    await inbox_only(runtime)
    run = await start(runtime, one_step())
    engine = runtime.orchestrator.engine
    row = await step_row(runtime, run)
    holder, first_task = row.agent_id, row.task_id
    assert holder is not None and first_task is not None
    answered: list[str] = []

    async def answers_at_once(envelope: Envelope) -> None:
        answered.append(envelope.id)

    inbox = streams.inbox(holder)
    sub = await runtime.transport.subscribe(inbox, holder, "worker-1", answers_at_once)
    while not answered or await runtime.transport.pending(inbox, holder):  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # the acknowledgement follows the handler
    await sub.stop()
    await set_status(runtime, holder, "draining")
    ctx = await at(runtime, run, 1, lambda c: engine.redispatch(c, {holder}, "deregistered"))
    assert ctx.steps["s"].task_id == first_task and answered == [first_task]
    history = await events(runtime, run)
    assert [e for e in history if e.type == "step.redispatched"] == []
    [held] = [e.data["reason"] for e in history if e.type == "step.held"]
    assert held.startswith(f"agent {holder} deregistered; it answered the task"), held
    late = reply(run, 1, Kind.RESULT, {"output": 4})
    ctx = await at(runtime, run, 2, answers(runtime, late, first_task))
    assert ctx.run.status == "succeeded" and ctx.run.output == {"s": 4}


async def test_a_deregistering_agent_has_its_unread_inbox_task_sent_on_at_once(
    runtime: Runtime,
) -> None:
    """An agent deregisters with a task pinned to its name in its inbox, never read: the
    deregistration sends it at once to the other registration of the name, through the lease
    sweep's path (``Orchestrator.send_on``), as the same attempt with a new task id, and says
    why (``step.redispatched``, "agent … deregistered"). (Before, it waited for the agent's
    lease to run out.)"""
    run = await start(runtime, one_step(agent="worker"))
    row = await step_row(runtime, run)
    holder, first_task = row.agent_id, row.task_id
    assert holder is not None
    card = AgentCard(name="worker", capabilities=[{"name": "t.work"}])
    async with runtime.sessions() as session, session.begin():
        other, _ = await store.register_agent(session, card, lease_s=600)
    await set_status(runtime, holder, "draining")
    await runtime.orchestrator.send_on([holder], holding.DEREGISTERED_WHY)
    row = await step_row(runtime, run)
    assert row.task_id != first_task and row.attempt == 1 and row.agent_id == other.id
    moved = [e.data for e in await events(runtime, run) if e.type == "step.redispatched"]
    assert moved == [{"reason": f"agent {holder} deregistered"}]


async def test_a_task_out_over_http_stays_with_its_agent_when_it_deregisters(
    runtime: Runtime,
) -> None:
    """A task MODX sent to an agent over HTTP (MCP, A2A alike) is held by the request that
    carries it: an agent that deregisters is alive and drains it, so it is not sent again
    (it would run twice); one whose lease ran out is taken for dead, and it is."""
    run = await start(runtime, one_step(agent="worker"))
    engine = runtime.orchestrator.engine
    first_task = (await step_row(runtime, run)).task_id

    async def over_http(ctx: RunContext) -> None:
        ctx.steps["s"].meta = {**ctx.steps["s"].meta, in_flight.VIA_REMOTE: True}

    ctx = await at(runtime, run, 0.1, over_http)
    holder = ctx.steps["s"].agent_id
    assert holder is not None
    ctx = await at(runtime, run, 0.2, lambda c: engine.redispatch(c, {holder}, "deregistered"))
    assert ctx.steps["s"].task_id == first_task
    assert [e for e in await events(runtime, run) if e.type == "step.redispatched"] == []
    ctx = await at(runtime, run, 0.3, lambda c: engine.redispatch(c, {holder}))
    assert ctx.steps["s"].task_id != first_task


async def test_an_inbox_task_sent_on_is_taken_back_from_its_agent_that_reads_on(
    runtime: Runtime,
) -> None:
    """A task its agent had not read is sent on when the agent leaves (deregistered, or its
    lease ran out while it was only paused): it is taken back from the inbox first, so the
    agent, reading on, never gets it and it runs once. (Before, the agent read the old task
    too and both ran it.)"""
    async with runtime.readers() as session:
        [worker] = await store.list_agents(session, name="worker")
    inbox, seen = streams.inbox(worker.id), []

    async def records(envelope: Envelope) -> None:
        seen.append(envelope.id)

    # The agent's consumer read its inbox, then stopped reading (paused, or busy elsewhere).
    await (await runtime.transport.subscribe(inbox, worker.id, "worker-1", records)).stop()
    run = await start(runtime, one_step(agent="worker"))
    first_task = (await step_row(runtime, run)).task_id
    card = AgentCard(name="worker", capabilities=[{"name": "t.work"}])
    async with runtime.sessions() as session, session.begin():
        await store.register_agent(session, card, lease_s=600)
    await set_status(runtime, worker.id, "draining")
    await runtime.orchestrator.send_on([worker.id], holding.DEREGISTERED_WHY)
    assert (await step_row(runtime, run)).task_id != first_task
    reads_on = await runtime.transport.subscribe(inbox, worker.id, "worker-1", records)
    await asyncio.sleep(0.5)  # what it would read, it reads at once
    await reads_on.stop()
    assert seen == []
