"""Agents on the gateway: tasks over the API's WebSocket, in both modes, surviving lost connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from websockets.asyncio.client import ClientConnection, connect

from agents.sdk import AgentSettings, RequestRejected
from agents.sdk.gateway import GatewayTransport, gateway_url
from bus import streams
from bus.envelope import Envelope, Kind
from bus.signing import generate_keypair
from tests.e2e import fleet
from tests.fixtures.identity import keyed
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import ADMIN, TOKEN, Stack, running_stack

ONE_SQUARE = {
    "name": "one-square",
    "steps": [{"id": "sq", "capability": "test.square", "input": {"value": 9}}],
    "output": "$.steps.sq.output.value",
}


@pytest.fixture(params=["embedded", "distributed"])
async def quick(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """MODX in both modes, with a short visibility timeout (a lost task comes back quickly)."""
    database_url = redis = None
    if request.param == "distributed":
        database_url = request.getfixturevalue("postgres_migrated_url")
        redis = request.getfixturevalue("redis_url")
    async with running_stack(
        request.param,
        tmp_path,
        database_url,
        redis,
        agent_lease_s=3.0,
        heartbeat_interval_s=0.5,
        visibility_timeout_s=2.0,
        allow_short_visibility_timeout=True,  # tasks of a closed connection come back soon
    ) as stack:
        yield stack


async def test_a_gateway_agent_serves_a_workflow_step(quick: Stack) -> None:
    # In this process, ``auto`` would reach the embedded server's bus directly; another
    # process takes the gateway by itself (test_up_agent.py).
    stop = asyncio.Event()
    settings = AgentSettings(url=quick.url, api_token=TOKEN, transport="gateway")
    running = asyncio.create_task(
        fleet.numbers.run(settings=settings, stop=stop, handle_signals=False)
    )
    try:
        agent = await _gateway_agent(quick, "numbers")
        workflow = {
            "name": "range-sum",
            "steps": [
                {"id": "range", "capability": "test.range", "input": {"n": 4}},
                {
                    "id": "sum",
                    "capability": "test.sum",
                    "input": {"values": []},
                    "after": ["range"],
                },
            ],
            "output": "$.steps.range.output.items",
        }
        run = await quick.wait(await quick.submit(workflow))
        assert run["status"] == "succeeded", run
        assert run["output"] == [0, 1, 2, 3]
        ran = {e["step"]: e["agent"] for e in fleet.executions(quick.log)}
        assert ran == {"range": agent["agent_id"], "sum": agent["agent_id"]}
    finally:
        stop.set()
        await running
    # It left cleanly: deregistered, and nothing of its connection is left on the server.
    await wait_until(lambda: _no_agent(quick, "numbers"))


async def _gateway_agent(stack: Stack, name: str) -> dict[str, Any]:
    """The online agent ``name`` once it is on the gateway."""
    found: list[dict[str, Any]] = []

    async def on_gateway() -> bool:
        nonlocal found
        response = await stack.client.get("/v1/agents", params={"name": name, "status": "online"})
        found = [a for a in response.json() if a["transport"] == "gateway"]
        return len(found) == 1

    await wait_until(on_gateway)
    return found[0]


async def _no_agent(stack: Stack, name: str) -> bool:
    response = await stack.client.get("/v1/agents", params={"name": name, "status": "online"})
    return bool(response.json() == [])


async def test_an_sdk_agent_process_registers_once(quick: Stack) -> None:
    """An SDK agent in a process of its own (transport ``auto``) registers once, so waiting
    for N agents online waits for N agents: against an embedded server, whose bus lives in
    the server's process, it asks first (``GET /v1/bus``) and registers for the gateway;
    against Redis, for the bus. (Before, against an embedded server it registered for the
    bus, found that bus out of its reach, deregistered and registered again: a task pinned to
    its name could go to the first registration, online for a moment, and wait for its lease.)"""
    before = REGISTRY.get_sample_value("modx_agents_registered_total") or 0.0
    quick.process("bus", "squares")
    [agent] = await quick.wait_agent("squares")
    run = await quick.wait(await quick.submit(ONE_SQUARE))
    assert run["status"] == "succeeded" and run["output"] == 81, run
    registered = REGISTRY.get_sample_value("modx_agents_registered_total") or 0.0
    assert registered - before == 1
    assert agent["transport"] == ("gateway" if quick.mode == "embedded" else "bus"), agent
    assert run["steps"][0]["agent_id"] == agent["agent_id"], run


async def test_a_task_on_a_killed_connection_is_redelivered(quick: Stack) -> None:
    # Two agent processes on the gateway; the one that took the task is killed mid-task (it
    # holds the task until the gate opens, after its death).
    gate = quick.tmp / "gate"
    env = {"MODX_TEST_GATE": str(gate), "MODX_AGENT_TRANSPORT": "gateway"}
    victims = [quick.process("bus", "squares", env=env) for _ in range(2)]
    await quick.wait_agent("squares", count=2)
    run_id = await quick.submit(ONE_SQUARE)
    await wait_until(lambda: fleet.executions(quick.log))
    victim = fleet.executions(quick.log)[0]["pid"]
    process = next(p for p in victims if p.pid == victim)
    process.kill()
    process.wait()
    gate.touch()

    run = await quick.wait(run_id, timeout=60)
    assert run["status"] == "succeeded" and run["output"] == 81, run
    pids = [e["pid"] for e in fleet.executions(quick.log)]
    assert pids[0] == victim and pids[-1] != victim  # the other agent ran it again


async def _ask(ws: ClientConnection, frame: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(frame))
    answer: dict[str, Any] = json.loads(await ws.recv())
    return answer


async def test_a_started_task_given_back_is_answered_by_the_agent_that_takes_it(
    quick: Stack,
) -> None:
    """A gateway agent that started a task and gives it back unanswered (``unsubscribe``
    without draining), its lease kept alive: the server announces the task released
    (``task.released``), so the agent that takes it next answers it (``step.released``, the
    same task, nothing sent again). Without the announcement, the taker's answers were
    refused (``wrong_agent``: the task was the first agent's) and the run waited."""
    card = {**fleet.squares.card(transport="gateway"), "name": "first-taker"}
    response = await quick.client.post("/v1/agents", json=keyed(card, generate_keypair()[0]))
    assert response.status_code == 201, response.text
    agent = response.json()
    auth = {"authorization": f"Bearer {agent['token']}"}

    async def heartbeats() -> None:
        while True:
            await quick.client.post(
                f"/v1/agents/{agent['agent_id']}/heartbeat", json={"in_flight": 1}, headers=auth
            )
            await asyncio.sleep(0.5)

    beating = asyncio.create_task(heartbeats())
    try:
        async with connect(
            gateway_url(quick.url, agent["agent_id"]), additional_headers=auth
        ) as ws:
            stream, group = streams.tasks("test.square"), "test.square"
            subscribe = {"op": "subscribe", "ref": 1, "sub": 1, "stream": stream, "group": group}
            assert await _ask(ws, subscribe) == {"op": "ok", "ref": 1}
            run_id = await quick.submit(ONE_SQUARE)
            frame = json.loads(await ws.recv())
            assert frame["op"] == "task", frame
            task = Envelope.model_validate(frame["envelope"])
            started = Envelope(
                kind=Kind.EVENT,
                topic=streams.TASK_STARTED,
                sender=agent["agent_id"],
                run_id=task.run_id,
                step_id=task.step_id,
                attempt=task.attempt,
                correlation_id=task.correlation_id,
                causation_id=task.id,
            )
            publish = {
                "op": "publish",
                "ref": 2,
                "stream": streams.reply_stream(task.reply_to),
                "envelope": started.model_dump(mode="json"),
            }
            assert await _ask(ws, publish) == {"op": "ok", "ref": 2}

            async def held() -> bool:
                step = (await quick.client.get(f"/v1/runs/{run_id}")).json()["steps"][0]
                return bool(step["agent_id"] == agent["agent_id"])

            await wait_until(held)
            unsubscribe = {"op": "unsubscribe", "ref": 3, "sub": 1, "drain": False}
            assert await _ask(ws, unsubscribe) == {"op": "ok", "ref": 3}
            quick.process("bus", "squares", env={"MODX_AGENT_TRANSPORT": "gateway"})
            run = await quick.wait(run_id, timeout=60)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
    assert run["status"] == "succeeded" and run["output"] == 81, run
    events = await quick.events(run_id)
    released = [e["agent_id"] for e in events if e["type"] == "step.released"]
    assert released == [agent["agent_id"]]
    assert [e for e in events if e["type"] == "step.redispatched"] == []
    ran = fleet.executions(quick.log)
    assert [e["task"] for e in ran] == [task.id], ran


async def test_a_reconnected_agent_gets_its_task_back(quick: Stack) -> None:
    # One agent, reaching the server through a proxy that drops its connection mid-task; the
    # agent connects again by itself and gets the task back. The first delivery is held until
    # the second has begun.
    gate = quick.tmp / "gate"
    os.environ["MODX_TEST_GATE"] = str(gate)
    port = int(quick.url.rsplit(":", 1)[1])
    proxy = TcpProxy("127.0.0.1", port, free_port())
    await proxy.restore()
    stop = asyncio.Event()
    settings = AgentSettings(
        url=f"http://127.0.0.1:{proxy.port}", api_token=TOKEN, transport="gateway"
    )
    running = asyncio.create_task(
        fleet.squares.run(settings=settings, stop=stop, handle_signals=False)
    )
    try:
        await quick.wait_agent("squares")
        run_id = await quick.submit(ONE_SQUARE)
        await wait_until(lambda: fleet.executions(quick.log))
        await proxy.cut()
        await proxy.restore()
        # The first delivery was given back, and came again.
        await wait_until(lambda: len(fleet.executions(quick.log)) >= 2)
        gate.touch()
        run = await quick.wait(run_id, timeout=60)
        assert run["status"] == "succeeded" and run["output"] == 81, run
    finally:
        os.environ.pop("MODX_TEST_GATE", None)
        stop.set()
        await running
        await proxy.cut()


async def test_the_gateway_refuses_bad_tokens_and_foreign_streams(quick: Stack) -> None:
    async def connect(agent_id: str, token: str) -> GatewayTransport:
        gateway = GatewayTransport(quick.url, lambda: (agent_id, token))
        await gateway.connect()
        return gateway

    with pytest.raises(RequestRejected) as refused:
        await connect("nobody", "agt_not-a-real-token-at-all")
    assert refused.value.status == 401
    # A client token is not an agent token either.
    with pytest.raises(RequestRejected) as refused:
        await connect("nobody", TOKEN)
    assert refused.value.status == 401

    # Two instances of one agent: the second proves the first's key to hold the same name.
    key = generate_keypair()[0]
    card = fleet.numbers.card(transport="gateway")
    mine = (await quick.client.post("/v1/agents", json=keyed(card, key))).json()
    other = (await quick.client.post("/v1/agents", json=keyed(card, key))).json()
    assert mine["bus_url"] is None  # a gateway agent never gets the server's bus
    with pytest.raises(RequestRejected) as refused:
        await connect(other["agent_id"], mine["token"])
    assert refused.value.status == 403

    gateway = await connect(mine["agent_id"], mine["token"])
    try:

        async def handler(envelope: object) -> None:
            raise AssertionError("never delivered")

        with pytest.raises(RequestRejected, match="neither a task stream"):
            await gateway.subscribe(streams.tasks("test.square"), "test.square", "x", handler)
        with pytest.raises(RequestRejected, match="neither a task stream"):
            await gateway.subscribe(
                streams.inbox(other["agent_id"]), other["agent_id"], "x", handler
            )
        served = await gateway.subscribe(streams.tasks("test.range"), "test.range", "x", handler)
        await served.stop()
    finally:
        await gateway.close()
        for agent in (mine, other):
            with contextlib.suppress(httpx.HTTPError):
                await quick.client.delete(
                    f"/v1/agents/{agent['agent_id']}",
                    headers={"authorization": f"Bearer {agent['token']}"},
                )


async def test_another_tenants_gateway_agent_never_reads_a_stream_that_carried_ours(
    quick: Stack,
) -> None:
    # The gateway reads a capability's task stream for its agents: one of another tenant,
    # registered under a capability name this tenant uses, would be handed the tasks the
    # stream holds (queued while our agent was away, or idle past the visibility timeout).
    card = fleet.numbers.card(transport="gateway")
    owner = (await quick.client.post("/v1/agents", json=keyed(card))).json()
    assert owner.get("inbox_only", []) == []
    system = {"authorization": f"Bearer {quick.settings.admin_token}"}
    made = await quick.client.post("/v1/tenants", json={"name": "other"}, headers=system)
    assert made.is_success, made.text
    token = await quick.client.post(
        "/v1/tokens", json={"tenant": "other", "role": "agent"}, headers=system
    )
    intruder = (
        await quick.client.post(
            "/v1/agents",
            json=keyed(card),
            headers={"authorization": f"Bearer {token.json()['token']}"},
        )
    ).json()
    assert "test.range" in intruder["inbox_only"], intruder
    gateway = GatewayTransport(quick.url, lambda: (intruder["agent_id"], intruder["token"]))
    await gateway.connect()
    try:

        async def handler(envelope: object) -> None:
            raise AssertionError("never delivered")

        with pytest.raises(RequestRejected, match="neither a task stream"):
            await gateway.subscribe(streams.tasks("test.range"), "test.range", "x", handler)
        # Its inbox it reads, and tasks of its tenant come there.
        inbox = streams.inbox(intruder["agent_id"])
        served = await gateway.subscribe(inbox, intruder["agent_id"], "x", handler)
        await served.stop()
    finally:
        await gateway.close()


async def test_a_removed_agents_open_connection_gets_no_more_tasks(quick: Stack) -> None:
    """Removing an agent (its admin deregisters it, or its lease runs out) ends its token; its
    gateway connection, opened before, must end with it. Before, the connection went on
    taking its share of the capability's tasks (their inputs) from the agents that remained,
    and those steps hung until their timeout."""
    card = keyed(
        {"name": "removed", "transport": "gateway", "capabilities": [{"name": "test.square"}]}
    )
    removed = (await quick.client.post("/v1/agents", json=card)).json()
    gateway = GatewayTransport(quick.url, lambda: (removed["agent_id"], removed["token"]))
    await gateway.connect()
    taken: list[object] = []

    async def hold(envelope: object) -> None:
        taken.append(envelope)
        await asyncio.Event().wait()  # never answers

    try:
        await gateway.subscribe(streams.tasks("test.square"), "test.square", "x", hold)
        admin = {"authorization": f"Bearer {ADMIN}"}
        gone = await quick.client.delete(f"/v1/agents/{removed['agent_id']}", headers=admin)
        assert gone.status_code == 202, gone.text
        await wait_until(lambda: _agent_gone(quick, removed["agent_id"]))
        await quick.agent(fleet.squares)
        run_ids = [await quick.submit(ONE_SQUARE) for _ in range(6)]

        async def settled() -> bool:
            if taken:
                return True
            runs = [(await quick.client.get(f"/v1/runs/{r}")).json() for r in run_ids]
            return all(run["status"] == "succeeded" for run in runs)

        await wait_until(settled, timeout=60)
        assert taken == []
    finally:
        with contextlib.suppress(Exception):
            await gateway.close()


async def test_refused_credentials_are_not_tried_again_until_they_change(quick: Stack) -> None:
    """A connection the server closes because the agent's token no longer holds is opened
    again only with new credentials. Before, the transport tried the dead token at every
    back-off: each try a failed token check, and ten of them locked every client of the
    agent's address out of the API for the rest of the throttle's window (seen in CI)."""
    card = keyed(
        {"name": "gone", "transport": "gateway", "capabilities": [{"name": "test.square"}]}
    )
    first = (await quick.client.post("/v1/agents", json=card)).json()
    credentials = [(first["agent_id"], first["token"])]
    attempts: list[tuple[str, str]] = []

    class Counting(GatewayTransport):
        async def connect(self) -> None:
            attempts.append(credentials[0])
            await super().connect()

    gateway = Counting(quick.url, lambda: credentials[0], backoff=lambda n: 0.05)
    await gateway.connect()
    try:
        admin = {"authorization": f"Bearer {ADMIN}"}
        gone = await quick.client.delete(f"/v1/agents/{first['agent_id']}", headers=admin)
        assert gone.status_code == 202, gone.text
        await wait_until(lambda: not gateway.connected)
        await asyncio.sleep(1.0)  # twenty back-offs: the old code tried the dead token in each
        assert attempts == [credentials[0]]
        again = (await quick.client.post("/v1/agents", json=keyed(card))).json()
        credentials[0] = (again["agent_id"], again["token"])
        await wait_until(lambda: gateway.connected)
        assert attempts == [(first["agent_id"], first["token"]), credentials[0]]
        assert (await quick.client.get("/v1/runs")).status_code == 200  # no lock-down
    finally:
        await gateway.close()


async def _agent_gone(stack: Stack, agent_id: str) -> bool:
    return (await stack.client.get(f"/v1/agents/{agent_id}")).status_code == 404
