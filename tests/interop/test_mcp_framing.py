"""JSON-RPC framing at ``/mcp`` as a client nobody on the team wrote would send it: each
malformed message gets the JSON-RPC 2.0 error for what is wrong (section 5.1), with the
request's id when it can be read, and the MCP SDK's own client keeps its session around
them. Before, the SDK's transport answered all of them ``-32602`` with a pydantic dump (an
unknown method included), dropped a request with a null id unanswered (HTTP 202), held a GET
open on a stream nothing could be sent on, and answered a wrong content type in plain text."""

from __future__ import annotations

import json
from typing import Any

import httpx
import mcp.types as types
import pytest

from tests.fixtures.stack import TOKEN, Stack
from tests.interop.test_mcp_server import mcp_session

HEADERS = {
    "authorization": f"Bearer {TOKEN}",
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": types.LATEST_PROTOCOL_VERSION,
}


async def post(stack: Stack, body: Any, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        return await http.post("/mcp", content=json.dumps(body), headers={**HEADERS, **headers})


def error_of(response: httpx.Response) -> tuple[Any, int, str]:
    """(id, code, message) of a JSON-RPC error answered as JSON."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    answer = response.json()
    return answer["id"], answer["error"]["code"], answer["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        # JSON-RPC 2.0, 5.1: a method that does not exist is -32601 (the SDK said -32602)
        ({"jsonrpc": "2.0", "id": 7, "method": "tools/frobnicate"}, 200, (7, -32601, "tools/")),
        # not a Request object: -32600, with the id when it can be read (5)
        ({"jsonrpc": "1.0", "id": 8, "method": "ping"}, 200, (8, -32600, "jsonrpc")),
        ({"jsonrpc": "2.0", "id": "a", "method": 5}, 200, ("a", -32600, "method")),
        # MCP: a request's id is a string or an integer, never null (was dropped, HTTP 202)
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, 400, (None, -32600, "id")),
        ({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}, 400, (None, -32600, "id")),
        # MCP 2025-06-18 removed batches: -32600, not -32602 with a validation dump
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], 400, (None, -32600, "batch")),
        (5, 400, (None, -32600, "object")),
        # params the method does not take: -32602 naming the field (the SDK named none)
        (
            {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"arguments": {}}},
            200,
            (9, -32602, "$.params.name"),
        ),
        (
            {"jsonrpc": "2.0", "id": 10, "method": "tools/list", "params": [1]},
            200,
            (10, -32602, "$.params"),
        ),
    ],
)
async def test_malformed_messages_get_the_json_rpc_error_for_what_is_wrong(
    stack: Stack, body: Any, status: int, expected: tuple[Any, int, str]
) -> None:
    response = await post(stack, body)
    assert response.status_code == status, response.text
    found_id, code, message = error_of(response)
    want_id, want_code, names = expected
    assert (found_id if want_id is not None else None, code) == (want_id, want_code)
    assert names in message


async def test_the_sdk_client_keeps_its_session_and_other_verbs_are_405(stack: Stack) -> None:
    async with mcp_session(stack) as session:
        refused = await post(stack, {"jsonrpc": "2.0", "id": 3, "method": "nope"})
        assert error_of(refused)[1] == types.METHOD_NOT_FOUND
        assert isinstance((await session.list_tools()).tools, list)
        assert isinstance(await session.send_ping(), types.EmptyResult)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        # MCP transports: a server without a stream of its own messages answers GET 405 (it
        # held one open for ever); stateless, no session to DELETE. HTTP: 405 says Allow.
        for verb in ("GET", "DELETE"):
            answered = await http.request(verb, "/mcp", headers=HEADERS)
            assert (answered.status_code, answered.headers.get("allow")) == (405, "POST")
        wrong = await http.post(
            "/mcp",
            content=b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
            headers={**HEADERS, "content-type": "text/plain"},
        )
    assert wrong.status_code == 415
    assert error_of(wrong)[1:] == (types.INVALID_REQUEST, "content-type: must be application/json")
