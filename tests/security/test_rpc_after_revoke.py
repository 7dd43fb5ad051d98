"""A blocking A2A ``SendMessage`` or MCP ``tools/call`` whose token is revoked while it waits is
not sent the run's result.

Both wait for the run they start to end, as ``GET /v1/runs/{id}/wait`` does, and answered it
whatever happened to the token meanwhile: the A2A stream stopped its updates, but the blocking
call then read the task and sent it (output included); the MCP call sent the output. The
token's next request was already a ``401``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from agents.sdk import Agent
from bus.ids import new_id
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack

ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}
SECRET = "s3cr3t-output"
# A run that stays running (not waiting for input) until the test lets its one step answer.
HELD = {
    "name": "held",
    "steps": [{"id": "go", "capability": "test.held", "input": {}}],
    "output": "$.steps.go.output",
}


async def _holding_agent(stack: Stack) -> asyncio.Event:
    """An agent serving ``test.held``: it answers the secret once the event is set."""
    release = asyncio.Event()
    agent = Agent("held-agent")

    @agent.capability("test.held")
    async def held(request: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"secret": SECRET}

    await stack.agent(agent)
    await stack.wait_agent("held-agent")
    assert (await stack.client.post("/v1/workflows", json=HELD)).status_code in (200, 201)
    return release


async def _operator(stack: Stack) -> tuple[str, str]:
    """A fresh operator token of the default tenant: (its id, the token)."""
    issued = await stack.client.post(
        "/v1/tokens", json={"tenant": "default", "role": "operator"}, headers=ADMIN_HEADERS
    )
    assert issued.status_code == 201, issued.text
    return issued.json()["id"], issued.json()["token"]


async def _revoke_then_finish(
    stack: Stack, token_id: str, release: asyncio.Event, how: str = "revoke"
) -> None:
    """Once the call's run runs: revoke the token (or rotate it: the old secret stops as
    surely), then let the run end with the secret."""
    runs: list[dict[str, Any]] = []

    async def started() -> bool:
        nonlocal runs
        found = await stack.client.get("/v1/runs", params={"workflow": "held"})
        runs = found.json()["items"]
        return bool(runs) and runs[0]["status"] == "running"

    await wait_until(started, timeout=60)
    # The call passed its token check (its run exists); give it a moment to start waiting.
    await asyncio.sleep(0.5)
    if how == "rotate":
        path = f"/v1/tokens/{token_id}/rotate"
        revoked = await stack.client.post(path, headers=ADMIN_HEADERS)
    else:
        revoked = await stack.client.delete(f"/v1/tokens/{token_id}", headers=ADMIN_HEADERS)
    assert revoked.status_code in (200, 201), revoked.text
    release.set()
    done = await stack.wait(runs[0]["run_id"])
    assert done["status"] == "succeeded" and done["output"] == {"secret": SECRET}, done


@pytest.mark.parametrize("how", ["revoke", "rotate"])
async def test_a_blocking_a2a_send_whose_token_was_revoked_is_not_answered(
    stack: Stack, how: str
) -> None:
    release = await _holding_agent(stack)
    token_id, token = await _operator(stack)
    part = {"data": {"skill": "workflow.held", "input": {}}}
    message = {"messageId": new_id(), "role": "ROLE_USER", "parts": [part]}
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    headers = {
        "authorization": f"Bearer {token}",
        "content-type": "application/json",
        "a2a-version": "1.0",
    }
    async with httpx.AsyncClient(base_url=stack.url, timeout=120) as http:
        sending = asyncio.create_task(http.post("/a2a", content=json.dumps(body), headers=headers))
        await _revoke_then_finish(stack, token_id, release, how)
        answer = await sending
    assert SECRET not in answer.text  # before: the task, with its artifact
    assert answer.status_code == 401, answer.text  # as the token's next request


@pytest.mark.parametrize("how", ["revoke", "rotate"])
async def test_an_mcp_tool_call_whose_token_was_revoked_is_not_answered(
    stack: Stack, how: str
) -> None:
    release = await _holding_agent(stack)
    token_id, token = await _operator(stack)
    # Raw JSON-RPC: the SDK's client follows a call's answer with tools/list (to check the
    # output's schema), which the revoked token cannot make.
    headers = {
        "authorization": f"Bearer {token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
    }
    initialize = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "workflow.held", "arguments": {}},
    }
    async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=120) as http:
        opened = await http.post("/mcp", json=initialize)
        assert opened.status_code == 200, opened.text
        calling = asyncio.create_task(http.post("/mcp", json=call))  # stateless: no session
        await _revoke_then_finish(stack, token_id, release, how)
        answer = await calling
    assert SECRET not in answer.text, answer.text  # before: the run's output
    assert "revoked" in answer.text, answer.text
