"""A2A agents as MODX agents: a real A2A agent built with the a2a-sdk's server
(tests/interop/a2a_peer.py) is registered by its card URL and serves steps of MODX workflows,
streaming and not, on PostgreSQL + Redis and embedded: one skill completes, one fails, one is
cancelled with its run (one that asks for input: test_a2a_input.py). Bad card URLs and invalid
cards are a 422."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.orchestrator.remote.a2a import A2aDelivery
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import TOKEN, Stack
from tests.interop.a2a_peer import Peer, running_peer

AGENT = "Tax-Helper"  # the peer's card name, made a name
ROOT = str(Path(__file__).resolve().parents[2])


def flow(skill: str) -> dict[str, Any]:
    return {
        "name": f"via-{skill}",
        "steps": [
            {
                "id": "remote",
                "capability": f"a2a.{AGENT}.{skill}",
                "input": {"text": "$.input.text"},
            }
        ],
        "output": "$.steps.remote.output",
    }


@pytest.fixture(params=["streaming", "blocking"])
async def peer(request: pytest.FixtureRequest, stack: Stack) -> AsyncIterator[Peer]:
    """The peer, registered with the stack by its card URL."""
    async with running_peer(streaming=request.param == "streaming") as running:
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": running.card_url})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["streaming"] is (request.param == "streaming")
        assert body["endpoint"] == f"{running.url}/rpc"
        yield running


async def test_skills_become_capabilities_and_a_step_completes(stack: Stack, peer: Peer) -> None:
    agents = (await stack.client.get("/v1/agents", params={"name": AGENT})).json()
    assert len(agents) == 1 and agents[0]["transport"] == "a2a"
    assert agents[0]["location"] == f"{peer.url}/rpc" and agents[0]["status"] == "online"
    assert agents[0]["protocol"] == "A2A"
    names = {c["name"] for c in agents[0]["capabilities"]}
    assert names == {f"a2a.{AGENT}.{s}" for s in ("shout", "refuse", "ask", "hold")}
    found = (await stack.client.get("/v1/capabilities", params={"q": "capital letters"})).json()
    assert found["items"][0]["name"] == f"a2a.{AGENT}.shout"

    run = await stack.wait(await stack.submit(flow("shout"), {"text": "hello"}))
    assert run["status"] == "succeeded", run
    assert run["output"] == {"text": "HELLO"}
    assert run["steps"][0]["agent_id"] == agents[0]["agent_id"]
    assert peer.served == ["shout"]


async def test_a_failing_skill_is_a_structured_step_error(stack: Stack, peer: Peer) -> None:
    run = await stack.wait(await stack.submit(flow("refuse"), {"text": "x"}))
    assert run["status"] == "failed"
    error = run["steps"][0]["error"]
    assert error["code"] == "agent_error" and "I refuse" in error["message"]
    assert error["remote_task_id"]


async def test_cancelling_the_run_cancels_the_remote_task(stack: Stack, peer: Peer) -> None:
    run_id = await stack.submit(flow("hold"), {"text": "x"})

    async def holding() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return "hold" in peer.served and run["steps"][0]["status"] == "running"

    await wait_until(holding, timeout=300)
    assert (await stack.client.post(f"/v1/runs/{run_id}/cancel")).status_code == 202
    await wait_until(lambda: bool(peer.cancelled), timeout=300)
    assert (await stack.wait(run_id))["status"] == "cancelled"


async def test_liveness_comes_from_the_card(stack: Stack) -> None:
    delivery = stack.runtime.remote.deliveries["a2a"]
    assert isinstance(delivery, A2aDelivery)

    async def lease() -> str:
        agents = (await stack.client.get("/v1/agents", params={"name": AGENT})).json()
        return str(agents[0]["lease_expires_at"])

    async with running_peer() as running:
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": running.card_url})
        assert response.status_code == 201, response.text
        first = await lease()
        await delivery.keep_once(stack.runtime.sessions, 600.0)
        renewed = await lease()
        assert renewed > first  # the card answered: the lease is renewed
    # Read once the peer is gone (the background keeper may have renewed it until then).
    stopped = await lease()
    await delivery.keep_once(stack.runtime.sessions, 1200.0)
    assert await lease() == stopped  # the card no longer answers: no renewal


async def test_bad_card_urls_and_invalid_cards_are_a_422(stack: Stack) -> None:
    before = (await stack.client.get("/v1/agents")).json()
    dead = f"http://127.0.0.1:{free_port()}/.well-known/agent-card.json"
    cases = [
        (dead, "does not answer"),
        (f"{stack.url}/healthz", "not a valid A2A Agent Card"),
        (f"{stack.url}/no/such/card.json", "answered HTTP 404"),
        ("http://10.1.2.3/.well-known/agent-card.json", "no allowed address"),
        ("ftp://example.org/card.json", "http"),
    ]
    for url, message in cases:
        response = await stack.client.post("/v1/agents/a2a", json={"card_url": url})
        assert response.status_code == 422, (url, response.text)
        error = response.json()["error"]
        assert error["message"].startswith("$.card_url: ") and message in error["message"], error
    assert (await stack.client.get("/v1/agents")).json() == before  # nothing else changed
    refused = await stack.client.post(
        "/v1/agents", json={"name": "x", "transport": "a2a", "capabilities": [{"name": "a.b"}]}
    )
    assert refused.status_code == 422


async def test_the_cli_registers_an_a2a_agent(stack: Stack) -> None:
    env = {**os.environ, "MODX_URL": stack.url, "MODX_API_TOKEN": TOKEN, "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "services.cli.main", "agent", "add-a2a"]
    async with running_peer() as running:
        proc = await asyncio.create_subprocess_exec(
            *command,
            running.card_url,
            "--name",
            "helper",
            "--header",
            "Authorization: Bearer from-the-cli",
            "--json",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        row = json.loads(out)
        assert row["name"] == "helper" and "a2a.helper.shout" in row["capabilities"]
        assert running.authorizations[-1] == (
            "/.well-known/agent-card.json",
            "Bearer from-the-cli",
        )
        assert "from-the-cli" not in out.decode()
    dead = f"http://127.0.0.1:{free_port()}/.well-known/agent-card.json"
    bad = await asyncio.create_subprocess_exec(
        *command, dead, env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    _, err = await bad.communicate()
    first = err.decode().splitlines()[0]
    assert bad.returncode != 0 and first == "error: 422 $.card_url: the card URL does not answer"
    assert "Traceback" not in err.decode()
