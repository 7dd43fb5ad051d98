"""An A2A agent that answers something MODX cannot use: the step's error says what (an answer
that is not A2A, an HTTP status, the peer's internal error, a refusal), and only what another
attempt may cure is retried. Before, an answer the SDK could not parse (a part with two
contents, a result with neither task nor message) read "the agent could not be reached" (and
logged a traceback as if MODX had a bug), a body that is not JSON blamed the step's input
(``bad_input``), an HTTP 500 read "could not be reached", and the peer's JSON-RPC internal error
was final. The peer is the a2a-sdk's card over a JSON-RPC endpoint that answers as told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fixtures.services import free_port
from tests.fixtures.stack import Stack
from tests.interop.a2a_peer import card_of

AGENT = "Tax-Helper"


def _answer(mode: str, request_id: Any) -> Response:
    def rpc(**body: Any) -> JSONResponse:
        return JSONResponse({"jsonrpc": "2.0", "id": request_id, **body})

    if mode == "not-json":
        return Response("<html>proxy error</html>", media_type="text/html")
    if mode == "two-contents":  # a part with both data and text: the SDK cannot parse it
        part = {"data": 5, "text": "x"}
        task = {"id": "t1", "status": {"state": "TASK_STATE_COMPLETED"}}
        return rpc(result={"task": {**task, "artifacts": [{"artifactId": "a", "parts": [part]}]}})
    if mode == "empty-result":
        return rpc(result={})
    if mode == "http-500":
        return Response("boom", status_code=500)
    if mode == "internal-error":
        return rpc(error={"code": -32603, "message": "the model server is down"})
    return rpc(error={"code": -32602, "message": "text: too long"})


@pytest.fixture
async def bad_peer(stack: Stack) -> AsyncIterator[dict[str, str]]:
    """The peer, registered; ``mode`` says how its JSON-RPC endpoint answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    card = json_format.MessageToDict(card_of(url, streaming=False))
    mode = {"mode": "invalid-params"}

    async def card_route(_: Request) -> Response:
        return JSONResponse(card)

    async def rpc_route(request: Request) -> Response:
        body = await request.json()
        return _answer(mode["mode"], body.get("id"))

    app = Starlette(
        routes=[
            Route("/.well-known/agent-card.json", card_route),
            Route("/rpc", rpc_route, methods=["POST"]),
        ]
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        answer = await stack.client.post(
            "/v1/agents/a2a", json={"card_url": f"{url}/.well-known/agent-card.json"}
        )
        assert answer.status_code == 201, answer.text
        yield mode
    finally:
        server.should_exit = True
        await serving


@pytest.mark.parametrize(
    ("mode", "code", "message", "attempts"),
    [
        ("not-json", "bad_answer", "the A2A agent's answer is not A2A: JSON Decode Error", 1),
        ("two-contents", "bad_answer", "the A2A agent's answer is not A2A: Failed to parse", 1),
        ("empty-result", "bad_answer", "the A2A agent's answer is not A2A: Response has", 1),
        ("http-500", "dispatch_failed", "the A2A agent answered HTTP 500", 2),
        ("internal-error", "agent_error", "the A2A agent failed: the model server is down", 2),
        ("invalid-params", "bad_input", "the A2A agent refused: text: too long", 1),
    ],
)
async def test_what_the_peer_answered_is_the_steps_error(
    stack: Stack, bad_peer: dict[str, str], mode: str, code: str, message: str, attempts: int
) -> None:
    bad_peer["mode"] = mode
    flow = {
        "name": "via-bad-peer",
        "steps": [
            {
                "id": "remote",
                "capability": f"a2a.{AGENT}.shout",
                "input": {"text": "hi"},
                "retry": {"max_attempts": 2, "backoff_s": 0.05},
            }
        ],
    }
    run = await stack.wait(await stack.submit(flow))
    assert run["status"] == "failed", run
    step = run["steps"][0]
    assert step["error"]["code"] == code, step["error"]
    assert step["error"]["message"].startswith(message), step["error"]
    assert step["attempt"] == attempts
    assert "127.0.0.1" not in step["error"]["message"]  # the peer's address stays in the log
