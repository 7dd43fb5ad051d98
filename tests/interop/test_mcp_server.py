"""MODX as an MCP server, driven by the MCP SDK's own client over streamable HTTP: the tools
are the workflows and live capabilities, a call is an ordinary run whose REST output equals the
call's ``structuredContent``, failures are ``isError``, progress is notified, tokens checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import McpError
from mcp.types import INVALID_PARAMS

from agents.legal.workflow import DEMO_CASE, SARA_TAX
from services.db.models import DEFAULT_TENANT
from services.interop.mcp_server import RUN_ID_META
from tests.e2e.test_legal import start_legal
from tests.fixtures.stack import TOKEN, Stack

pytestmark = pytest.mark.prolog


@asynccontextmanager
async def mcp_session(stack: Stack, token: str = TOKEN) -> AsyncIterator[ClientSession]:
    headers = {"authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http,
        streamable_http_client(f"{stack.url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def rest_run(stack: Stack, run_id: str) -> dict[str, Any]:
    response = await stack.client.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def test_mcp_client_lists_and_calls_workflows_and_capabilities(
    stack: Stack, swipl: str
) -> None:
    await start_legal(stack)
    assert (await stack.client.post("/v1/workflows", json=SARA_TAX)).status_code in (200, 201)
    async with mcp_session(stack) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert "workflow.sara-tax" in tools
        assert tools["workflow.sara-tax"].inputSchema["type"] == "object"
        validate = tools["legal.validate_facts"]
        assert validate.inputSchema["required"] == ["facts"]
        assert (
            validate.outputSchema is not None
            and "individuals" in validate.outputSchema["properties"]
        )

        reported: list[tuple[float, float | None]] = []

        async def noted(progress: float, total: float | None, message: str | None) -> None:
            reported.append((progress, total))

        case = {"case": DEMO_CASE.read_text(), "case_id": "demo"}
        result = await session.call_tool("workflow.sara-tax", case, progress_callback=noted)
        assert not result.isError, result.content
        assert result.meta is not None
        run = await rest_run(stack, result.meta[RUN_ID_META])
        assert run["status"] == "succeeded" and run["workflow"] == "sara-tax"
        assert result.structuredContent == run["output"]
        assert isinstance(run["output"]["answer"], int)
        assert reported and reported[-1][0] >= 1  # at least one step reported done
        listed = (await stack.client.get("/v1/runs", params={"workflow": "sara-tax"})).json()
        assert run["run_id"] in [r["run_id"] for r in listed["items"]]

        facts = next(s for s in run["steps"] if s["capability"] == "sara.parse_case")["output"]
        result = await session.call_tool("legal.validate_facts", {"facts": facts["facts"]})
        assert not result.isError, result.content
        assert result.meta is not None
        run = await rest_run(stack, result.meta[RUN_ID_META])
        assert run["status"] == "succeeded"
        assert result.structuredContent == run["output"]
        assert result.structuredContent is not None
        assert result.structuredContent["individuals"] > 0
        assert result.content[0].type == "text" and '"individuals"' in result.content[0].text

        bad = {"facts": {"individuals": [{"id": "x", "class": "NoSuchClass"}]}}
        result = await session.call_tool("legal.validate_facts", bad)
        assert result.isError
        assert result.meta is not None
        failed = await rest_run(stack, result.meta[RUN_ID_META])
        assert failed["status"] == "failed"
        assert failed["error"]["message"] in result.content[0].text  # type: ignore[union-attr]


async def test_mcp_endpoint_needs_a_token_and_an_operator_to_call(stack: Stack) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    headers = {"accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(base_url=stack.url) as http:
        missing = await http.post("/mcp", json=initialize, headers=headers)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        wrong = await http.post(
            "/mcp", json=initialize, headers={**headers, "authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
    viewer = await stack.client.post(
        "/v1/tokens",
        json={"tenant": DEFAULT_TENANT, "role": "viewer"},
        headers={"authorization": f"Bearer {stack.settings.admin_token}"},
    )
    assert viewer.status_code == 201, viewer.text
    async with mcp_session(stack, viewer.json()["token"]) as session:
        assert isinstance((await session.list_tools()).tools, list)
        result = await session.call_tool("legal.validate_facts", {"facts": {}})
        assert result.isError and "operator" in result.content[0].text  # type: ignore[union-attr]


async def test_mcp_call_with_input_the_workflow_refuses_is_an_error_naming_the_field(
    stack: Stack,
) -> None:
    workflow = {
        "name": "needs-n",
        "input_schema": {
            "type": "object",
            "required": ["n"],
            "properties": {"n": {"type": "integer"}},
        },
        "steps": [{"id": "a", "capability": "work.nobody"}],
    }
    assert (await stack.client.post("/v1/workflows", json=workflow)).status_code in (200, 201)
    async with mcp_session(stack) as session:
        result = await session.call_tool("workflow.needs-n", {"n": "two"})
        assert result.isError
        assert "$.input.n" in result.content[0].text  # type: ignore[union-attr]
    listed = (await stack.client.get("/v1/runs", params={"workflow": "needs-n"})).json()
    assert listed["items"] == []  # refused before any run was made


async def test_an_unknown_tool_is_a_protocol_error_as_mcp_asks(stack: Stack) -> None:
    """The MCP specification: an unknown tool is a JSON-RPC error (-32602), not a tool result
    with ``isError``; the session goes on."""
    async with mcp_session(stack) as session:
        for name in ("no.such.tool", "workflow.no-such-workflow"):
            with pytest.raises(McpError) as raised:
                await session.call_tool(name, {})
            assert raised.value.error.code == INVALID_PARAMS
            assert name.removeprefix("workflow.") in raised.value.error.message
        assert isinstance((await session.list_tools()).tools, list)
    assert (await stack.client.get("/v1/runs")).json()["items"] == []  # no run was made


async def test_a_cursor_the_server_never_gave_is_invalid_params(stack: Stack) -> None:
    """The MCP specification: an invalid cursor is a -32602 error. The tools come in one page,
    so any cursor is one the server never gave out; the session goes on."""
    async with mcp_session(stack) as session:
        with pytest.raises(McpError) as raised:
            await session.list_tools(cursor="bogus")
        assert raised.value.error.code == INVALID_PARAMS
        assert "cursor" in raised.value.error.message
        listed = await session.list_tools()
        assert isinstance(listed.tools, list) and listed.nextCursor is None
