"""MODX as an A2A server over several messages, driven by the a2a-sdk's client: a text whose
routing is ambiguous is a stored task that asks which skill, which a follow-up on that task
answers (the run starts under the task's id, in the client's context); a run that reaches a
``wait`` step is an input-required task that a follow-up message answers, the signal's body
checked against the step's schema."""

from __future__ import annotations

import asyncio

import pytest
from a2a.client import Client
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    TaskState,
)
from a2a.utils.errors import InvalidParamsError, TaskNotFoundError, UnsupportedOperationError

from services.db.models import A2aTaskRow
from services.interop.translate.a2a import output_of
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack
from tests.interop.a2a_peer import QUESTIONS, running_peer
from tests.interop.test_a2a_input import asking
from tests.interop.test_a2a_server import (
    a2a_client,
    collect,
    data_message,
    greetings,
    helper,
    only_task,
    rest_run,
    text_message,
)

INPUT_REQUIRED = TaskState.TASK_STATE_INPUT_REQUIRED
WORKING = TaskState.TASK_STATE_WORKING
COMPLETED = TaskState.TASK_STATE_COMPLETED


def on_task(request: SendMessageRequest, task_id: str, context_id: str = "") -> SendMessageRequest:
    """The same message, sent on an existing task (and context)."""
    request.message.task_id = task_id
    request.message.context_id = context_id
    return request


async def test_an_ambiguous_text_is_a_task_that_a_follow_up_continues(stack: Stack) -> None:
    await greetings(stack)
    async with a2a_client(stack, streaming=False) as (client, _):
        first = text_message("greet the person by name")
        first.message.context_id = "conversation-1"
        asked = only_task(await collect(client, first))
        assert asked.status.state == INPUT_REQUIRED
        assert asked.context_id == "conversation-1"
        candidates = output_of(asked.status.message.parts)["data"]["candidates"]
        assert {c["skill"] for c in candidates[:2]} == {
            "workflow.greet-formal",
            "workflow.greet-casual",
        }

        # Stored: GetTask and ListTasks know it, though no run exists yet.
        got = await client.get_task(GetTaskRequest(id=asked.id))
        assert got.status.state == INPUT_REQUIRED and got.context_id == "conversation-1"
        assert output_of(got.status.message.parts)["data"]["candidates"] == candidates
        assert (await stack.client.get(f"/v1/runs/{asked.id}")).status_code == 404
        listed = await client.list_tasks(ListTasksRequest())
        assert [t.id for t in listed.tasks] == [asked.id] and listed.total_size == 1
        waiting = await client.list_tasks(ListTasksRequest(status=INPUT_REQUIRED))
        assert [t.id for t in waiting.tasks] == [asked.id]
        in_context = await client.list_tasks(ListTasksRequest(context_id="conversation-1"))
        assert [t.id for t in in_context.tasks] == [asked.id]

        # A follow-up that does not choose: still input-required, the same task, its history.
        vague = on_task(text_message("hmm, whichever"), asked.id, "conversation-1")
        still = only_task(await collect(client, vague))
        assert (still.id, still.status.state) == (asked.id, INPUT_REQUIRED)
        assert "Still not one skill" in output_of(still.status.message.parts)["text"]
        assert len((await client.get_task(GetTaskRequest(id=asked.id))).history) == 2
        # The task's context is its own: another one is refused, naming the field.
        with pytest.raises(InvalidParamsError, match="contextId"):
            await collect(client, on_task(text_message("greet-casual"), asked.id, "elsewhere"))

        # A text naming one candidate: the run starts under the task's id, in its context.
        pick = on_task(text_message("the greet-casual one, please"), asked.id)
        done = only_task(await collect(client, pick))
        assert (done.id, done.status.state, done.context_id) == (
            asked.id,
            COMPLETED,
            "conversation-1",
        )
        assert output_of(done.artifacts[0].parts) == {"text": "GREET THE PERSON BY NAME"}
        run = await rest_run(stack, asked.id)
        assert (run["workflow"], run["status"]) == ("greet-casual", "succeeded")
        again = await client.get_task(GetTaskRequest(id=asked.id))
        assert (again.status.state, again.context_id) == (COMPLETED, "conversation-1")
        listed = await client.list_tasks(ListTasksRequest())
        assert [t.id for t in listed.tasks] == [asked.id] and listed.total_size == 1  # once
        assert [
            t.id for t in (await client.list_tasks(ListTasksRequest(status=INPUT_REQUIRED))).tasks
        ] == []

        # A data part naming a candidate picks it too; a new task in the same context.
        second = text_message("greet the person by name")
        second.message.context_id = "conversation-1"
        asked2 = only_task(await collect(client, second))
        assert asked2.status.state == INPUT_REQUIRED and asked2.id != asked.id
        chosen = on_task(data_message({"skill": "workflow.greet-formal"}), asked2.id)
        done2 = only_task(await collect(client, chosen))
        assert (done2.id, done2.status.state) == (asked2.id, COMPLETED)
        assert (await rest_run(stack, asked2.id))["workflow"] == "greet-formal"
        in_context = await client.list_tasks(ListTasksRequest(context_id="conversation-1"))
        assert [t.id for t in in_context.tasks] == [asked2.id, asked.id]
        # A finished task takes no further message.
        with pytest.raises(UnsupportedOperationError, match="has ended"):
            await collect(client, on_task(text_message("greet-casual"), asked2.id))

    # Another tenant does not see the task.
    admin = {"authorization": f"Bearer {stack.settings.admin_token}"}
    made = await stack.client.post("/v1/tenants", json={"name": "other"}, headers=admin)
    assert made.status_code == 201, made.text
    token = await stack.client.post(
        "/v1/tokens", json={"tenant": "other", "role": "operator"}, headers=admin
    )
    assert token.status_code == 201, token.text
    async with a2a_client(stack, token.json()["token"], streaming=False) as (other, _):
        with pytest.raises(TaskNotFoundError):
            await other.get_task(GetTaskRequest(id=asked.id))
        with pytest.raises(TaskNotFoundError):
            await collect(other, on_task(text_message("greet-casual"), asked.id))
        assert list((await other.list_tasks(ListTasksRequest())).tasks) == []


async def test_an_ask_is_kept_in_the_database(stack: Stack) -> None:
    await greetings(stack)
    async with a2a_client(stack, streaming=False) as (client, _):
        asked = only_task(await collect(client, text_message("greet the person by name")))
    async with stack.runtime.readers() as session:
        row = await session.get(A2aTaskRow, asked.id)
    assert row is not None and row.ask is not None
    assert row.context_id == asked.id and row.tenant == "default"


APPROVAL = {
    "name": "refund",
    "description": "Refund a customer once someone approves it.",
    "steps": [
        {
            "id": "approve",
            "wait": {
                "signal": "approval",
                "prompt": "Approve the refund? Say who you are in note.",
                "schema": {
                    "type": "object",
                    "required": ["approved", "note"],
                    "properties": {"approved": {"type": "boolean"}, "note": {"type": "string"}},
                },
            },
        },
        {"id": "say", "capability": "text.shout", "input": {"text": "$.steps.approve.output.note"}},
    ],
    "output": "$.steps.say.output",
}


def states(events: list[StreamResponse]) -> list[TaskState]:
    return [e.status_update.status.state for e in events if e.HasField("status_update")]


def followed(events: list[StreamResponse]) -> list[TaskState]:
    """A subscription's states: the task as it was, then its updates."""
    return [
        e.task.status.state if e.HasField("task") else e.status_update.status.state
        for e in events
        if e.HasField("task") or e.HasField("status_update")
    ]


async def test_a_wait_step_is_input_required_and_a_message_answers_it(stack: Stack) -> None:
    await stack.agent(helper)
    assert (await stack.client.post("/v1/workflows", json=APPROVAL)).status_code in (200, 201)
    async with a2a_client(stack) as (client, _):
        events = await collect(client, data_message({"skill": "workflow.refund", "input": {}}))
        task_id = events[0].task.id
        # The message's stream ends when the task waits for input, saying what it waits for.
        assert states(events)[-1] == INPUT_REQUIRED
        asked = output_of(events[-1].status_update.status.message.parts)
        assert asked["text"].startswith("Approve the refund?")
        (wait,) = asked["data"]["input_required"]
        assert wait["signal"] == "approval" and wait["step_id"] == "approve"
        assert wait["schema"] == APPROVAL["steps"][0]["wait"]["schema"]  # type: ignore[index]
        got = await client.get_task(GetTaskRequest(id=task_id))
        assert got.status.state == INPUT_REQUIRED
        assert output_of(got.status.message.parts)["data"]["input_required"] == [wait]

        seen: list[StreamResponse] = []

        async def subscribe(subscriber: Client) -> None:
            async for event in subscriber.subscribe(SubscribeToTaskRequest(id=task_id)):
                seen.append(event)

        async with a2a_client(stack) as (subscriber, _):
            following = asyncio.create_task(subscribe(subscriber))
            await wait_until(lambda: INPUT_REQUIRED in followed(seen), timeout=60)

            # A body the step's schema refuses: a JSON-RPC error naming the field; it waits on.
            bad = on_task(data_message({"approved": "yes", "note": "ann"}), task_id)
            with pytest.raises(InvalidParamsError, match=r"\$\.approved"):
                await collect(client, bad)
            assert (await client.get_task(GetTaskRequest(id=task_id))).status.state == (
                INPUT_REQUIRED
            )

            good = on_task(data_message({"approved": True, "note": "ann"}), task_id)
            answered = await collect(client, good)
            await asyncio.wait_for(following, timeout=60)
        assert answered[0].task.id == task_id
        assert states(answered)[-1] == COMPLETED
        assert INPUT_REQUIRED not in states(answered)
        artifact = [e.artifact_update.artifact for e in answered if e.HasField("artifact_update")]
        assert output_of(artifact[0].parts) == {"text": "ANN"}

        # The subscriber saw the task wait for input, then work again, then end.
        seq = followed(seen)  # the task as it was (waiting), then what came next
        asking = seq.index(INPUT_REQUIRED)
        assert WORKING in seq[asking:] and seq[-1] == COMPLETED
        assert seq.index(WORKING, asking) < len(seq) - 1

        history = (await stack.client.get(f"/v1/runs/{task_id}/events")).json()
        received = [e for e in history if e["type"] == "signal.received"]
        assert len(received) == 1 and received[0]["data"]["body"] == {
            "approved": True,
            "note": "ann",
        }
        with pytest.raises(UnsupportedOperationError, match="has ended"):
            await collect(client, good)


async def test_a_blocking_message_answers_when_the_task_waits_for_input(stack: Stack) -> None:
    await stack.agent(helper)
    assert (await stack.client.post("/v1/workflows", json=APPROVAL)).status_code in (200, 201)
    async with a2a_client(stack, streaming=False) as (client, _):
        task = only_task(await collect(client, data_message({"skill": "workflow.refund"})))
        assert task.status.state == INPUT_REQUIRED  # answered, not held until the run ends
        # A text is the body {"text": …}: the schema names the field it misses.
        with pytest.raises(InvalidParamsError, match=r"\$\.approved: .approved. is a required"):
            await collect(client, on_task(text_message("no"), task.id))
        done = only_task(
            await collect(
                client, on_task(data_message({"approved": False, "note": "bob"}), task.id)
            )
        )
        assert (done.id, done.status.state) == (task.id, COMPLETED)
        assert output_of(done.artifacts[0].parts) == {"text": "BOB"}


async def test_a_task_that_does_not_wait_takes_no_message(stack: Stack) -> None:
    await stack.agent(helper)
    async with a2a_client(stack, streaming=False, polling=True) as (client, _):
        held = only_task(await collect(client, data_message({"skill": "work.hold", "input": {}})))

        async def holding() -> bool:
            steps = (await rest_run(stack, held.id))["steps"]
            return bool(steps) and steps[0]["status"] == "running"

        await wait_until(holding, timeout=60)
        with pytest.raises(UnsupportedOperationError, match="not waiting for input"):
            await collect(client, on_task(data_message({"any": 1}), held.id))
        assert (await client.get_task(GetTaskRequest(id=held.id))).status.state == WORKING
        await stack.client.post(f"/v1/runs/{held.id}/cancel")


async def test_a_remote_agents_question_is_the_tasks_and_a_message_answers_it(
    stack: Stack,
) -> None:
    """A2A client -> MODX -> an A2A agent that asks: MODX's task asks the agent's question, and
    the client's answer on the task reaches the agent's task."""
    async with running_peer(streaming=True) as peer:
        registered = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert registered.status_code == 201, registered.text
        workflow = asking()
        assert (await stack.client.post("/v1/workflows", json=workflow)).status_code in (200, 201)
        async with a2a_client(stack, streaming=False) as (client, _):
            start = data_message({"skill": "workflow.asking", "input": {"rounds": 1}})
            task = only_task(await collect(client, start))
            assert task.status.state == INPUT_REQUIRED
            asked = output_of(task.status.message.parts)
            assert asked["text"].startswith(QUESTIONS[0])
            assert asked["data"]["input_required"][0]["signal"] == "remote"
            done = only_task(await collect(client, on_task(text_message("2025"), task.id)))
            assert (done.id, done.status.state) == (task.id, COMPLETED)
            assert output_of(done.artifacts[0].parts)["answers"] == [{"text": "2025"}]
        assert [a.value for a in peer.answers] == [{"text": "2025"}]


async def test_a_subscription_ends_when_its_token_is_revoked(stack: Stack) -> None:
    """SubscribeToTask follows a run for as long as it lasts: revoking the token must end
    what it sends, as it ends the token's next request (before, the revoked viewer went on
    receiving every step transition of the run)."""
    admin = {"authorization": f"Bearer {ADMIN}"}
    issued = await stack.client.post(
        "/v1/tokens", json={"tenant": "default", "role": "viewer"}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    run_id = await stack.submit(TWO_SIGNALS)
    seen: list[StreamResponse] = []

    async def subscribe(subscriber: Client) -> None:
        async for event in subscriber.subscribe(SubscribeToTaskRequest(id=run_id)):
            seen.append(event)

    async with a2a_client(stack, issued.json()["token"]) as (subscriber, _):
        following = asyncio.create_task(subscribe(subscriber))
        try:
            await wait_until(lambda: len(seen) >= 1, timeout=60)  # the task as it is
            before = len(seen)
            revoked = await stack.client.delete(f"/v1/tokens/{issued.json()['id']}", headers=admin)
            assert revoked.status_code == 200
            signal = await stack.client.post(f"/v1/runs/{run_id}/signals/first", json={})
            assert signal.status_code == 202, signal.text
            await wait_until(lambda: following.done() or len(seen) > before, timeout=60)
            assert len(seen) == before, seen[before:]
            await following
        finally:
            following.cancel()
    events = (await stack.client.get(f"/v1/runs/{run_id}/events")).json()
    assert "signal.received" in [event["type"] for event in events]  # the run went on


TWO_SIGNALS = {
    "name": "two-signals",
    "steps": [
        {"id": "first", "wait": {"signal": "first", "timeout_s": 3600}},
        {"id": "second", "wait": {"signal": "second", "timeout_s": 3600}, "after": ["first"]},
    ],
}


async def test_list_tasks_files_a_waiting_run_under_input_required_as_get_task_does(
    stack: Stack,
) -> None:
    """ListTasks shows (and filters) a run at a ``wait`` step as input-required, as GetTask
    does, and a run whose step works as working."""
    await stack.agent(helper)
    assert (await stack.client.post("/v1/workflows", json=APPROVAL)).status_code in (200, 201)
    async with a2a_client(stack, streaming=False, polling=True) as (client, _):
        waiting = only_task(
            await collect(client, data_message({"skill": "workflow.refund", "input": {}}))
        )
        holding = only_task(
            await collect(client, data_message({"skill": "work.hold", "input": {}}))
        )

        async def held() -> bool:
            steps = (await rest_run(stack, holding.id))["steps"]
            return bool(steps) and steps[0]["status"] == "running"

        await wait_until(held, timeout=300)
        got = await client.get_task(GetTaskRequest(id=waiting.id))
        assert got.status.state == INPUT_REQUIRED

        listed = {t.id: t for t in (await client.list_tasks(ListTasksRequest())).tasks}
        assert listed[waiting.id].status.state == INPUT_REQUIRED
        assert output_of(listed[waiting.id].status.message.parts) == output_of(
            got.status.message.parts
        )
        assert listed[holding.id].status.state == WORKING

        asked = await client.list_tasks(ListTasksRequest(status=INPUT_REQUIRED))
        assert [t.id for t in asked.tasks] == [waiting.id] and asked.total_size == 1
        working = await client.list_tasks(ListTasksRequest(status=WORKING))
        assert [t.id for t in working.tasks] == [holding.id] and working.total_size == 1

        answer = on_task(data_message({"approved": True, "note": "ann"}), waiting.id)
        await collect(client, answer)

        async def answered() -> bool:
            return bool((await rest_run(stack, waiting.id))["status"] == "succeeded")

        await wait_until(answered, timeout=300)
        done = await client.list_tasks(ListTasksRequest(status=COMPLETED))
        assert [t.id for t in done.tasks] == [waiting.id]
        assert (await client.list_tasks(ListTasksRequest(status=INPUT_REQUIRED))).tasks == []
        await client.cancel_task(CancelTaskRequest(id=holding.id))


async def test_an_ask_can_be_cancelled_and_is_then_forgotten(stack: Stack) -> None:
    """A2A's CancelTask on a task that is not terminal: "the updated task with cancellation
    status". An ask (input-required, no run yet) was "not found" to CancelTask though GetTask
    found it. Now it answers CANCELED, and the ask is purged (A2A: a task "already canceled
    and purged" may be not found): a later message on it starts nothing."""
    await greetings(stack)
    async with a2a_client(stack, streaming=False) as (client, _):
        asked = only_task(await collect(client, text_message("greet the person by name")))
        assert asked.status.state == INPUT_REQUIRED
        cancelled = await client.cancel_task(CancelTaskRequest(id=asked.id))
        assert (cancelled.id, cancelled.status.state) == (asked.id, TaskState.TASK_STATE_CANCELED)
        assert "cancelled by A2A client" in output_of(cancelled.status.message.parts)["text"]
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id=asked.id))
        with pytest.raises(TaskNotFoundError):
            await collect(client, on_task(text_message("the greet-casual one"), asked.id))
        listed = await client.list_tasks(ListTasksRequest())
        assert asked.id not in {task.id for task in listed.tasks}
    assert (await stack.client.get("/v1/runs")).json()["items"] == []  # nothing ran
