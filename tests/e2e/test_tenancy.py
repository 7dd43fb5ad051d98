"""Tenants in both modes: runs reach only their own tenant's agents (or shared ones), and
workflow names, idempotency keys and discovery are per tenant."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agents.sdk import Agent, AgentSettings, TaskContext
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, TOKEN, Stack, running_stack

SYSTEM = {"authorization": f"Bearer {ADMIN}"}


class Anything(BaseModel):
    n: int = 0


class Served(BaseModel):
    agent: str


def who(name: str, capability: str, shared: bool = False) -> Agent:
    """An agent that answers with its own name."""
    agent = Agent(name, shared=shared)

    @agent.capability(capability)
    async def answer(request: Anything, ctx: TaskContext) -> Served:
        return Served(agent=name)

    return agent


async def tenant(stack: Stack, name: str) -> dict[str, str]:
    """A new tenant with an operator and an agent token."""
    created = await stack.client.post("/v1/tenants", json={"name": name}, headers=SYSTEM)
    assert created.status_code == 201, created.text
    tokens = {}
    for role in ("operator", "agent"):
        response = await stack.client.post(
            "/v1/tokens", json={"tenant": name, "role": role}, headers=SYSTEM
        )
        assert response.status_code == 201, response.text
        tokens[role] = response.json()["token"]
    return tokens


async def start(stack: Stack, agent: Agent, token: str) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """Run ``agent`` registered with ``token``, until the event is set."""
    stop = asyncio.Event()
    transport = stack.runtime.transport if stack.mode == "embedded" else None
    task = asyncio.create_task(
        agent.run(
            transport=transport,
            settings=AgentSettings(url=stack.url, api_token=token),
            stop=stop,
            handle_signals=False,
        )
    )
    return stop, task


async def online(stack: Stack, token: str, name: str) -> bool:
    response = await stack.client.get(
        "/v1/agents",
        params={"name": name, "status": "online"},
        headers={"authorization": f"Bearer {token}"},
    )
    return len(response.json()) == 1


async def submit(stack: Stack, token: str, capability: str, **extra: Any) -> str:
    workflow = {
        "name": "who",
        "steps": [{"id": "ask", "capability": capability}],
        "output": "$.steps.ask.output",
    }
    response = await stack.client.post(
        "/v1/runs",
        json={"workflow": workflow, "input": {}, **extra},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code in (200, 202), response.text
    return str(response.json()["run_id"])


async def output(stack: Stack, token: str, run_id: str) -> Any:
    response = await stack.client.get(
        f"/v1/runs/{run_id}/wait",
        params={"timeout_s": 25},
        headers={"authorization": f"Bearer {token}"},
    )
    run = response.json()
    assert run["status"] == "succeeded", run
    return run["output"]


async def test_runs_reach_only_their_tenants_agents_or_shared_ones(stack: Stack) -> None:
    beta = await tenant(stack, "beta")
    gamma = await tenant(stack, "gamma")
    running = [
        await start(stack, who("default-who", "echo.who"), TOKEN),
        await start(stack, who("beta-who", "echo.who"), beta["agent"]),
        # Registered by a system admin: shared with every tenant.
        await start(stack, who("shared-who", "echo.shared", shared=True), ADMIN),
    ]
    try:
        await stack.wait_agent("default-who")
        await stack.wait_agent("shared-who")
        await wait_until(lambda: online(stack, beta["operator"], "beta-who"), timeout=60)
        # Both tenants' agents consume echo.who: each run must reach its own tenant's.
        mine = [await submit(stack, TOKEN, "echo.who") for _ in range(4)]
        theirs = [await submit(stack, beta["operator"], "echo.who") for _ in range(4)]
        for run_id in mine:
            assert await output(stack, TOKEN, run_id) == {"agent": "default-who"}
        for run_id in theirs:
            assert await output(stack, beta["operator"], run_id) == {"agent": "beta-who"}
        # A tenant without agents of its own is served by the shared capability only.
        shared = await submit(stack, gamma["operator"], "echo.shared")
        assert await output(stack, gamma["operator"], shared) == {"agent": "shared-who"}
        found = await stack.client.get(
            "/v1/capabilities", headers={"authorization": f"Bearer {gamma['operator']}"}
        )
        assert sorted(c["name"] for c in found.json()["items"]) == ["echo.shared"]
        found = await stack.client.get("/v1/capabilities", params={"name": "echo.*"})
        served = sorted((c["name"], c["agent_name"]) for c in found.json()["items"])
        assert served == [("echo.shared", "shared-who"), ("echo.who", "default-who")]
    finally:
        for stop, _ in running:
            stop.set()
        await asyncio.gather(*(task for _, task in running), return_exceptions=True)


async def test_workflow_names_and_idempotency_keys_are_per_tenant(stack: Stack) -> None:
    beta = await tenant(stack, "beta")
    theirs = {"authorization": f"Bearer {beta['operator']}"}
    flow = {"name": "flow", "steps": [{"id": "a", "capability": "x.mine"}]}
    other = {"name": "flow", "steps": [{"id": "b", "capability": "x.theirs"}]}
    assert (await stack.client.post("/v1/workflows", json=flow)).json()["version"] == 1
    registered = await stack.client.post("/v1/workflows", json=other, headers=theirs)
    assert registered.status_code == 201 and registered.json()["version"] == 1
    mine = (await stack.client.get("/v1/workflows/flow")).json()
    assert mine["version"] == 1 and mine["definition"]["steps"][0]["id"] == "a"
    listed = (await stack.client.get("/v1/workflows", headers=theirs)).json()
    assert [(w["name"], w["definition"]["steps"][0]["id"]) for w in listed] == [("flow", "b")]

    key = {"idempotency_key": "same-key"}
    first = await submit(stack, TOKEN, "x.mine", **key)
    second = await submit(stack, beta["operator"], "x.theirs", **key)
    assert first != second
    assert await submit(stack, TOKEN, "x.mine", **key) == first
    assert await submit(stack, beta["operator"], "x.theirs", **key) == second
    assert (await stack.client.get(f"/v1/runs/{second}")).status_code == 404


async def test_discovery_embeds_in_the_callers_tenant(tmp_path: Path) -> None:
    from agents.models.embed_agent import agent as embedder

    async with running_stack("embedded", tmp_path, None, None) as stack:
        beta = await tenant(stack, "beta")
        running = [await start(stack, embedder, ADMIN)]  # a system admin's: shared
        try:
            await stack.wait_agent("embedder")
            card = {"name": "fixture", "capabilities": [{"name": "tax.compute"}]}
            await stack.client.post("/v1/agents", json=card)
            theirs = {"authorization": f"Bearer {beta['operator']}"}
            query = "which capability computes the tax owed"
            found = await stack.client.get("/v1/capabilities", params={"q": query}, headers=theirs)
            assert found.json()["ranking"] == "embedding", found.json()
            # The embedding run, with beta's query in its input, is beta's, not the default's.
            listed: dict[str, str | int] = {"workflow": "modx.discovery.embed", "limit": 50}
            mine = (await stack.client.get("/v1/runs", params=listed)).json()["items"]
            assert not [r for r in mine if query in str(r["input"])]
            own = (await stack.client.get("/v1/runs", params=listed, headers=theirs)).json()
            assert [r for r in own["items"] if query in str(r["input"])]
        finally:
            for stop, _ in running:
                stop.set()
            await asyncio.gather(*(task for _, task in running), return_exceptions=True)
