"""MODX's A2A server as a client nobody on the team wrote drives it, with the a2a-sdk's client:
a stream cut short then picked up with ``SubscribeToTask``, a task cancelled while it streams,
a large and a non-ASCII answer, several tasks at once in one context, a run that fails in the
middle of its stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    TaskState,
)
from pydantic import BaseModel

from agents.sdk import Agent, TaskContext
from agents.sdk.errors import FatalError
from services.interop.translate.a2a import output_of
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack
from tests.interop.test_a2a_server import (
    a2a_client,
    collect,
    data_message,
    helper,
    only_task,
    rest_run,
)
from tests.interop.test_a2a_server_turns import on_task

UNICODE = (
    "ça va? ÿ ß ǅ 😀 \U0001d518\U0001d52b\U0001d526 \u202e\u05e2\u05d1\u05e8\u05d9\u05ea\u202c"
    " 日本語 e\u0301 \ufeff\u00a0end"
)


class Repeat(BaseModel):
    text: str
    times: int


class Said(BaseModel):
    text: str


outsider = Agent("a2a-outsider", version="1.0.0", description="Repeats; refuses.")


@outsider.capability("text.repeat", description="Repeat a text a number of times.")
async def repeat(request: Repeat, ctx: TaskContext) -> Said:
    return Said(text=request.text * request.times)


@outsider.capability("text.refuse", description="Refuse any text.")
async def refuse(request: Said, ctx: TaskContext) -> Said:
    raise FatalError(f"refused {request.text!r}", code="no_thanks")


GATED = {
    "name": "gated",
    "description": "Shout, wait for a go, shout again.",
    "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
    "steps": [
        {"id": "first", "capability": "text.shout", "input": {"text": "$.input.text"}},
        {"id": "go", "wait": {"signal": "go", "prompt": "Go on?"}, "after": ["first"]},
        {
            "id": "second",
            "capability": "text.shout",
            "input": {"text": "$.input.text"},
            "after": ["go"],
        },
    ],
    "output": "$.steps.second.output",
}

FAILS_MIDWAY = {
    "name": "fails-midway",
    "description": "Shout, then refuse.",
    "steps": [
        {"id": "first", "capability": "text.shout", "input": {"text": "$.input.text"}},
        {
            "id": "second",
            "capability": "text.refuse",
            "input": {"text": "$.input.text"},
            "after": ["first"],
        },
    ],
}


async def workflows(stack: Stack, *definitions: dict[str, Any]) -> None:
    await stack.agent(helper)
    await stack.agent(outsider)
    for definition in definitions:
        answer = await stack.client.post("/v1/workflows", json=definition)
        assert answer.status_code in (200, 201), answer.text


def state_of(event: StreamResponse) -> TaskState | None:
    if event.HasField("task"):
        return event.task.status.state
    if event.HasField("status_update"):
        return event.status_update.status.state
    return None


async def test_a_stream_cut_short_is_picked_up_by_subscribing(stack: Stack) -> None:
    """A client whose stream breaks (it goes away after the first update) subscribes to the
    task again: the task as it is now, then what happens next, to the output."""
    await workflows(stack, GATED)
    async with a2a_client(stack) as (client, _):
        request = data_message({"skill": "workflow.gated", "input": {"text": UNICODE}})
        stream = client.send_message(request)
        first = await anext(stream)
        assert first.HasField("task")
        task_id = first.task.id
        await stream.aclose()  # type: ignore[attr-defined]  # the client goes away mid-stream

        async def waiting() -> bool:
            got = await client.get_task(GetTaskRequest(id=task_id))
            return bool(got.status.state == TaskState.TASK_STATE_INPUT_REQUIRED)

        await wait_until(waiting, timeout=300)  # the run went on without its client

        async def follow() -> list[StreamResponse]:
            async with a2a_client(stack) as (again, _):
                return [e async for e in again.subscribe(SubscribeToTaskRequest(id=task_id))]

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.5)
        await collect(client, on_task(data_message({"text": "go"}), task_id))
        events = await asyncio.wait_for(following, 300)
    assert events[0].HasField("task") and events[0].task.id == task_id
    assert events[0].task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    # what came after the task as it was, not its history again (step "first" had ended)
    updated = [output_of(e.status_update.status.message.parts) for e in events[1:]]
    steps = [u["data"]["step"]["step_id"] for u in updated if "step" in u.get("data", {})]
    assert "first" not in steps and "second" in steps, steps
    states = [state_of(e) for e in events if state_of(e) is not None]
    assert states[-1] == TaskState.TASK_STATE_COMPLETED, states
    artifacts = [e.artifact_update.artifact for e in events if e.HasField("artifact_update")]
    assert [output_of(a.parts) for a in artifacts] == [{"text": UNICODE.upper()}]


async def test_a_task_cancelled_while_it_streams_ends_its_stream_canceled(stack: Stack) -> None:
    await workflows(stack)
    async with a2a_client(stack) as (client, _), a2a_client(stack) as (other, _):
        stream = client.send_message(data_message({"skill": "work.hold", "input": {}}))
        events = [await anext(stream)]
        task_id = events[0].task.id

        async def running() -> bool:
            steps = (await rest_run(stack, task_id))["steps"]
            return bool(steps) and steps[0]["status"] == "running"

        await wait_until(running, timeout=300)
        cancelled = await other.cancel_task(CancelTaskRequest(id=task_id))
        assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        events += [e async for e in stream]
    assert state_of(events[-1]) == TaskState.TASK_STATE_CANCELED, events[-1]


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_large_non_ascii_answer_comes_whole(stack: Stack, streaming: bool) -> None:
    """An answer of 3 MiB of non-ASCII text (under MODX_MAX_ANSWER_BYTES), byte for byte."""
    await workflows(stack)
    times = 3 * 1024 * 1024 // len(UNICODE.encode())
    async with a2a_client(stack, streaming=streaming) as (client, _):
        request = data_message({"skill": "text.repeat", "input": {"text": UNICODE, "times": times}})
        events = await collect(client, request)
        task_id = events[0].task.id
        got = await client.get_task(GetTaskRequest(id=task_id))
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    assert output_of(got.artifacts[0].parts) == {"text": UNICODE * times}
    if streaming:
        (artifact,) = [e.artifact_update.artifact for e in events if e.HasField("artifact_update")]
        assert output_of(artifact.parts) == {"text": UNICODE * times}


async def test_tasks_sent_at_once_in_one_context_are_all_in_it(stack: Stack) -> None:
    await workflows(stack)
    async with a2a_client(stack, streaming=False) as (client, _):

        async def one(i: int) -> str:
            request = data_message({"skill": "text.shout", "input": {"text": f"{UNICODE} {i}"}})
            request.message.context_id = "ctx-at-once"
            task = only_task(await collect(client, request))
            assert task.context_id == "ctx-at-once"
            return task.id

        ids = await asyncio.gather(*(one(i) for i in range(8)))
        assert len(set(ids)) == 8
        listed = await client.list_tasks(ListTasksRequest(context_id="ctx-at-once"))
        assert {t.id for t in listed.tasks} == set(ids) and listed.total_size == 8
        for task in listed.tasks:
            assert task.context_id == "ctx-at-once"
            assert task.status.state == TaskState.TASK_STATE_COMPLETED


async def test_a_run_that_fails_mid_stream_ends_it_failed_with_the_reason(stack: Stack) -> None:
    await workflows(stack, FAILS_MIDWAY)
    async with a2a_client(stack) as (client, _):
        request = data_message({"skill": "workflow.fails-midway", "input": {"text": UNICODE}})
        events = await collect(client, request)
    states = [state_of(e) for e in events]
    assert states[-1] == TaskState.TASK_STATE_FAILED
    assert not any(e.HasField("artifact_update") for e in events)
    final = events[-1].status_update.status.message
    said = output_of(final.parts)
    assert said["text"].endswith(f"refused {UNICODE!r} (no_thanks)"), said
    assert said["data"]["error"]["code"] == "step_failed", said
