"""An agent's token cannot make the gateway hold server resources without end, in both modes.

Each gateway subscription costs the server a consumer (two Redis connections of its own in the
distributed mode). The agent's streams were checked, but the same stream could be subscribed
again under any number of ``sub`` ids, and any number of connections opened: one agent token
held 2 x N Redis connections of the server, and Redis's ``maxclients`` is shared by every
tenant."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from agents.sdk.gateway import gateway_url
from bus import streams
from bus.signing import generate_keypair
from tests.e2e import fleet
from tests.fixtures.identity import keyed
from tests.fixtures.stack import Stack


@contextlib.asynccontextmanager
async def _agent(stack: Stack) -> AsyncIterator[dict[str, Any]]:
    card = fleet.numbers.card(transport="gateway")
    response = await stack.client.post("/v1/agents", json=keyed(card, generate_keypair()[0]))
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    try:
        yield agent
    finally:
        await stack.client.delete(
            f"/v1/agents/{agent['agent_id']}",
            headers={"authorization": f"Bearer {agent['token']}"},
        )


def _open(stack: Stack, agent: dict[str, Any]) -> Any:
    return connect(
        gateway_url(stack.url, agent["agent_id"]),
        additional_headers={"authorization": f"Bearer {agent['token']}"},
    )


async def _ask(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(frame))
    answer: dict[str, Any] = json.loads(await ws.recv())
    return answer


async def test_a_stream_is_subscribed_once_per_connection(stack: Stack) -> None:
    async with _agent(stack) as agent, _open(stack, agent) as ws:
        stream = streams.tasks("test.range")
        frame = {"op": "subscribe", "stream": stream, "group": "test.range"}
        first = await _ask(ws, {**frame, "ref": 1, "sub": 1})
        assert first == {"op": "ok", "ref": 1}, first
        again = [await _ask(ws, {**frame, "ref": n, "sub": n}) for n in range(2, 6)]
        assert [a["op"] for a in again] == ["error"] * 4, again
        assert "already subscribed" in again[0]["message"], again[0]
        # Once stopped, it may be subscribed again.
        assert (await _ask(ws, {"op": "unsubscribe", "ref": 9, "sub": 1}))["op"] == "ok"
        back = await _ask(ws, {**frame, "ref": 10, "sub": 10})
        assert back == {"op": "ok", "ref": 10}, back


async def test_an_agent_holds_a_bounded_number_of_connections(stack: Stack) -> None:
    limit = stack.runtime.settings.gateway_connections_per_agent
    async with _agent(stack) as agent:
        async with contextlib.AsyncExitStack() as held:
            for n in range(limit):
                ws = await held.enter_async_context(_open(stack, agent))
                assert (await _ask(ws, {"op": "ping", "ref": n}))["op"] == "ok"
            extra = await held.enter_async_context(_open(stack, agent))
            with pytest.raises(ConnectionClosed):
                await _ask(extra, {"op": "ping", "ref": 99})
            assert extra.close_code == 4429, (extra.close_code, extra.close_reason)
            assert "connections open" in (extra.close_reason or "")
        # Closed connections are counted out: the agent connects again.
        async with _open(stack, agent) as ws:
            assert (await _ask(ws, {"op": "ping", "ref": 1}))["op"] == "ok"
