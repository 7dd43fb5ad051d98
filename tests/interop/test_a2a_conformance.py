"""The A2A server against the a2a-sdk's own client, on what the A2A specification asks of
content it does not take, of push notifications it does not offer, and of its extended card."""

from __future__ import annotations

import httpx
import pytest
from a2a.client import A2ACardResolver
from a2a.types import (
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import (
    ContentTypeNotSupportedError,
    InvalidParamsError,
    PushNotificationNotSupportedError,
)
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Value

from bus.ids import new_id
from services.interop.a2a_skills import ASK
from services.interop.translate.a2a import output_of
from tests.fixtures.stack import TOKEN, Stack
from tests.interop.test_a2a_server import a2a_client, helper

HEADERS = {"authorization": f"Bearer {TOKEN}", "a2a-version": "1.0"}


async def run_count(stack: Stack) -> int:
    return len((await stack.client.get("/v1/runs")).json()["items"])


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_file_in_a_new_message_is_a_content_type_it_does_not_take(
    stack: Stack, streaming: bool
) -> None:
    """A2A: a media type in a message's parts that the agent does not take is
    ContentTypeNotSupportedError (-32005). The card takes JSON and text; a file beside a text
    was dropped unread, and the text alone ran."""
    await stack.agent(helper)
    before = await run_count(stack)
    parts = [
        Part(text="Shout this text in capital letters"),
        Part(url="https://example.com/scan.png", media_type="image/png", filename="scan.png"),
    ]
    message = Message(message_id=new_id(), role=Role.ROLE_USER, parts=parts)
    async with a2a_client(stack, streaming=streaming) as (client, card):
        assert "image/png" not in card.default_input_modes
        with pytest.raises(ContentTypeNotSupportedError, match=r"parts\[1\].*image/png"):
            async for _ in client.send_message(SendMessageRequest(message=message)):
                pass
    assert await run_count(stack) == before  # nothing ran


async def test_push_notification_configs_are_not_supported_as_the_card_says(stack: Stack) -> None:
    """The card says ``pushNotifications: false``: each of the four config methods is
    PushNotificationNotSupportedError (-32003), not a generic error."""
    async with a2a_client(stack) as (client, card):
        assert not card.capabilities.push_notifications
        calls = [
            client.create_task_push_notification_config(
                TaskPushNotificationConfig(task_id="t", url="https://example.com/hook")
            ),
            client.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id="t", id="c")
            ),
            client.list_task_push_notification_configs(
                ListTaskPushNotificationConfigsRequest(task_id="t")
            ),
            client.delete_task_push_notification_config(
                DeleteTaskPushNotificationConfigRequest(task_id="t", id="c")
            ),
        ]
        for call in calls:
            with pytest.raises(PushNotificationNotSupportedError):
                await call


async def test_the_extended_card_lists_the_tenants_skills_the_public_one_hides(
    stack: Stack,
) -> None:
    """A2A: the public card at /.well-known/agent-card.json says ``extendedAgentCard``; the
    SDK's client, authenticated, asks GetExtendedAgentCard for the full one."""
    await stack.agent(helper)
    async with httpx.AsyncClient(timeout=30) as anonymous:
        public = await A2ACardResolver(anonymous, stack.url).get_agent_card()
    assert public.capabilities.extended_agent_card
    assert [skill.id for skill in public.skills] == [ASK]
    async with a2a_client(stack) as (client, _):
        extended = await client.get_extended_agent_card(GetExtendedAgentCardRequest())
    assert "text.shout" in {skill.id for skill in extended.skills}
    assert extended.supported_interfaces[0].url == f"{stack.url}/a2a"


async def test_list_tasks_gives_artifacts_only_when_asked(stack: Stack) -> None:
    """A2A ListTasks: with ``includeArtifacts`` false (the default) each task comes without
    its artifacts; they were always sent. GetTask still has them."""
    await stack.agent(helper)
    shout = {"id": "s", "capability": "text.shout", "input": {"text": "$.input.text"}}
    flow = {"name": "w", "steps": [shout], "output": "$.steps.s.output"}
    run_id = await stack.submit(flow, {"text": "x"})
    assert (await stack.wait(run_id))["status"] == "succeeded"
    async with a2a_client(stack, streaming=False) as (client, _):
        (plain,) = (await client.list_tasks(ListTasksRequest())).tasks
        (full,) = (await client.list_tasks(ListTasksRequest(include_artifacts=True))).tasks
        got = await client.get_task(GetTaskRequest(id=run_id))
    assert plain.id == full.id == run_id
    assert len(plain.artifacts) == 0
    assert len(full.artifacts) == len(got.artifacts) == 1
    assert output_of(full.artifacts[0].parts) == {"text": "X"}


def shout_part() -> Part:
    part = Part()
    part.data.CopyFrom(
        json_format.ParseDict({"skill": "text.shout", "input": {"text": "a"}}, Value())
    )
    return part


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_message_without_what_a2a_requires_of_it_is_invalid_params(
    stack: Stack, streaming: bool
) -> None:
    """A2A's proto marks a message's ``messageId``, ``role`` and ``parts`` REQUIRED, and a
    client's message is the user's (``ROLE_USER``: "from the client to the server"); the
    server "MUST validate all input parameters before processing". A message without an id
    or a role, or in the agent's role, ran as any other."""
    await stack.agent(helper)
    before = await run_count(stack)
    wrong = {
        "$.params.message.messageId": Message(role=Role.ROLE_USER, parts=[shout_part()]),
        "$.params.message.role": Message(message_id=new_id(), parts=[shout_part()]),
        "$.params.message.parts": Message(message_id=new_id(), role=Role.ROLE_USER),
    }
    agent = Message(message_id=new_id(), role=Role.ROLE_AGENT, parts=[shout_part()])
    async with a2a_client(stack, streaming=streaming) as (client, _):
        for path, message in wrong.items():
            with pytest.raises(InvalidParamsError) as refused:
                async for _ in client.send_message(SendMessageRequest(message=message)):
                    pass
            assert refused.value.data == {"path": path, "in": "body"}, path
        with pytest.raises(InvalidParamsError, match="ROLE_USER") as refused:
            async for _ in client.send_message(SendMessageRequest(message=agent)):
                pass
        assert refused.value.data == {"path": "$.params.message.role", "in": "body"}
    call = {"jsonrpc": "2.0", "id": 4, "method": "SendMessage", "params": {}}
    answer = (await stack.client.post("/a2a", json=call, headers=HEADERS)).json()
    assert (answer["id"], answer["error"]["code"]) == (4, -32602), answer
    assert answer["error"]["message"].startswith("$.params.message: "), answer
    assert await run_count(stack) == before  # nothing ran


async def test_a_message_asking_for_push_notifications_is_refused(stack: Stack) -> None:
    """A message whose configuration asks for push notifications (a webhook) from an agent
    whose card says ``pushNotifications: false`` is PushNotificationNotSupportedError, as A2A
    names a client's attempt "to use push notification features"; it ran, and no webhook was
    ever called."""
    await stack.agent(helper)
    before = await run_count(stack)
    hook = TaskPushNotificationConfig(url="https://example.com/hook")
    message = Message(message_id=new_id(), role=Role.ROLE_USER, parts=[shout_part()])
    request = SendMessageRequest(
        message=message,
        configuration=SendMessageConfiguration(task_push_notification_config=hook),
    )
    async with a2a_client(stack, streaming=False) as (client, _):
        with pytest.raises(PushNotificationNotSupportedError):
            async for _ in client.send_message(request):
                pass
    assert await run_count(stack) == before
