"""A tenant's gateway agents hold a bounded number of subscriptions on an API process.

Each gateway subscription is a consumer of the server's (two Redis connections of its own in
the distributed mode, out of Redis's ``maxclients``, which every tenant shares). A card may
list 500 capabilities and a tenant may register any number of agents, each with 4 connections:
nothing bounded what one tenant's agents made the server hold."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from agents.sdk.gateway import gateway_url
from bus import streams
from tests.e2e import fleet
from tests.fixtures.identity import keyed
from tests.fixtures.stack import Stack


@contextlib.asynccontextmanager
async def _agent(stack: Stack, name: str, capabilities: int) -> AsyncIterator[dict[str, Any]]:
    card = fleet.numbers.card(transport="gateway")
    entry = card["capabilities"][0]
    card["name"] = name
    card["capabilities"] = [{**entry, "name": f"{name}.c{n}"} for n in range(capabilities)]
    response = await stack.client.post("/v1/agents", json=keyed(card))
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


async def _subscribe(ws: ClientConnection, name: str, n: int) -> dict[str, Any]:
    capability = f"{name}.c{n}"
    frame = {"op": "subscribe", "ref": n, "sub": n, "stream": streams.tasks(capability)}
    await ws.send(json.dumps({**frame, "group": capability}))
    answer: dict[str, Any] = json.loads(await ws.recv())
    return answer


async def test_a_tenants_gateway_subscriptions_are_bounded(stack: Stack) -> None:
    stack.runtime.settings.gateway_subscriptions_per_tenant = 3
    async with (
        _agent(stack, "wide-a", 4) as a,
        _agent(stack, "wide-b", 4) as b,
        _open(stack, b) as ws_b,
    ):
        async with _open(stack, a) as ws_a:
            for n in range(3):
                assert (await _subscribe(ws_a, "wide-a", n))["op"] == "ok"
            refused = await _subscribe(ws_a, "wide-a", 3)
            assert refused["op"] == "error", refused
            assert "MODX_GATEWAY_SUBSCRIPTIONS_PER_TENANT" in refused["message"], refused
            # Another agent of the tenant gets none either, on any connection.
            other = await _subscribe(ws_b, "wide-b", 0)
            assert other["op"] == "error", other
            assert "3 gateway subscriptions" in other["message"], other
            # A stopped subscription is counted out.
            await ws_a.send(json.dumps({"op": "unsubscribe", "ref": 50, "sub": 0}))
            assert json.loads(await ws_a.recv())["op"] == "ok"
            assert (await _subscribe(ws_b, "wide-b", 0))["op"] == "ok"
            assert (await _subscribe(ws_b, "wide-b", 1))["op"] == "error"
        # So are a closed connection's.
        for n in range(1, 3):
            answer: dict[str, Any] = {}
            for _ in range(100):  # the server sees the close a moment after the client
                answer = await _subscribe(ws_b, "wide-b", n)
                if answer["op"] == "ok":
                    break
                assert "gateway subscriptions" in answer["message"], answer
                await asyncio.sleep(0.05)
            assert answer["op"] == "ok", answer
