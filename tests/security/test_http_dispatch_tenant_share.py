"""One tenant's slow HTTP agents cannot take every HTTP dispatch slot.

Deliveries to remote agents were bounded per agent (``MODX_HTTP_DISPATCH_PER_AGENT``) and in
all (``MODX_HTTP_DISPATCH_TOTAL``) only: a tenant's agents that answered slowly held every slot
while their tasks lasted, and every other tenant's HTTP tasks waited behind them. Each tenant
now has a share (``MODX_HTTP_DISPATCH_PER_TENANT``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agents.sdk import Agent, AgentSettings, TaskContext
from services.orchestrator.remote.http import HttpDelivery
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, TOKEN, Stack

SYSTEM = {"authorization": f"Bearer {ADMIN}"}


def _fan_out(capability: str, items: int) -> dict[str, Any]:
    return {
        "name": f"fan-{capability.replace('.', '-')}",
        "steps": [
            {
                "id": "each",
                "capability": capability,
                "for_each": "$.input.items",
                "input": {"i": "$.item"},
            }
        ],
    }


@contextlib.asynccontextmanager
async def _serving(stack: Stack, agent: Agent, token: str) -> AsyncIterator[None]:
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        agent.run_http(
            "127.0.0.1",
            port,
            f"http://127.0.0.1:{port}",
            settings=AgentSettings(url=stack.url, api_token=token),
            stop=stop,
            handle_signals=False,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await task


async def test_a_tenants_slow_agents_leave_other_tenants_slots(stack: Stack) -> None:
    remote = stack.runtime.remote
    remote.per_tenant, remote.total = 2, 3
    # The hog's POSTs must not end before the other tenant's run is judged: a timeout frees
    # a slot and resends, which would let a slow machine pass or fail this for the wrong reason.
    http = remote.deliveries["http"]
    assert isinstance(http, HttpDelivery)
    http.timeout_s = 3600.0
    http.client.timeout = httpx.Timeout(3600.0, connect=5.0)
    gate = asyncio.Event()
    running: list[int] = []
    most = 0
    hog = Agent("hog-http", max_concurrency=100)

    @hog.capability("test.hog")
    async def slow(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        nonlocal most
        running.append(request["i"])
        most = max(most, len(running))
        try:
            await gate.wait()
        finally:
            running.remove(request["i"])
        return {"ok": True}

    quick = Agent("quick-http")

    @quick.capability("test.quick")
    async def fast(request: dict[str, Any], ctx: TaskContext) -> dict[str, Any]:
        return {"ok": True}

    created = await stack.client.post("/v1/tenants", json={"name": "other"}, headers=SYSTEM)
    assert created.is_success, created.text
    issued = await stack.client.post(
        "/v1/tokens", json={"tenant": "other", "role": "operator"}, headers=SYSTEM
    )
    other = str(issued.json()["token"])
    as_other = {"authorization": f"Bearer {other}"}
    async with _serving(stack, hog, TOKEN), _serving(stack, quick, other):
        try:
            await stack.wait_agent("hog-http")
            hogged = await stack.submit(_fan_out("test.hog", 6), {"items": list(range(6))})
            await wait_until(lambda: len(running) >= 2)
            started = await stack.client.post(
                "/v1/runs",
                json={"workflow": _fan_out("test.quick", 2), "input": {"items": [0, 1]}},
                headers=as_other,
            )
            assert started.status_code in (200, 202), started.text
            run_id = started.json()["run_id"]

            async def finished() -> bool:
                response = await stack.client.get(
                    f"/v1/runs/{run_id}/wait", params={"timeout_s": 1}, headers=as_other
                )
                return bool(response.json()["status"] == "succeeded")

            await wait_until(finished, timeout=60)
            assert most == 2, most  # never the third slot
            assert len(running) == 2  # the hog still holds its share: not a slot freed by it
            gate.set()
            assert (await stack.wait(hogged))["status"] == "succeeded"
        finally:
            gate.set()  # the hog's agent stops only once its tasks end
