"""A value the API refuses everywhere (a NUL in a string, an integer past 64 bits, a body that is
not JSON) sent to MODX's A2A or MCP endpoint is refused in that protocol's own words: a JSON-RPC
error with the request's id and the field's JSON path. The SDKs' clients then raise an
invalid-params error for that one call, and the MCP client keeps its session; a REST-shaped 422
made the A2A client raise a bare HTTP error and ended the MCP client's whole session."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    SubscribeToTaskRequest,
    TaskState,
)
from a2a.utils.errors import InvalidParamsError, TaskNotFoundError
from mcp.shared.exceptions import McpError
from mcp.types import INVALID_PARAMS, PARSE_ERROR

from tests.fixtures.stack import TOKEN, Stack
from tests.interop.test_a2a_server import a2a_client, collect, data_message, helper
from tests.interop.test_mcp_server import mcp_session

AUTH = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}


async def test_mcp_client_is_told_which_argument_and_keeps_its_session(stack: Stack) -> None:
    await stack.agent(helper)
    async with mcp_session(stack) as session:
        with pytest.raises(McpError) as refused:
            await session.call_tool("text.shout", {"text": "a\x00b"})
        assert refused.value.error.code == INVALID_PARAMS
        assert refused.value.error.data == {"path": "$.params.arguments.text", "in": "body"}
        assert "NUL" in refused.value.error.message
        with pytest.raises(McpError) as refused:
            await session.call_tool("text.shout", {"text": "ab", "n": 2**70})
        assert refused.value.error.data == {"path": "$.params.arguments.n", "in": "body"}
        result = await session.call_tool("text.shout", {"text": "ab"})  # the same session
        assert not result.isError and result.structuredContent == {"text": "AB"}


@pytest.mark.parametrize("streaming", [False, True], ids=["send", "stream"])
async def test_a2a_client_is_told_which_field(stack: Stack, streaming: bool) -> None:
    await stack.agent(helper)
    async with a2a_client(stack, streaming=streaming) as (client, _):
        request = data_message({"skill": "text.shout", "input": {"text": "a\x00b"}})
        with pytest.raises(InvalidParamsError) as refused:
            await collect(client, request)
        path = "$.params.message.parts[0].data.input.text"
        assert refused.value.data == {"path": path, "in": "body"}
        assert str(refused.value).startswith(f"{path}: NUL")


async def test_a_body_that_is_not_json_is_a_parse_error(stack: Stack) -> None:
    answer = await stack.client.post("/a2a", content=b"{bad", headers=AUTH)
    assert answer.status_code == 200  # as the a2a-sdk's dispatcher answers its own parse errors
    body = answer.json()
    assert body["id"] is None and body["error"]["code"] == -32700, body
    answer = await stack.client.post(
        "/mcp", content=b"{bad", headers={**AUTH, "accept": "application/json, text/event-stream"}
    )
    assert answer.status_code == 400  # as the MCP SDK's transport answers it
    body = answer.json()
    assert body["id"] == "server-error" and body["error"]["code"] == PARSE_ERROR, body
    # the REST API keeps its own shape
    answer = await stack.client.post("/v1/runs", content=b"{bad", headers=AUTH)
    assert answer.status_code == 422 and answer.json()["error"]["details"][0]["path"] == "$"


async def test_the_request_id_is_kept_and_a_bad_one_dropped(stack: Stack) -> None:
    call = {"jsonrpc": "2.0", "method": "GetTask", "params": {"id": "x\x00"}}
    # an id that is itself refused makes the request invalid (-32600), answered with no id
    for sent, kept, code in (("r-1", "r-1", -32602), (7, 7, -32602), ("a\x00", None, -32600)):
        answer = await stack.client.post(
            "/a2a", content=json.dumps({**call, "id": sent}), headers=AUTH
        )
        body = answer.json()
        assert body["id"] == kept and body["error"]["code"] == code, body


async def test_a_request_without_a_task_id_is_invalid_params(stack: Stack) -> None:
    async with a2a_client(stack, streaming=True) as (client, _):
        calls = (
            client.get_task(GetTaskRequest()),
            client.cancel_task(CancelTaskRequest()),
            collect_stream(client.subscribe(SubscribeToTaskRequest())),
        )
        for call in calls:
            with pytest.raises(InvalidParamsError) as refused:  # was -32001 "no task ''"
                await call
            assert refused.value.data == {"path": "$.params.id", "in": "body"}
        with pytest.raises(TaskNotFoundError):  # an id that names nothing is still not found
            await client.get_task(GetTaskRequest(id="01a24ef9-1d1a-70d6-b6cf-695bcd32a599"))


async def collect_stream(events: AsyncIterator[Any]) -> list[Any]:
    return [event async for event in events]


async def test_a_state_that_does_not_exist_is_invalid_params_not_any_state(stack: Stack) -> None:
    """The SDK's parser reads an enum value it does not know as the default: ``ListTasks`` with
    ``status: TASK_STATE_BOGUS`` listed the tasks of every state, and a number past the enum
    listed none. Both are refused, naming the field; a real state still filters."""
    await stack.agent(helper)
    async with a2a_client(stack, streaming=False) as (client, _):
        await collect(client, data_message({"skill": "text.shout", "input": {"text": "ab"}}))
        with pytest.raises(InvalidParamsError) as refused:
            await client.list_tasks(ListTasksRequest(status=99))  # type: ignore[arg-type]
        assert refused.value.data == {"path": "$.params.status", "in": "body"}
        done = await client.list_tasks(ListTasksRequest(status=TaskState.TASK_STATE_COMPLETED))
        assert len(done.tasks) == 1
        working = await client.list_tasks(ListTasksRequest(status=TaskState.TASK_STATE_WORKING))
        assert len(working.tasks) == 0
    call = {"jsonrpc": "2.0", "id": 3, "method": "ListTasks"}
    answer = await stack.client.post(
        "/a2a", json={**call, "params": {"status": "TASK_STATE_BOGUS"}}, headers=AUTH
    )
    body = answer.json()
    assert body["id"] == 3 and body["error"]["code"] == -32602, body
    assert body["error"]["message"].startswith("$.params.status: 'TASK_STATE_BOGUS' is not")
