"""MODX's MCP server, and MODX calling an MCP server, as peers nobody on the team wrote drive
them: a tool whose input schema has references, a union and enums (passed on whole, checked
before a run is made), every protocol version the SDK speaks, a large non-ASCII answer, and
notifications that must not run anything."""

from __future__ import annotations

import json
from typing import Any

import httpx
import mcp.types as types
import pytest
from mcp.shared.version import SUPPORTED_PROTOCOL_VERSIONS

from tests.fixtures.stack import TOKEN, Stack
from tests.interop.mcp_peer import ORDER
from tests.interop.test_a2a_outsider import UNICODE, outsider
from tests.interop.test_mcp_agents import register, stdio
from tests.interop.test_mcp_server import mcp_session

HEADERS = {
    "authorization": f"Bearer {TOKEN}",
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
}


async def rpc(stack: Stack, body: Any, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
        return await http.post("/mcp", content=json.dumps(body), headers={**HEADERS, **headers})


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer of a POST, whether it came as JSON or as one SSE event."""
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        found: dict[str, Any] = json.loads(data[-1])
        return found
    found = response.json()
    return found


async def test_a_tool_with_a_rich_schema_is_passed_on_whole_and_checked(stack: Stack) -> None:
    """An MCP server's tool whose input schema uses ``$defs``/``$ref``, ``oneOf`` and enums:
    registered as a capability with that schema, listed by MODX's own MCP server unchanged,
    called through it, and a call the schema refuses names the field and makes no run."""
    response = await register(stack, "shop", stdio())
    assert response.status_code == 201, response.text
    caps = {c["name"]: c for c in (await stack.client.get("/v1/capabilities")).json()["items"]}
    assert caps["mcp.shop.quote"]["input_schema"] == ORDER
    order = {
        "lines": [
            {"item": {"sku": "tea", "note": None}, "qty": 2},
            {"item": {"sku": "cake"}, "qty": 1},
        ],
        "deliver": {"address": "1 rue de la Paix"},
    }
    async with mcp_session(stack) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert tools["mcp.shop.quote"].inputSchema == ORDER
        result = await session.call_tool("mcp.shop.quote", order)
        assert not result.isError, result
        assert result.structuredContent == {"total": 11}
        runs = len((await stack.client.get("/v1/runs")).json()["items"])
        wrong = {**order, "lines": [{"item": {"sku": "caviar"}, "qty": 1}]}
        refused = await session.call_tool("mcp.shop.quote", wrong)
        assert refused.isError
        text = refused.content[0].text  # type: ignore[union-attr]
        assert "$.input.lines[0].item.sku" in text, text
        both = {**order, "deliver": {"pickup": True, "address": "1 rue de la Paix"}}
        refused = await session.call_tool("mcp.shop.quote", both)  # oneOf: both match
        assert refused.isError and "$.input.deliver" in refused.content[0].text  # type: ignore[union-attr]
        assert len((await stack.client.get("/v1/runs")).json()["items"]) == runs


@pytest.mark.parametrize("version", SUPPORTED_PROTOCOL_VERSIONS)
async def test_every_protocol_version_the_sdk_speaks_is_answered_in_kind(
    stack: Stack, version: str
) -> None:
    """``initialize`` with each version the SDK supports is answered with that version, and
    later requests carrying it in ``MCP-Protocol-Version`` are served; an unknown version is
    answered with the latest (MCP lifecycle: the client then decides)."""
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "outsider", "version": "0"},
        },
    }
    answer = answer_of(await rpc(stack, hello))
    assert answer["result"]["protocolVersion"] == version, answer
    listed = answer_of(
        await rpc(
            stack,
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            **{"mcp-protocol-version": version},
        )
    )
    assert isinstance(listed["result"]["tools"], list), listed
    unknown = json.loads(json.dumps(hello).replace(version, "1999-01-01"))
    answer = answer_of(await rpc(stack, unknown))
    assert answer["result"]["protocolVersion"] == types.LATEST_PROTOCOL_VERSION


async def test_a_large_non_ascii_answer_comes_whole_over_mcp(stack: Stack) -> None:
    await stack.agent(outsider)
    times = 3 * 1024 * 1024 // len(UNICODE.encode())
    async with mcp_session(stack) as session:
        result = await session.call_tool("text.repeat", {"text": UNICODE, "times": times})
    assert not result.isError, str(result)[:500]
    assert result.structuredContent == {"text": UNICODE * times}


@pytest.mark.parametrize("method", ["tools/call", "notifications/frobnicated", "ping"])
async def test_a_notification_is_accepted_and_runs_nothing(stack: Stack, method: str) -> None:
    """MCP (streamable HTTP): a notification is answered 202 with no body; a request method
    sent without an id is not run."""
    await stack.agent(outsider)
    before = (await stack.client.get("/v1/runs")).json()["items"]
    params = {"name": "text.repeat", "arguments": {"text": "x", "times": 1}}
    response = await rpc(
        stack,
        {"jsonrpc": "2.0", "method": method, "params": params},
        **{"mcp-protocol-version": types.LATEST_PROTOCOL_VERSION},
    )
    assert response.status_code == 202 and response.content == b"", response.text
    assert (await stack.client.get("/v1/runs")).json()["items"] == before
