"""MODX's MCP server against what the MCP specification asks, as an outsider's client finds it.

``/mcp`` and the browser: the streamable HTTP transport says servers "MUST validate the Origin
header on all incoming connections to prevent DNS rebinding attacks" (2025-06-18), and "if the
Origin header is present and invalid, servers MUST respond with HTTP 403 Forbidden"
(2025-11-25). Before, any Origin was served. And what the server says: its ``serverInfo``
named the MCP SDK's version, not MODX's; a tool's result broke the tool's ``outputSchema``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import mcp.types as types
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.fixtures.stack import TOKEN, Stack, running_stack
from tests.interop.test_mcp_framing import HEADERS, post
from tests.interop.test_mcp_server import mcp_session
from tests.services.test_egress import Target, serving

ALLOWED = "https://console.example"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(params=["embedded", "distributed"])
async def console_stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """MODX that allows one browser origin on ``/mcp`` (``MODX_MCP_ALLOWED_ORIGINS``)."""
    database_url = redis = None
    if request.param == "distributed":
        database_url = request.getfixturevalue("postgres_url")
        redis = request.getfixturevalue("redis_url")
    async with running_stack(
        request.param, tmp_path, database_url, redis, mcp_allowed_origins=[ALLOWED]
    ) as stack:
        yield stack


def forbidden(response: httpx.Response) -> None:
    """A 403 whose body is a JSON-RPC error with no id, as MCP allows it."""
    assert response.status_code == 403, response.text
    answer = response.json()
    assert "id" not in answer and answer["error"]["code"] == types.INVALID_REQUEST, answer
    assert answer["error"]["message"].startswith("origin: "), answer


async def test_a_browser_origin_not_allowed_is_forbidden(console_stack: Stack) -> None:
    stack = console_stack
    assert (await post(stack, PING)).status_code == 200  # no Origin (not a browser): served
    for origin in ("http://evil.example", "null", "https://console.example.evil.example"):
        forbidden(await post(stack, PING, origin=origin))
    # before the token is looked at, and on every verb ("on all incoming connections")
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        anonymous = {k: v for k, v in HEADERS.items() if k != "authorization"}
        forbidden(
            await http.post("/mcp", json=PING, headers={**anonymous, "origin": "http://e.example"})
        )
        forbidden(await http.get("/mcp", headers={**HEADERS, "origin": "http://e.example"}))
        # one bad Origin among two is bad
        both = [*HEADERS.items(), ("origin", ALLOWED), ("origin", "http://e.example")]
        forbidden(await http.post("/mcp", json=PING, headers=both))
        # before anything reads the body: a hostile one, or one past the size limit
        evil = {**HEADERS, "origin": "http://e.example"}
        hostile = {"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"x": "\u0000"}}
        forbidden(await http.post("/mcp", json=hostile, headers=evil))
        huge = b"x" * (stack.settings.max_request_bytes + 1)
        forbidden(await http.post("/mcp", content=huge, headers=evil))
    # the origin allowed (scheme and host compared without case) is served
    assert (await post(stack, PING, origin=ALLOWED)).status_code == 200
    assert (await post(stack, PING, origin="HTTPS://Console.Example")).status_code == 200


async def test_the_sdk_client_from_a_page_not_allowed_cannot_connect(stack: Stack) -> None:
    """The MCP SDK's client, sending a browser's Origin: refused at ``initialize``."""
    headers = {"authorization": f"Bearer {TOKEN}", "origin": "http://evil.example"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as http:
        with pytest.raises(Exception) as refused:
            async with (
                streamable_http_client(f"{stack.url}/mcp", http_client=http) as (read, write, _),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
    assert "403" in repr(refused.value) or "Forbidden" in repr(refused.value), refused.value


async def test_server_info_names_modx_and_its_version(stack: Stack) -> None:
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{stack.url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        hello = await session.initialize()
    version = (await stack.client.get("/openapi.json")).json()["info"]["version"]
    assert (hello.serverInfo.name, hello.serverInfo.version) == ("modx", version)


TOTAL = {"type": "object", "properties": {"total": {"type": "integer"}}, "required": ["total"]}


async def test_an_output_that_breaks_the_tools_output_schema_is_an_error(stack: Stack) -> None:
    """MCP (2025-06-18, tools): with an ``outputSchema``, "servers MUST provide structured
    results that conform to this schema". An HTTP agent that declares one and answers
    something else made MODX send that as ``structuredContent``, which the SDK's client
    refuses (it raised instead of giving the result). Now the call is a tool error naming
    what breaks the schema."""
    async with serving(Target()) as port:
        card = {
            "name": "quoter",
            "transport": "http",
            "endpoint": f"http://127.0.0.1:{port}/ok",  # answers {"fine": true}
            "capabilities": [{"name": "shop.total", "output_schema": TOTAL}],
        }
        registered = await stack.client.post("/v1/agents", json=card)
        assert registered.status_code == 201, registered.text
        async with mcp_session(stack) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert tools["shop.total"].outputSchema == TOTAL
            result = await session.call_tool("shop.total", {})
    assert result.isError and result.structuredContent is None, result
    text = result.content[0].text  # type: ignore[union-attr]
    assert "outputSchema" in text and "total" in text, text
