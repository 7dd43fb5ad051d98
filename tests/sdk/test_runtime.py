"""The bus runtime, on AgentTestEnvironment (MemoryTransport, no server)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from agents.sdk import Agent
from agents.sdk.runtime import TaskRuntime
from agents.sdk.testing import AgentTestEnvironment
from bus import streams, tasks
from bus.envelope import Kind, utcnow
from bus.memory import MemoryTransport
from bus.signing import generate_keypair, sign, verify
from bus.transport import DEFAULT_MAX_ENTRY_BYTES
from tests.fixtures.services import wait_until
from tests.sdk.sample_agent import Gate, build_agent

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_success_answers_with_the_output_and_the_task_identifiers() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        task = await env.send(
            env.task("math.add", {"a": 2, "b": 3}, attempt=2, traceparent=TRACEPARENT)
        )
        answer = await env.result(task)

    assert answer.kind is Kind.RESULT
    assert answer.payload == {"output": {"total": 5}}
    assert (answer.run_id, answer.step_id, answer.attempt) == (task.run_id, task.step_id, 2)
    assert answer.correlation_id == task.correlation_id
    assert answer.topic == "math.add"
    assert answer.causation_id == task.id
    assert answer.sender == "test-agent"
    assert answer.traceparent == TRACEPARENT


async def test_task_started_is_published_before_the_result() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.add", {"a": 1, "b": 1})
        seen = env.envelopes(answer.causation_id)

    assert [(e.kind, e.topic) for e in seen] == [
        (Kind.EVENT, streams.TASK_STARTED),
        (Kind.RESULT, "math.add"),
    ]
    assert seen[0].payload["capability"] == "math.add" and "started_at" in seen[0].payload
    assert seen[0].causation_id == answer.causation_id


async def test_context_and_usage() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.metered", {"a": 1, "b": 2}, run_id="run-7", attempt=3)

    assert answer.payload == {
        "output": {"total": 3, "attempt": 3, "run_id": "run-7"},
        "usage": {"additions": 2},
    }


async def test_retryable_error() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.busy", {})

    assert answer.kind is Kind.ERROR
    assert answer.payload == {
        "error": {
            "code": "busy",
            "message": "backend busy",
            "retryable": True,
            "details": {"retry_after_s": 1},
        }
    }


async def test_fatal_error() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.refuse", {})

    error = answer.payload["error"]
    assert answer.kind is Kind.ERROR
    assert (error["code"], error["retryable"]) == ("fatal_error", False)
    assert error["details"] == {"why": "policy"}


async def test_unexpected_exception_is_retryable() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.crash", {})

    error = answer.payload["error"]
    assert (error["code"], error["retryable"]) == ("internal_error", True)
    assert error["message"] == "division by zero"
    assert error["details"] == {"exception": "ZeroDivisionError"}


async def test_invalid_input_is_not_retryable_and_names_the_field() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.add", {"a": "seven", "b": -1})
        started = [e for e in env.envelopes(answer.causation_id) if e.kind is Kind.EVENT]

    error = answer.payload["error"]
    assert (error["code"], error["retryable"]) == ("invalid_input", False)
    assert "a: Input should be a valid integer" in error["message"]
    assert [e["field"] for e in error["details"]["errors"]] == ["a", "b"]
    assert "seven" not in str(error)  # input values are not echoed back
    assert len(started) == 1  # the task did start; it failed on its input


async def test_invalid_output_is_not_retryable() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.wrong_output", {})

    error = answer.payload["error"]
    assert (error["code"], error["retryable"]) == ("invalid_output", False)
    assert error["details"]["errors"][0]["field"] == "total"


async def test_deadline_passed_while_running() -> None:
    deadline = utcnow() + timedelta(seconds=1)
    async with AgentTestEnvironment(build_agent()) as env:
        answer = await env.execute("math.forever", {}, deadline=deadline)

    error = answer.payload["error"]
    assert (error["code"], error["retryable"]) == ("deadline_exceeded", True)


async def test_a_handlers_own_timeout_is_an_internal_error_not_the_deadline() -> None:
    agent = Agent("waiter", announce_after_s=0)

    @agent.capability("wait.briefly")
    async def briefly(request: dict[str, Any]) -> int:
        async with asyncio.timeout(0.01):
            await asyncio.Event().wait()
        return 0

    deadline = utcnow() + timedelta(seconds=30)
    async with AgentTestEnvironment(agent) as env:
        answer = await env.execute("wait.briefly", {}, deadline=deadline)

    error = answer.payload["error"]
    assert (error["code"], error["retryable"]) == ("internal_error", True)
    assert error["details"] == {"exception": "TimeoutError"}


async def test_pinned_task_arrives_through_the_inbox() -> None:
    async with AgentTestEnvironment(build_agent(), agent_id="agent-42") as env:
        answer = await env.execute("math.add", {"a": 1, "b": 2}, recipient="agent-42")
        unknown = await env.execute("math.divide", {}, recipient="agent-42")

    assert answer.payload == {"output": {"total": 3}}
    assert unknown.payload["error"]["code"] == "unknown_capability"
    assert unknown.payload["error"]["retryable"] is False


async def test_answers_are_signed_when_the_agent_has_a_key() -> None:
    private, public = generate_keypair()
    async with AgentTestEnvironment(build_agent(signing_key=private)) as env:
        answer = await env.execute("math.add", {"a": 1, "b": 2})
        started = await env.started(answer.causation_id or "")

    assert verify(answer, public)
    assert verify(started, public)


async def test_concurrency_bound_is_shared_across_capabilities_and_pauses_pulling() -> None:
    gate = Gate()
    env = AgentTestEnvironment(build_agent(gate), max_concurrency=2)
    async with env:
        tasks = [await env.send(env.task("math.slow", {"n": i})) for i in range(5)]
        await gate.wait_started(2)
        other = await env.send(env.task("math.add", {"a": 1, "b": 1}))
        await asyncio.sleep(0.05)  # a window in which an unbounded runtime would start more

        assert gate.running == 2
        assert env.runtime.in_flight == 2
        assert env.runtime.paused
        assert not env.envelopes(other)  # another capability waits for the same budget

        gate.release.set()
        answers = [await env.result(t) for t in tasks]
        await env.result(other)

    assert gate.most == 2
    assert sorted(a.payload["output"]["done"] for a in answers) == [0, 1, 2, 3, 4]


async def test_stop_drains_in_flight_work_and_acknowledges_it() -> None:
    gate = Gate()
    transport = MemoryTransport()
    env = AgentTestEnvironment(build_agent(gate), transport=transport)
    await env.start()
    task = await env.send(env.task("math.slow", {"n": 1}))
    await gate.wait_started(1)

    stopping = asyncio.create_task(env.stop(drain=True))
    at_stop: list[list[Kind]] = []  # what the task had answered when stop returned
    stopping.add_done_callback(lambda _: at_stop.append([e.kind for e in env.envelopes(task)]))
    await wait_until(lambda: env.runtime.paused)  # stop began: it takes no new task
    assert not stopping.done()  # waiting for the handler, not abandoning it

    gate.release.set()
    assert await stopping is True
    assert at_stop == [[Kind.EVENT, Kind.RESULT]]  # it returned after the answer, not before
    assert await transport.pending(streams.tasks("math.slow"), "math.slow") == 0
    await transport.close()


async def test_stop_without_drain_leaves_the_task_pending_and_another_agent_gets_it() -> None:
    gate = Gate()
    transport = MemoryTransport()
    env = AgentTestEnvironment(build_agent(gate), transport=transport)
    await env.start()
    task = await env.send(env.task("math.slow", {"n": 1}))
    await gate.wait_started(1)

    assert await env.stop(drain=False) is False
    assert [e.kind for e in env.envelopes(task)] == [Kind.EVENT]  # started, never answered
    assert await transport.pending(streams.tasks("math.slow"), "math.slow") == 1

    # Another agent of the same capability picks it up.
    gate.release.set()
    second = AgentTestEnvironment(
        build_agent(gate), transport=transport, orchestrator_key=env.orchestrator_key
    )
    async with second:
        answer = await second.result(task)
    assert answer.payload == {"output": {"done": 1}}
    await transport.close()


async def test_non_task_envelope_on_a_task_stream_is_dropped() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        stray = env.sign(
            env.task("math.add", {"a": 1, "b": 1}).model_copy(update={"kind": Kind.EVENT})
        )
        await env.send(stray)
        answer = await env.execute("math.add", {"a": 2, "b": 2})

    assert answer.payload == {"output": {"total": 4}}
    assert env.envelopes(stray) == []


async def test_result_waits_time_out_with_a_clear_message() -> None:
    async with AgentTestEnvironment(build_agent()) as env:
        with pytest.raises(TimeoutError, match="no result/error for task nope"):
            await env.result("nope", timeout_s=0.01)


async def test_a_task_faster_than_announce_after_s_is_not_announced() -> None:
    async with AgentTestEnvironment(build_agent(announce_after_s=5)) as env:
        answer = await env.execute("math.add", {"a": 2, "b": 3})
        seen = env.envelopes(answer.causation_id)

    assert [e.kind for e in seen] == [Kind.RESULT]  # no task.started: the result says when it began
    assert answer.payload["output"] == {"total": 5}
    assert datetime.fromisoformat(answer.payload["started_at"]) <= answer.created_at


async def test_a_slow_task_is_announced_after_announce_after_s() -> None:
    gate = Gate()
    async with AgentTestEnvironment(build_agent(gate, announce_after_s=0.01)) as env:
        task = await env.send(env.task("math.slow", {"n": 1}))
        started = await env.started(task)
        gate.release.set()
        answer = await env.result(task)

    assert started.payload["capability"] == "math.slow"
    assert "started_at" not in answer.payload  # announced already


async def test_a_task_the_orchestrator_did_not_sign_is_dead_lettered_unrun() -> None:
    gate = Gate()
    gate.release.set()
    async with AgentTestEnvironment(build_agent(gate)) as env:
        unsigned = env.task("math.slow", {"n": 1}).model_copy(update={"signature": None})
        impostor = env.task("math.slow", {"n": 2}).model_copy(update={"sender": "mallory"})
        forged = sign(env.task("math.slow", {"n": 3}), generate_keypair()[0])
        for task in (unsigned, impostor, forged):
            await env.send(task)
        answer = await env.execute("math.slow", {"n": 4})

        async def dead() -> bool:
            return len(await env.transport.dead_letters(streams.tasks("math.slow"))) == 3

        await wait_until(dead)
        reasons = {
            d.envelope.payload["n"]: d.reason
            for d in await env.transport.dead_letters(streams.tasks("math.slow"))
            if d.envelope is not None
        }
    assert answer.payload == {"output": {"done": 4}}
    assert gate.started == 1  # only the signed task ran
    assert reasons[1] == reasons[3] == "rejected: task not signed with the orchestrator's key"
    assert reasons[2] == "rejected: a task from 'mallory', not from the orchestrator"


async def test_answers_and_events_go_to_the_stream_the_task_names_as_reply_to() -> None:
    """The orchestrator names its run's partition stream; the owner alone reads it, so the
    agent answers there (``task.started`` too), and nothing about the task on ``modx.results``."""
    partition = streams.result_partition(5)
    async with AgentTestEnvironment(build_agent()) as env:
        seen: list[Any] = []

        async def record(envelope: Any) -> None:
            seen.append(envelope)

        listener = await env.transport.subscribe(partition, "test-partition", "test", record)
        try:
            task = env.task("math.add", {"a": 2, "b": 3})
            task = await env.send(env.sign(task.model_copy(update={"reply_to": partition})))
            await wait_until(lambda: any(e.kind is Kind.RESULT for e in seen))
        finally:
            await listener.stop(drain=True)
        on_results = env.envelopes(task)

    assert [(e.kind, e.topic) for e in seen] == [
        (Kind.EVENT, streams.TASK_STARTED),
        (Kind.RESULT, "math.add"),
    ]
    assert seen[1].payload == {"output": {"total": 5}} and seen[1].causation_id == task.id
    assert on_results == []


async def test_every_subscription_of_a_stop_shares_one_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With Redis not answering, each subscription's clean-up waits out the stop's deadline:
    they share one, the control stream's included (it was stopped after the others, under a
    deadline of its own: an agent's stop took a deadline longer)."""
    transport = MemoryTransport()
    runtime = TaskRuntime(build_agent(), transport, "agent-1")
    await runtime.start()
    deadlines: list[float | None] = []
    for sub in [*runtime._all(), runtime._control]:
        assert sub is not None
        stop = sub.stop

        async def seen(drain: bool = True, stop: Any = stop) -> None:
            deadlines.append(tasks._deadline.get())
            await stop(drain=drain)

        monkeypatch.setattr(sub, "stop", seen)
    await runtime.stop()
    await transport.close()
    assert len(deadlines) >= 2 and None not in deadlines
    assert len(set(deadlines)) == 1


class BlobRequest(BaseModel):
    """How many bytes of output to make."""

    size: int


class BlobResult(BaseModel):
    """That many bytes."""

    blob: str


async def test_an_answer_the_server_would_discard_is_sent_as_answer_too_large() -> None:
    agent = Agent("blobs", version="1.0.0")

    @agent.capability("blob.make")
    async def make(request: BlobRequest) -> BlobResult:
        return BlobResult(blob="x" * request.size)

    async with AgentTestEnvironment(agent) as env:
        over = await env.execute("blob.make", {"size": DEFAULT_MAX_ENTRY_BYTES})
        under = await env.execute("blob.make", {"size": DEFAULT_MAX_ENTRY_BYTES - 4096})

    assert over.kind is Kind.ERROR
    error = over.payload["error"]
    assert (error["code"], error["retryable"]) == ("answer_too_large", False)
    assert "MODX_BUS_MAX_ENTRY_BYTES" in error["message"]
    assert len(over.to_json()) < 4096
    assert under.kind is Kind.RESULT
    assert len(under.payload["output"]["blob"]) == DEFAULT_MAX_ENTRY_BYTES - 4096
