"""A task's ``history`` on MODX's A2A server, read with the a2a-sdk's client: the user message
that started the run (its call: skill and input), then each answer to a ``wait`` step, in
GetTask, ListTasks and a message's own answer; ``historyLength`` keeps the most recent."""

from __future__ import annotations

from typing import Any

import pytest
from a2a.types import GetTaskRequest, ListTasksRequest, Message, Role, Task
from a2a.utils.errors import InvalidParamsError
from google.protobuf import json_format

from services.interop.translate.a2a import SIGNAL_META, output_of
from tests.fixtures.stack import Stack
from tests.interop.test_a2a_server import a2a_client, collect, data_message, helper, only_task
from tests.interop.test_a2a_server_turns import APPROVAL, COMPLETED, INPUT_REQUIRED, on_task

CALL = {"skill": "workflow.refund", "input": {"order": 7}}
ANSWER = {"approved": True, "note": "ann"}


def said(history: Any) -> list[Any]:
    """What each message of a history says (its parts, read back)."""
    return [output_of(m.parts) for m in history]


def user_messages(task: Task) -> bool:
    return all(m.role == Role.ROLE_USER and m.task_id == task.id for m in task.history)


def signal_of(message: Message) -> Any:
    return json_format.MessageToDict(message.metadata).get(SIGNAL_META)


async def test_a_task_history_holds_the_call_and_the_answers(stack: Stack) -> None:
    await stack.agent(helper)
    assert (await stack.client.post("/v1/workflows", json=APPROVAL)).status_code in (200, 201)
    async with a2a_client(stack, streaming=False) as (client, _):
        asked = only_task(await collect(client, data_message(CALL)))
        assert asked.status.state == INPUT_REQUIRED
        assert said(asked.history) == [CALL] and user_messages(asked)
        got = await client.get_task(GetTaskRequest(id=asked.id))
        assert said(got.history) == [CALL]

        answered = only_task(await collect(client, on_task(data_message(ANSWER), asked.id)))
        assert answered.status.state == COMPLETED
        assert said(answered.history) == [CALL, ANSWER] and user_messages(answered)
        assert signal_of(answered.history[1]) == "approval"

        got = await client.get_task(GetTaskRequest(id=asked.id))
        assert said(got.history) == [CALL, ANSWER]
        assert len({m.message_id for m in got.history}) == 2
        assert all(m.context_id == got.context_id for m in got.history)
        latest = await client.get_task(GetTaskRequest(id=asked.id, history_length=1))
        assert said(latest.history) == [ANSWER]
        none = await client.get_task(GetTaskRequest(id=asked.id, history_length=0))
        assert list(none.history) == [] and none.status.state == COMPLETED
        with pytest.raises(InvalidParamsError):
            await client.get_task(GetTaskRequest(id=asked.id, history_length=-1))

        # a capability's call (a one-step inline run), and a run started over REST
        shouted = only_task(
            await collect(client, data_message({"skill": "text.shout", "input": {"text": "hi"}}))
        )
        assert said(shouted.history) == [{"skill": "text.shout", "input": {"text": "hi"}}]
        inline = {"name": "rest-made", "steps": [{"id": "s", "capability": "text.shout"}]}
        rest_run = await stack.submit(inline, {"text": "yo"})
        await stack.wait(rest_run)
        assert said((await client.get_task(GetTaskRequest(id=rest_run))).history) == [
            {"text": "yo"}
        ]

        listed = {t.id: t for t in (await client.list_tasks(ListTasksRequest())).tasks}
        assert said(listed[asked.id].history) == [CALL, ANSWER]
        assert said(listed[shouted.id].history) == [
            {"skill": "text.shout", "input": {"text": "hi"}}
        ]
        assert said(listed[rest_run].history) == [{"text": "yo"}]
        short = await client.list_tasks(ListTasksRequest(history_length=1))
        assert {t.id: said(t.history) for t in short.tasks}[asked.id] == [ANSWER]
