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
    SendMessageRequest,
    TaskPushNotificationConfig,
)
from a2a.utils.errors import ContentTypeNotSupportedError, PushNotificationNotSupportedError

from bus.ids import new_id
from services.interop.a2a_skills import ASK
from services.interop.translate.a2a import output_of
from tests.fixtures.stack import Stack
from tests.interop.test_a2a_server import a2a_client, helper


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
